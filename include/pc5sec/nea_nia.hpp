/// @file
/// 128-NEA1/2/3 and 128-NIA1/2/3 (TS 33.501 Annex D, = 128-EEA/EIA of TS 33.401 Annex B) and
/// the null algorithms, with LENGTH in bits.
///
/// A context holds one KEY with its key schedule for one algorithm and one backend. Build it once
/// per key (NRPEK/NRPIK install) and use it for every PDU. A context is used by one thread at a
/// time; the key schedule is wiped when the context is destroyed.
///
/// Output convention: bits of the last output byte past LENGTH are set to zero.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/keys.hpp"

namespace pc5sec {

/// Which implementation runs the algorithm.
enum class Backend : std::uint8_t {
    ipsec_mb,  ///< Intel ipsec-mb (default; all algorithms; any length up to kMaxPduBits)
    openssl,   ///< OpenSSL 3 EVP, NEA2/NIA2 only (a second, independent implementation)
    reference  ///< pc5sec's portable ZUC, NEA3/NIA3 only (used by ipsec_mb past its 8188-byte
               ///< limit)
};
/// The backend's name.
std::string_view name(Backend b) noexcept;

/// The largest PDU the algorithms accept, in bytes: PDCP SDUs go up to 9000 bytes (TS 38.323
/// 4.3.1).
inline constexpr std::uint64_t kMaxPduBytes = 9000 + 64;
/// The largest PDU the algorithms accept, in bits.
inline constexpr std::uint64_t kMaxPduBits = kMaxPduBytes * 8;

using MacI = std::array<std::uint8_t, 4>;  ///< 32-bit MAC-I, first transmitted octet first

/// A CipheringContext's key schedule (opaque).
struct CipherState;
/// An IntegrityContext's key schedule (opaque).
struct IntegrityState;
/// Destroys a context's key schedule.
struct StateDeleter {
    /// Destroys `s`.
    void operator()(CipherState* s) const noexcept;
    /// Destroys `s`.
    void operator()(IntegrityState* s) const noexcept;
};

/// One ciphering KEY with its key schedule for one algorithm and one backend.
class CipheringContext {
  public:
    /// A context for `alg` with `key` on `backend`.
    /// Errors: KEY not 128 bits ("key"), an algorithm the backend does not offer ("backend").
    static Result<CipheringContext> create(CipheringAlgorithm alg,
                                           std::span<const std::uint8_t> key,
                                           Backend backend = Backend::ipsec_mb);
    /// A context for `alg` with an NRPEK on `backend`.
    static Result<CipheringContext> create(CipheringAlgorithm alg, const Nrpek& key,
                                           Backend backend = Backend::ipsec_mb) {
        return create(alg, key.reveal(), backend);
    }

    /// Ciphers (or deciphers: NEA is its own inverse) LENGTH bits of `in` into `out`.
    /// `in` and `out` may be the same buffer. Errors name "bearer", "direction", "length"
    /// (longer than the data, or past kMaxPduBits) or "output".
    Status apply(const SecurityInput& input, std::span<const std::uint8_t> in,
                 std::span<std::uint8_t> out, std::uint64_t length_bits) const;

    /// The algorithm.
    CipheringAlgorithm algorithm() const noexcept { return alg_; }
    /// The backend.
    Backend backend() const noexcept { return backend_; }

  private:
    CipheringContext(CipheringAlgorithm a, Backend b, std::unique_ptr<CipherState, StateDeleter> s)
        : alg_(a), backend_(b), state_(std::move(s)) {}
    friend struct BurstAccess;
    CipheringAlgorithm alg_;
    Backend backend_;
    std::unique_ptr<CipherState, StateDeleter> state_;
};

/// One integrity KEY with its key schedule for one algorithm and one backend.
class IntegrityContext {
  public:
    /// A context for `alg` with `key` on `backend`.
    /// Errors: KEY not 128 bits ("key"), an algorithm the backend does not offer ("backend").
    static Result<IntegrityContext> create(IntegrityAlgorithm alg,
                                           std::span<const std::uint8_t> key,
                                           Backend backend = Backend::ipsec_mb);
    /// A context for `alg` with an NRPIK on `backend`.
    static Result<IntegrityContext> create(IntegrityAlgorithm alg, const Nrpik& key,
                                           Backend backend = Backend::ipsec_mb) {
        return create(alg, key.reveal(), backend);
    }

