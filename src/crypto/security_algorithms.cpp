// Algorithm identities, input validation, the NEA/NIA contexts and the burst interface.
#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "backend.hpp"
#include "pc5sec/algorithms.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec {

Result<CipheringAlgorithm> ciphering_algorithm_from_id(std::uint64_t id, std::string_view field) {
    if (id > 3)
        return make_error(Errc::unsupported, std::string(field),
                          fmt::format("unknown ciphering algorithm {} (known: 0=NEA0, 1=128-NEA1, "
                                      "2=128-NEA2, 3=128-NEA3)",
                                      id));
    return static_cast<CipheringAlgorithm>(id);
}

Result<IntegrityAlgorithm> integrity_algorithm_from_id(std::uint64_t id, std::string_view field) {
    if (id > 3)
        return make_error(Errc::unsupported, std::string(field),
                          fmt::format("unknown integrity algorithm {} (known: 0=NIA0, 1=128-NIA1, "
                                      "2=128-NIA2, 3=128-NIA3)",
                                      id));
    return static_cast<IntegrityAlgorithm>(id);
}

std::string_view name(CipheringAlgorithm a) noexcept {
    switch (a) {
        case CipheringAlgorithm::nea0:
            return "NEA0";
        case CipheringAlgorithm::nea1:
            return "128-NEA1";
        case CipheringAlgorithm::nea2:
            return "128-NEA2";
        case CipheringAlgorithm::nea3:
            return "128-NEA3";
    }
    return "?";
}

std::string_view name(IntegrityAlgorithm a) noexcept {
    switch (a) {
        case IntegrityAlgorithm::nia0:
            return "NIA0";
        case IntegrityAlgorithm::nia1:
            return "128-NIA1";
        case IntegrityAlgorithm::nia2:
            return "128-NIA2";
        case IntegrityAlgorithm::nia3:
            return "128-NIA3";
    }
    return "?";
}

std::string_view name(Backend b) noexcept {
    switch (b) {
        case Backend::ipsec_mb:
            return "ipsec-mb";
        case Backend::openssl:
            return "openssl";
        case Backend::reference:
            return "reference";
    }
    return "?";
}

Status validate(const SecurityInput& in) {
    // BEARER is 5 bits and DIRECTION 1 bit (TS 33.501 D.2.1.1).
    if (in.bearer > 31)
        return make_error(Errc::invalid_argument, "bearer",
                          fmt::format("BEARER is 5 bits (0..31), got {}", in.bearer));
    if (in.direction > 1)
        return make_error(Errc::invalid_argument, "direction",
                          fmt::format("DIRECTION is 1 bit (0 or 1), got {}", in.direction));
    return {};
}

