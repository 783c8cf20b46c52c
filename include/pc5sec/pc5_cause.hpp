// PC5 signalling protocol cause values (TS 24.554 Table 11.3.8.1), as the link engines send
// them in a reject or release. The one place these numbers are written: every room below the
// codec (crypto, creds) uses them directly, and the codec's code-point table (code_points.hpp,
// with names, status and source for docs and the dissector) is built from them.
//
// Status of every value: code-only — read in the ns-3 ProSe model, which cites TS 24.554
// Table 11.3.8.1 (shared/reference/3gpp-facts.md §3). Not yet checked against the spec text.
#pragma once

#include <cstdint>

namespace pc5sec::cause {

// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kDirectCommunicationToTargetUeNotAllowed = 1;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kDirectCommunicationToTargetUeNoLongerNeeded = 2;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kConflictOfLayer2Id = 3;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kDirectConnectionNotAvailableAnymore = 4;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kLackOfResourcesForPc5UnicastLink = 5;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kAuthenticationFailure = 6;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kIntegrityFailure = 7;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kUeSecurityCapabilitiesMismatch = 8;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kLsbOfKnrpSessIdConflict = 9;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kSignallingSecurityPolicyMismatch = 10;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kRequiredServiceNotAllowed = 11;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kSecurityPolicyNotAligned = 12;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kCongestionSituation = 13;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kAuthenticationSynchronisationError = 14;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1 (3gpp-facts §8): pc5sec's UE-to-UE relays do
// not send it (it names the UE-to-network relay); the codec and the dissectors know it.
inline constexpr std::uint8_t kSecurityProcedureFailureOfU2nRelay = 15;
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kProtocolErrorUnspecified = 111;

}  // namespace pc5sec::cause
