// PC5 signalling protocol cause values (TS 24.554 Table 11.3.8.1), as the link engines send
// them in a reject or release. Self-contained so that it can be merged into the codec's single
// code-point table later.
//
// Status of every value: code-only — read in the ns-3 ProSe model, which cites TS 24.554
// Table 11.3.8.1 (shared/reference/3gpp-facts.md §3). Not yet checked against the spec text.
#pragma once

#include <cstdint>
#include <string_view>

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
// code-only, ns-3 citing TS 24.554 Table 11.3.8.1
inline constexpr std::uint8_t kProtocolErrorUnspecified = 111;

// A short English name for a cause value ("authentication failure"), or "unknown cause".
constexpr std::string_view name(std::uint8_t value) noexcept {
    switch (value) {
        case 1:
            return "direct communication to the target UE not allowed";
        case 2:
            return "direct communication to the target UE no longer needed";
        case 3:
            return "conflict of layer-2 ID for unicast communication is detected";
        case 4:
            return "direct connection is not available anymore";
        case 5:
            return "lack of resources for PC5 unicast link";
        case 6:
            return "authentication failure";
        case 7:
            return "integrity failure";
        case 8:
            return "UE security capabilities mismatch";
        case 9:
            return "LSB of KNRP-sess ID conflict";
        case 10:
            return "UE PC5 unicast signalling security policy mismatch";
        case 11:
            return "required service not allowed";
        case 12:
            return "security policy not aligned";
        case 13:
            return "congestion situation";
        case 14:
            return "authentication synchronisation error";
        case 111:
            return "protocol error, unspecified";
        default:
            return "unknown cause";
    }
}

}  // namespace pc5sec::cause