namespace {

Status validate_lengths(std::uint64_t length_bits, std::size_t in_size, std::size_t out_size,
                        bool has_output) {
    if (length_bits > kMaxPduBits)
        return make_error(Errc::invalid_argument, "length",
                          fmt::format("LENGTH {} bits is past the largest PDU ({} bits)",
                                      length_bits, kMaxPduBits));
    const std::size_t need = bytes_for_bits(length_bits);
    if (need > in_size)
        return make_error(Errc::invalid_argument, "length",
                          fmt::format("LENGTH {} bits is longer than the data ({} bytes = {} bits)",
                                      length_bits, in_size, in_size * std::uint64_t{8}));
    if (has_output && need > out_size)
        return make_error(Errc::invalid_argument, "output",
                          fmt::format("output has {} bytes, {} needed", out_size, need));
    return {};
}

// 128-NIA1 (SNOW 3G f9) is defined for LENGTH >= 1 (TS 35.215 4.4); ipsec-mb refuses 0.
Status check_integrity_length(IntegrityAlgorithm alg, std::uint64_t bits) {
    if (alg == IntegrityAlgorithm::nia1 && bits == 0)
        return make_error(Errc::invalid_argument, "length",
                          "128-NIA1 needs LENGTH of at least 1 bit");
    return {};
}

Status check_key(std::span<const std::uint8_t> key) {
    if (key.size() != 16)
        return make_error(Errc::invalid_argument, "key",
                          fmt::format("KEY must be 128 bits (16 bytes), got {} bytes", key.size()));
    return {};
}

bool offered(Backend b, CipheringAlgorithm a) {
    if (a == CipheringAlgorithm::nea0 || b == Backend::ipsec_mb) return true;
    return (b == Backend::openssl && a == CipheringAlgorithm::nea2) ||
           (b == Backend::reference && a == CipheringAlgorithm::nea3);
}
bool offered(Backend b, IntegrityAlgorithm a) {
    if (a == IntegrityAlgorithm::nia0 || b == Backend::ipsec_mb) return true;
    return (b == Backend::openssl && a == IntegrityAlgorithm::nia2) ||
           (b == Backend::reference && a == IntegrityAlgorithm::nia3);
}

// Runs one PDU on whatever backend the state names. Inputs are already validated.
bool run_cipher(const CipherState& s, const SecurityInput& in, const std::uint8_t* src,
                std::uint8_t* dst, std::uint64_t length_bits) {
    const std::size_t bytes = bytes_for_bits(length_bits);
    if (bytes == 0) return true;              // nothing to cipher
    if (s.alg == CipheringAlgorithm::nea0) {  // NEA0: the output is the input (TS 33.501 D.1)
        if (dst != src) std::memmove(dst, src, bytes);
        clear_trailing_bits(dst, length_bits);
        return true;
    }
    switch (s.backend) {
        case Backend::ipsec_mb:
            if (ipsecmb_takes(s.alg, length_bits))
                return ipsecmb_cipher(s, in, src, dst, length_bits);
            zuc_eea3(s.key, in, src, dst, length_bits);  // ZUC past ipsec-mb's limit
            return true;
        case Backend::openssl:
            return openssl_cipher(s, in, src, dst, length_bits);
        case Backend::reference:
            zuc_eea3(s.key, in, src, dst, length_bits);
            return true;
    }
    return false;
}

bool run_mac(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
             std::uint64_t length_bits, MacI& mac) {
    if (s.alg == IntegrityAlgorithm::nia0) {  // NIA0: a 32-bit all-zero MAC (TS 33.501 D.1)
        mac = MacI{};
        return true;
    }
    switch (s.backend) {
        case Backend::ipsec_mb:
            if (ipsecmb_takes(s.alg, length_bits)) return ipsecmb_mac(s, in, msg, length_bits, mac);
            switch (s.alg) {  // past ipsec-mb's limits, or LENGTH 0
                case IntegrityAlgorithm::nia2:
                    return nia2_cmac_bits(s, in, msg, length_bits, mac);
                case IntegrityAlgorithm::nia3:
                    mac = zuc_eia3(s.key, in, msg, length_bits);
                    return true;
                default:
                    return false;
            }
        case Backend::openssl:
            return openssl_mac(s, in, msg, length_bits, mac);
        case Backend::reference:
            mac = zuc_eia3(s.key, in, msg, length_bits);
            return true;
    }
    return false;
}

}  // namespace

void StateDeleter::operator()(CipherState* s) const noexcept {
    openssl_release(*s);
    detail::secure_wipe(s, sizeof(*s));
    delete s;
}
void StateDeleter::operator()(IntegrityState* s) const noexcept {
    openssl_release(*s);
    detail::secure_wipe(s, sizeof(*s));
    delete s;
}

Result<CipheringContext> CipheringContext::create(CipheringAlgorithm alg,
                                                  std::span<const std::uint8_t> key,
                                                  Backend backend) {
    PC5SEC_TRY(check_key(key));
    PC5SEC_TRY(ciphering_algorithm_from_id(static_cast<std::uint8_t>(alg)));
    if (!offered(backend, alg))
        return make_error(
            Errc::unsupported, "backend",
            fmt::format("{} is not offered by the {} backend", name(alg), name(backend)));
    std::unique_ptr<CipherState, StateDeleter> s(new CipherState);
    s->alg = alg;
    s->backend = backend;
    std::memcpy(s->key, key.data(), 16);
    const bool ok = alg == CipheringAlgorithm::nea0 ? true
                    : backend == Backend::ipsec_mb  ? ipsecmb_prepare(*s)
                    : backend == Backend::openssl   ? openssl_prepare(*s)
                                                    : true;
    if (!ok) return make_error(Errc::crypto_failure, "key", "cannot prepare the key schedule");
    return CipheringContext(alg, backend, std::move(s));
}

Status CipheringContext::apply(const SecurityInput& input, std::span<const std::uint8_t> in,
                               std::span<std::uint8_t> out, std::uint64_t length_bits) const {
    PC5SEC_TRY(validate(input));
    PC5SEC_TRY(validate_lengths(length_bits, in.size(), out.size(), true));
    if (!run_cipher(*state_, input, in.data(), out.data(), length_bits))
        return make_error(Errc::crypto_failure, std::string(name(alg_)), "the cipher failed");
    return {};
}