    /// MAC-I over LENGTH bits of `message`. NIA0 gives 32 zero bits (TS 33.501 D.1).
    Result<MacI> compute(const SecurityInput& input, std::span<const std::uint8_t> message,
                         std::uint64_t length_bits) const;
    /// Computes and compares in constant time; Errc::verification_failed names "MAC-I".
    Status verify(const SecurityInput& input, std::span<const std::uint8_t> message,
                  std::uint64_t length_bits, const MacI& mac) const;

    /// The algorithm.
    IntegrityAlgorithm algorithm() const noexcept { return alg_; }
    /// The backend.
    Backend backend() const noexcept { return backend_; }

  private:
    IntegrityContext(IntegrityAlgorithm a, Backend b,
                     std::unique_ptr<IntegrityState, StateDeleter> s)
        : alg_(a), backend_(b), state_(std::move(s)) {}
    friend struct BurstAccess;
    IntegrityAlgorithm alg_;
    Backend backend_;
    std::unique_ptr<IntegrityState, StateDeleter> state_;
};

// --- Bursts: many PDUs in one call, through ipsec-mb's multi-buffer job API. ---
// Every job is validated before any is run: a bad job fails the whole call and nothing is
// written. Jobs may use different contexts and algorithms. Contexts with another backend are
// run one at a time.

/// One PDU of a cipher_burst(): CipheringContext::apply() of `length_bits` of `in` into `out`.
struct CipherJob {
    const CipheringContext* context = nullptr;  ///< the key and algorithm
    SecurityInput input;                        ///< COUNT, BEARER, DIRECTION
    const std::uint8_t* in = nullptr;           ///< the input
    std::uint8_t* out = nullptr;                ///< the output; may equal `in`
    std::uint64_t length_bits = 0;              ///< LENGTH, in bits
    std::size_t in_size = 0;                    ///< bytes available at `in`
    std::size_t out_size = 0;                   ///< bytes available at `out`
};

/// One PDU of an integrity_burst(): IntegrityContext::compute() of the MAC-I over `length_bits`
/// of `message` into `mac`.
struct IntegrityJob {
    const IntegrityContext* context = nullptr;  ///< the key and algorithm
    SecurityInput input;                        ///< COUNT, BEARER, DIRECTION
    const std::uint8_t* message = nullptr;      ///< the message
    std::uint64_t length_bits = 0;              ///< LENGTH, in bits
    std::size_t message_size = 0;               ///< bytes available at `message`
    MacI mac{};                                 ///< output
    /// 128-NIA2 hashes `COUNT||BEARER||DIRECTION||0^26` before the message (TS 33.401 B.2.3).
    /// With headroom = true the caller grants the 8 octets just before `message` (they belong to
    /// no other job of the burst): pc5sec writes the prefix there, and restores the octets before
    /// the call returns, instead of copying the message. The user plane lays PDUs out this way.
    bool headroom = false;
};

/// Bursts: many PDUs in one call, through ipsec-mb's multi-buffer job API. Every job is
/// validated before any is run: a bad job fails the whole call and nothing is written. Jobs may
/// use different contexts and algorithms. Contexts with another backend are run one at a time.
/// Errors name the job ("jobs[3].length") that was at fault.
Status cipher_burst(std::span<CipherJob> jobs);
/// The integrity bursts: as cipher_burst(). Errors name the job ("jobs[3].length") that was at
/// fault.
Status integrity_burst(std::span<IntegrityJob> jobs);

}  // namespace pc5sec
