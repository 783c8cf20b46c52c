// Benchmark workloads of userplane/: 1500-octet PDUs in bursts of 32, payloads rotating through
// an 8 MiB random pool, one core. Rows:
//   up-e2e-nea2-nia2-1500        protect + unprotect end to end (one link)
//   up-l3-nea2-nia2-1500         source protect, layer-3 relay unprotect + re-protect, target
//                                unprotect: twice the crypto of the row above
//   up-l2-forward-1500           the layer-2 relay's SRAP forwarding function on its own
// The ratios are against raw ipsec-mb doing exactly the crypto of one protect + unprotect
// (NIA2 over header and payload, NEA2 over payload and MAC-I, and back), measured in the same run.
#include <cstring>
#include <memory>

#include "backend.hpp"
#include "bench/registry.hpp"
#include "pc5sec/rng.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/userplane.hpp"

namespace pc5sec::bench {
namespace {

constexpr std::size_t kBurst = 32;
constexpr std::size_t kSize = 1500;
constexpr std::uint8_t kBearer = 4;
constexpr pc5::L2Id kA = 0x0A, kR = 0x50, kB = 0x0B;

pc5::DataKeys make_keys(const std::string& id, std::uint16_t kid, bool initiator, pc5::L2Id peer) {
    pc5::DataKeys k;
    k.link_id = id;
    k.peer_l2 = peer;
    k.initiator = initiator;
    k.knrp_sess_id = KnrpSessId{kid};
    k.ciphering = CipheringAlgorithm::nea2;
    k.integrity = IntegrityAlgorithm::nia2;
    std::array<std::uint8_t, 16> e{}, m{};
    for (std::size_t i = 0; i < 16; ++i) {
        e[i] = static_cast<std::uint8_t>(kid * 3 + i);
        m[i] = static_cast<std::uint8_t>(kid * 5 + 7 * i);
    }
    k.nrpek = Nrpek(e);
    k.nrpik = Nrpik(m);
    return k;
}

struct E2e {
    PayloadPool pool{8 << 20};
    userplane::Endpoint a{userplane::Config{kA}}, b{userplane::Config{kB}};
    userplane::Burst burst{kBurst, kSize};
    E2e() {
        (void)a.install(make_keys("a>b#1", 0x0101, true, kB), {}, pc5::Time{0});
        (void)b.install(make_keys("a>b#1", 0x0101, false, kA), {}, pc5::Time{0});
    }
    double run() {
        burst.clear();
        for (std::size_t i = 0; i < kBurst; ++i)
            (void)burst.add_payload({pool.next(kSize), kSize});
        (void)a.protect_burst("a>b#1", kBearer, burst, pc5::Time{0});
        (void)b.unprotect_burst("a>b#1", kBearer, burst, pc5::Time{0});  // the buffer travels
        return static_cast<double>(kBurst * kSize);
    }
};

struct L3 {
    PayloadPool pool{8 << 20};
    userplane::Endpoint a{userplane::Config{kA}}, r{userplane::Config{kR}},
        b{userplane::Config{kB}};
    userplane::Burst burst{kBurst, kSize};
    L3() {
        (void)a.install(make_keys("a>r#1", 0x0101, true, kR), {}, pc5::Time{0});
        (void)r.install(make_keys("a>r#1", 0x0101, false, kA), {}, pc5::Time{0});
        (void)r.install(make_keys("r>b#2", 0x0202, true, kB), {}, pc5::Time{0});
        (void)b.install(make_keys("r>b#2", 0x0202, false, kR), {}, pc5::Time{0});
        (void)r.add_l3_route("a>r#1", "r>b#2");
    }
    double run() {
        burst.clear();
        // Payloads laid out with headroom for the header (and NIA2's prefix) and room for the
        // MAC-I, as an application hands them over without a copy.
        for (std::size_t i = 0; i < kBurst; ++i)
            (void)burst.add_in_place(pool.next(userplane::kHeadroom + userplane::kHeaderSize +
                                               kSize + userplane::kMacSize) +
                                         userplane::kHeadroom + userplane::kHeaderSize,
                                     kSize);
        (void)a.protect_burst("a>r#1", kBearer, burst, pc5::Time{0});
        (void)r.forward_l3_burst("a>r#1", "r>b#2", kBearer, burst, pc5::Time{0});
        (void)b.unprotect_burst("r>b#2", kBearer, burst, pc5::Time{0});
        return static_cast<double>(kBurst * kSize);
    }
};

struct L2 {
    static constexpr std::size_t kFrames = 8192;  // 12 MiB of PDUs: headers are cold
    userplane::Endpoint relay{userplane::Config{kR}};
    std::vector<pc5::Frame> frames;
    std::size_t next = 0;
    L2() {
        // What the relay's engine forwarded end to end taught it (local UE IDs 1 and 2).
        relay.observe_relayed({kR, kA, pc5::lcid::kEndToEnd, {0x82, 2, 1, 0, 0}});
        relay.observe_relayed({kR, kB, pc5::lcid::kEndToEnd, {0x82, 1, 2, 0, 0}});
        frames.resize(kFrames);
        for (auto& f : frames) {
            f.lcid = pc5::lcid::kEndToEnd;
            f.pdu.resize(srap::kHeaderSize + userplane::kHeaderSize + kSize + userplane::kMacSize);
            system_rng().fill(f.pdu);
            f.pdu[0] = 0x80 | kBearer;
            f.pdu[1] = srap::kUnknownUeId;
            f.pdu[2] = 2;
        }
    }
    double run() {
        std::size_t ok = 0;
        for (std::size_t i = 0; i < kBurst; ++i) {
            pc5::Frame& f = frames[next++ % kFrames];
            f.src = kA;
            f.dst = kR;
            ok += relay.forward_l2(f);
        }
        return static_cast<double>(ok);
    }
};

// Raw ipsec-mb, nothing of pc5sec around it: per PDU, NIA2 over header + payload (the input
// already carries the 8-octet prefix), NEA2 over payload + MAC-I, then NEA2 and NIA2 again.
struct Raw {
    PayloadPool pool{8 << 20};
    alignas(64) std::uint8_t key[16]{};
    alignas(64) std::uint8_t enc[16 * 15]{};
    alignas(64) std::uint8_t dec[16 * 15]{};
    alignas(16) std::uint8_t k1[16]{};
    alignas(16) std::uint8_t k2[16]{};
    struct alignas(16) Slot {
        std::uint8_t iv[16];
        std::uint8_t tag[4];
    };
    std::array<Slot, kBurst> slots{};
    std::vector<std::uint8_t> out = std::vector<std::uint8_t>(kBurst * 2048);
    Raw() {
        system_rng().fill(key);
        IMB_MGR* m = thread_mb_manager();
        IMB_AES_KEYEXP_128(m, key, enc, dec);
        IMB_AES_CMAC_SUBKEY_GEN_128(m, enc, k1, k2);
    }
    void mac_pass(const std::uint8_t* const* src) {
        IMB_MGR* m = thread_mb_manager();
        for (std::size_t i = 0; i < kBurst; ++i) {
            IMB_JOB* j = IMB_GET_NEXT_JOB(m);
            j->chain_order = IMB_ORDER_HASH_CIPHER;
            j->cipher_mode = IMB_CIPHER_NULL;
            j->hash_alg = IMB_AUTH_AES_CMAC_BITLEN;
            j->src = src[i];
            j->hash_start_src_offset_in_bytes = 0;
            j->msg_len_to_hash_in_bits = (8 + 5 + kSize) * 8;
            j->u.CMAC._key_expanded = enc;
            j->u.CMAC._skey1 = k1;
            j->u.CMAC._skey2 = k2;
            j->auth_tag_output = slots[i].tag;
            j->auth_tag_output_len_in_bytes = 4;
            IMB_SUBMIT_JOB(m);
        }
        while (IMB_FLUSH_JOB(m) != nullptr) {
        }
    }
    void cipher_pass(const std::uint8_t* const* src, std::uint32_t count) {
        IMB_MGR* m = thread_mb_manager();
        for (std::size_t i = 0; i < kBurst; ++i) {
            IMB_JOB* j = IMB_GET_NEXT_JOB(m);
            std::memset(slots[i].iv, 0, 16);
            std::memcpy(slots[i].iv, &count, 4);
            j->chain_order = IMB_ORDER_CIPHER_HASH;
            j->hash_alg = IMB_AUTH_NULL;
            j->cipher_mode = IMB_CIPHER_CNTR_BITLEN;
            j->cipher_direction = IMB_DIR_ENCRYPT;
            j->enc_keys = enc;
            j->dec_keys = dec;
            j->key_len_in_bytes = 16;
            j->iv = slots[i].iv;
            j->iv_len_in_bytes = 16;
            j->src = src[i];
            j->dst = out.data() + i * 2048;
            j->cipher_start_src_offset_in_bytes = 0;
            j->msg_len_to_cipher_in_bits = (kSize + 4) * 8;
            IMB_SUBMIT_JOB(m);
        }
        while (IMB_FLUSH_JOB(m) != nullptr) {
        }
    }
    double run() {
        const std::uint8_t* src[kBurst];
        const std::uint8_t* sent[kBurst];
        for (std::size_t i = 0; i < kBurst; ++i)
            src[i] = pool.next(8 + 5 + kSize + 4);
        for (std::size_t i = 0; i < kBurst; ++i)
            sent[i] = out.data() + i * 2048;
        mac_pass(src);         // protect: MAC-I
        cipher_pass(src, 1);   // protect: ciphering into `out`
        cipher_pass(sent, 2);  // unprotect: deciphering (in place)
        mac_pass(src);         // unprotect: MAC-I check
        return static_cast<double>(kBurst * kSize);
    }
};

}  // namespace

std::vector<Workload> userplane_workloads() {
    std::vector<Workload> out;
    auto raw = std::make_shared<Raw>();
    out.push_back(Workload{"raw-ipsecmb-up-nea2-nia2-1500", "MB/s", [raw] { return raw->run(); },
                           1e-6, "", "", false,
                           "ipsec-mb jobs of one protect + unprotect: NIA2, NEA2, NEA2, NIA2"});
    auto e2e = std::make_shared<E2e>();
    out.push_back(Workload{"up-e2e-nea2-nia2-1500", "MB/s", [e2e] { return e2e->run(); }, 1e-6,
                           "raw-ipsecmb-up-nea2-nia2-1500", ">=0.7", false,
                           "protect + unprotect, bursts of 32, in place"});
    auto l3 = std::make_shared<L3>();
    out.push_back(Workload{"up-l3-nea2-nia2-1500", "MB/s", [l3] { return l3->run(); }, 1e-6,
                           "raw-ipsecmb-up-nea2-nia2-1500", ">=0.35", false,
                           "source protect, relay unprotect + re-protect, target unprotect"});
    auto l2 = std::make_shared<L2>();
    out.push_back(Workload{"up-l2-forward-1500", "PDUs/s", [l2] { return l2->run(); }, 1.0, "",
                           ">=2000000", false, "SRAP forwarding at the relay, no crypto"});
    return out;
}

}  // namespace pc5sec::bench