Result<IntegrityContext> IntegrityContext::create(IntegrityAlgorithm alg,
                                                  std::span<const std::uint8_t> key,
                                                  Backend backend) {
    PC5SEC_TRY(check_key(key));
    PC5SEC_TRY(integrity_algorithm_from_id(static_cast<std::uint8_t>(alg)));
    if (!offered(backend, alg))
        return make_error(
            Errc::unsupported, "backend",
            fmt::format("{} is not offered by the {} backend", name(alg), name(backend)));
    std::unique_ptr<IntegrityState, StateDeleter> s(new IntegrityState);
    s->alg = alg;
    s->backend = backend;
    std::memcpy(s->key, key.data(), 16);
    const bool ok = alg == IntegrityAlgorithm::nia0 ? true
                    : backend == Backend::ipsec_mb  ? ipsecmb_prepare(*s)
                    : backend == Backend::openssl   ? openssl_prepare(*s)
                                                    : true;
    if (!ok) return make_error(Errc::crypto_failure, "key", "cannot prepare the key schedule");
    return IntegrityContext(alg, backend, std::move(s));
}

Result<MacI> IntegrityContext::compute(const SecurityInput& input,
                                       std::span<const std::uint8_t> message,
                                       std::uint64_t length_bits) const {
    PC5SEC_TRY(validate(input));
    PC5SEC_TRY(validate_lengths(length_bits, message.size(), 0, false));
    PC5SEC_TRY(check_integrity_length(alg_, length_bits));
    MacI mac{};
    if (!run_mac(*state_, input, message.data(), length_bits, mac))
        return make_error(Errc::crypto_failure, std::string(name(alg_)), "the MAC failed");
    return mac;
}

Status IntegrityContext::verify(const SecurityInput& input, std::span<const std::uint8_t> message,
                                std::uint64_t length_bits, const MacI& mac) const {
    auto computed = compute(input, message, length_bits);
    if (!computed) return std::move(computed).error();
    if (!detail::constant_time_equal(computed->data(), mac.data(), mac.size()))
        return make_error(Errc::verification_failed, "MAC-I",
                          "the MAC-I does not match (integrity check failed)",
                          cause::kIntegrityFailure);
    return {};
}

// --- Bursts ---------------------------------------------------------------------------------

struct BurstAccess {
    static const CipherState& state(const CipheringContext& c) { return *c.state_; }
    static const IntegrityState& state(const IntegrityContext& c) { return *c.state_; }
};

namespace {

struct alignas(16) JobSlot {
    std::uint8_t iv[16];
    std::uint8_t tag[4];
    std::uint8_t saved[8];  // the caller's headroom octets, for NIA2 jobs with headroom
    bool borrowed;          // saved[] must go back before the burst returns
    std::size_t index;
};

std::vector<JobSlot>& thread_slots(std::size_t n) {
    thread_local std::vector<JobSlot> slots;
    if (slots.size() < n) slots.resize(n);
    return slots;
}

// Names the job in an error's field ("jobs[3].length"); formats only when there is an error.
Status in_job(Status st, std::size_t index) {
    if (st) return st;
    Error e = std::move(st).error();
    e.field = fmt::format("jobs[{}].{}", index, e.field);
    return e;
}

// What validate() and validate_lengths() accept, as one cheap test for the burst fast path.
bool plainly_valid(const SecurityInput& in, std::uint64_t length_bits, std::size_t in_size) {
    return in.bearer <= 31 && in.direction <= 1 && length_bits <= kMaxPduBits &&
           bytes_for_bits(length_bits) <= in_size;
}

bool job_failed(const IMB_JOB* j) {
    return j->status != IMB_STATUS_COMPLETED;
}

std::string job_failure(IMB_MGR* mgr, const IMB_JOB* j, std::size_t index) {
    return fmt::format("ipsec-mb failed job {} (status {}, {})", index, static_cast<int>(j->status),
                       imb_get_strerror(imb_get_errno(mgr)));
}

}  // namespace

Status cipher_burst(std::span<CipherJob> jobs) {
    // Validate every job first: a bad job fails the call before anything is written. The
    // common case is checked without building a Status; only a failing job takes the slow path
    // that names what is wrong.
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const auto& j = jobs[i];
        if (j.context != nullptr && plainly_valid(j.input, j.length_bits, j.in ? j.in_size : 0) &&
            (j.out ? j.out_size : 0) >= bytes_for_bits(j.length_bits))
            continue;
        if (j.context == nullptr)
            return in_job(make_error(Errc::invalid_argument, "context", "no context"), i);
        PC5SEC_TRY(in_job(validate(j.input), i));
        PC5SEC_TRY(in_job(
            validate_lengths(j.length_bits, j.in ? j.in_size : 0, j.out ? j.out_size : 0, true),
            i));
    }
    IMB_MGR* mgr = thread_mb_manager();
    auto& slots = thread_slots(jobs.size());
    bool failed = false;
    std::string failure;
    auto finish = [&](IMB_JOB* done) {
        const auto* slot = static_cast<const JobSlot*>(done->user_data);
        const CipherJob& j = jobs[slot->index];
        if (job_failed(done) && !failed) failure = job_failure(mgr, done, slot->index);
        failed |= job_failed(done);
        if (j.length_bits) clear_trailing_bits(j.out, j.length_bits);
    };
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const CipherJob& j = jobs[i];
        const CipherState& s = BurstAccess::state(*j.context);
        const bool on_mb = s.backend == Backend::ipsec_mb && ipsecmb_takes(s.alg, j.length_bits);
        if (!on_mb) {
            failed |= !run_cipher(s, j.input, j.in, j.out, j.length_bits);
            continue;
        }
        JobSlot& slot = slots[i];
        slot.index = i;
        IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
        ipsecmb_fill_cipher_job(job, s, j.input, j.in, j.out, j.length_bits, slot.iv);
        job->user_data = &slot;
        for (IMB_JOB* done = IMB_SUBMIT_JOB(mgr); done; done = IMB_GET_COMPLETED_JOB(mgr))
            finish(done);
    }
    while (IMB_JOB* done = IMB_FLUSH_JOB(mgr))
        finish(done);
    if (failed) return make_error(Errc::crypto_failure, "jobs", failure);
    return {};
}

