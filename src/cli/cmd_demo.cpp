// `pc5sec demo`: a walk-through of the PC5 key hierarchy for one sample link, from KNRP to a
// protected PC5-S message that the peer verifies and deciphers. Keys appear only as
// fingerprints; the simulator (issue [sim]) replaces this with full scenarios.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::cli {
namespace {

void run_demo(std::uint64_t seed, bool use_seed) {
    std::unique_ptr<Rng> owned;
    Rng* rng = &system_rng();
    if (use_seed) {
        owned = std::make_unique<DeterministicRng>(seed);
        rng = owned.get();
    }
    auto step = [](int n, const std::string& text) { fmt::print("\n[{}] {}\n", n, text); };
    fmt::print("pc5sec demo: the PC5 unicast key hierarchy of one link (TS 33.536, seed 000)\n");
    fmt::print("Keys are shown as fingerprints (8 hex digits of a SHA-256), never in full.\n");

    step(1, "KNRP: the 256-bit root of the link, from Direct Authentication and Key Establishment");
    Knrp knrp;
    rng->fill(knrp.reveal_mut());
    fmt::print("    KNRP          fingerprint {}\n", knrp.fingerprint());

    step(2, "Direct Communication Request carries Nonce_1 (128 bits) and the MSB of KNRP-sess ID");
    const Nonce nonce_1 = rng->bytes<16>();
    const std::uint8_t msb = rng->next_u8();
    fmt::print("    Nonce_1       {}\n    KNRP-sess ID  MSB 0x{:02x} (chosen by the initiator)\n",
               to_hex(nonce_1), msb);

    step(3, "Direct Security Mode Command carries Nonce_2 and the LSB of KNRP-sess ID");
    const Nonce nonce_2 = rng->bytes<16>();
    std::uint8_t lsb = rng->next_u8();
    if (msb == 0 && lsb == 0) lsb = 1;  // KNRP-sess ID 0 means "no security" in the PDCP header
    const auto sess_id = KnrpSessId::from_parts(msb, lsb);
    fmt::print("    Nonce_2       {}\n    KNRP-sess ID  0x{:04x}\n", to_hex(nonce_2),
               sess_id.value);

    step(4, "KNRP-sess = KDF(KNRP, FC=0x7F, Nonce_1, Nonce_2)  [TS 33.536 A.2]");
    const KnrpSess sess = derive_knrp_sess(knrp, nonce_1, nonce_2);
    fmt::print("    KNRP-sess     fingerprint {}\n", sess.fingerprint());

    step(5, "NRPEK / NRPIK = 128 LSBs of KDF(KNRP-sess, FC=0x7E, 0x00|0x01, alg)  [TS 33.536 A.3]");
    const Nrpek nrpek = derive_nrpek(sess, CipheringAlgorithm::nea2);
    const Nrpik nrpik = derive_nrpik(sess, IntegrityAlgorithm::nia2);
    fmt::print("    algorithms    128-NEA2 (AES-CTR), 128-NIA2 (AES-CMAC)\n");
    fmt::print("    NRPEK         fingerprint {}\n    NRPIK         fingerprint {}\n",
               nrpek.fingerprint(), nrpik.fingerprint());

    step(6, "Protect a PC5-S message on LCID 2: MAC-I over the plaintext, then cipher");
    const std::string text = "PROSE DIRECT LINK KEEPALIVE REQUEST (sample payload)";
    std::vector<std::uint8_t> pdu(text.begin(), text.end());
    const SecurityInput in{/*count=*/7, /*bearer=*/2, /*direction=*/0};
    const auto enc = take(CipheringContext::create(CipheringAlgorithm::nea2, nrpek));
    const auto integ = take(IntegrityContext::create(IntegrityAlgorithm::nia2, nrpik));
    const MacI mac = take(integ.compute(in, pdu, pdu.size() * 8));
    std::vector<std::uint8_t> air(pdu.size());
    take(enc.apply(in, pdu, air, pdu.size() * 8));
    fmt::print("    COUNT=7 BEARER=2 DIRECTION=0 (sent by the initiator)\n");
    fmt::print("    plaintext     {}\n    on air        {}\n    MAC-I         {}\n", to_hex(pdu),
               to_hex(air), to_hex(mac));

    step(7, "The peer derives the same keys, deciphers and verifies");
    const KnrpSess peer_sess = derive_knrp_sess(knrp, nonce_1, nonce_2);
    const auto peer_enc = take(CipheringContext::create(
        CipheringAlgorithm::nea2, derive_nrpek(peer_sess, CipheringAlgorithm::nea2)));
    const auto peer_integ = take(IntegrityContext::create(
        IntegrityAlgorithm::nia2, derive_nrpik(peer_sess, IntegrityAlgorithm::nia2)));
    std::vector<std::uint8_t> back(air.size());
    take(peer_enc.apply(in, air, back, air.size() * 8));
    const bool ok = peer_integ.verify(in, back, back.size() * 8, mac).ok();
    fmt::print("    keys agree    {}\n    deciphered    \"{}\"\n    MAC-I check   {}\n",
               peer_sess == sess ? "yes" : "NO", std::string(back.begin(), back.end()),
               ok ? "pass" : "FAIL");

    step(8, "An attacker flips one bit on air; the peer's MAC-I check fails (PC5 cause #7)");
    air[3] ^= 0x10;
    take(peer_enc.apply(in, air, back, air.size() * 8));
    const auto tampered = peer_integ.verify(in, back, back.size() * 8, mac);
    fmt::print("    MAC-I check   {}\n",
               tampered ? "pass (UNEXPECTED)" : tampered.error().describe());
    if (!ok || tampered) throw CommandError(kExitCheckFailed, "the demo's checks did not hold");
    fmt::print(
        "\nNext: `pc5sec crypto --help` to compute these values by hand, `pc5sec bench` to "
        "measure them.\n");
}

}  // namespace

namespace {
void register_demo(CLI::App& app) {
    auto seed = std::make_shared<std::uint64_t>(0);
    auto* sub = app.add_subcommand("demo", "a walk-through of one PC5 link's key hierarchy");
    auto* opt =
        sub->add_option("--seed", *seed, "reproducible run from this seed (simulation only)");
    sub->callback([seed, opt] { run_demo(*seed, opt->count() > 0); });
}

}  // namespace

const CommandRegistrar kRegistrar{10, register_demo};

}  // namespace pc5sec::cli