Status integrity_burst(std::span<IntegrityJob> jobs) {
    std::size_t scratch_bytes = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const auto& j = jobs[i];
        const bool fast = j.context != nullptr && j.length_bits != 0 &&
                          plainly_valid(j.input, j.length_bits, j.message ? j.message_size : 0);
        if (!fast) {  // the slow path names what is wrong
            if (j.context == nullptr)
                return in_job(make_error(Errc::invalid_argument, "context", "no context"), i);
            PC5SEC_TRY(in_job(validate(j.input), i));
            PC5SEC_TRY(in_job(
                validate_lengths(j.length_bits, j.message ? j.message_size : 0, 0, false), i));
            PC5SEC_TRY(in_job(check_integrity_length(j.context->algorithm(), j.length_bits), i));
        }
        if (j.context->algorithm() == IntegrityAlgorithm::nia2 && !j.headroom &&
            ipsecmb_takes(IntegrityAlgorithm::nia2, j.length_bits))
            scratch_bytes += 8 + bytes_for_bits(j.length_bits);
    }
    thread_local std::vector<std::uint8_t> scratch;
    if (scratch.size() < scratch_bytes) scratch.resize(scratch_bytes);
    std::size_t scratch_used = 0;

    IMB_MGR* mgr = thread_mb_manager();
    auto& slots = thread_slots(jobs.size());
    bool failed = false;
    std::string failure;
    auto finish = [&](IMB_JOB* done) {
        const auto* slot = static_cast<const JobSlot*>(done->user_data);
        if (job_failed(done) && !failed) failure = job_failure(mgr, done, slot->index);
        failed |= job_failed(done);
        std::memcpy(jobs[slot->index].mac.data(), slot->tag, 4);
    };
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        IntegrityJob& j = jobs[i];
        const IntegrityState& s = BurstAccess::state(*j.context);
        slots[i].borrowed = false;
        const bool on_mb = s.backend == Backend::ipsec_mb && ipsecmb_takes(s.alg, j.length_bits);
        if (!on_mb) {
            failed |= !run_mac(s, j.input, j.message, j.length_bits, j.mac);
            continue;
        }
        JobSlot& slot = slots[i];
        slot.index = i;
        std::uint8_t* cmac_input = nullptr;
        if (s.alg == IntegrityAlgorithm::nia2 && j.headroom) {
            // Borrow the caller's headroom for the prefix; restored after the flush below.
            cmac_input = const_cast<std::uint8_t*>(j.message) - 8;
            std::memcpy(slot.saved, cmac_input, 8);
            slot.borrowed = true;
            nia2_prefix(j.input, cmac_input);
        } else if (s.alg == IntegrityAlgorithm::nia2) {
            cmac_input = scratch.data() + scratch_used;
            scratch_used += 8 + bytes_for_bits(j.length_bits);
            nia2_build_input(j.input, j.message, j.length_bits, cmac_input);
        }
        IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
        ipsecmb_fill_integrity_job(job, s, j.input, j.message, j.length_bits, slot.iv, cmac_input,
                                   slot.tag);
        job->user_data = &slot;
        for (IMB_JOB* done = IMB_SUBMIT_JOB(mgr); done; done = IMB_GET_COMPLETED_JOB(mgr))
            finish(done);
    }
    while (IMB_JOB* done = IMB_FLUSH_JOB(mgr))
        finish(done);
    for (std::size_t i = 0; i < jobs.size(); ++i)
        if (slots[i].borrowed)
            std::memcpy(const_cast<std::uint8_t*>(jobs[i].message) - 8, slots[i].saved, 8);
    if (failed) return make_error(Errc::crypto_failure, "jobs", failure);
    return {};
}

}  // namespace pc5sec
