// `pc5sec crypto`: compute the key hierarchy and NEA/NIA by hand, to check against other tools.
// Numbers are decimal or 0x-hex; results are bare lowercase hex on one line.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"

namespace pc5sec::cli {
namespace {

std::vector<std::uint8_t> hex_arg(const std::string& text, const char* field) {
    return take(from_hex(text, field));
}

template <class Key>
Key key_arg(const std::string& text, const char* field) {
    return take(Key::from_bytes(hex_arg(text, field), field));
}

Nonce nonce_arg(const std::string& text, const char* field) {
    const auto bytes = hex_arg(text, field);
    if (bytes.size() != 16)
        throw CommandError(
            kExitBadInput,
            fmt::format("{}: a nonce is 128 bits (16 bytes), got {} bytes", field, bytes.size()));
    Nonce n{};
    std::copy(bytes.begin(), bytes.end(), n.begin());
    return n;
}

Backend backend_arg(const std::string& text) {
    if (text == "ipsec-mb" || text == "ipsecmb") return Backend::ipsec_mb;
    if (text == "openssl") return Backend::openssl;
    if (text == "reference") return Backend::reference;
    throw CommandError(
        kExitBadInput,
        fmt::format("--backend: '{}' is not one of ipsec-mb, openssl, reference", text));
}

struct AlgorithmArgs {
    std::string alg, key, count, bearer, direction, bits, data, backend = "ipsec-mb";
};

void add_algorithm_options(CLI::App* sub, AlgorithmArgs& a) {
    sub->add_option("--alg", a.alg, "algorithm id: 0, 1 (SNOW 3G), 2 (AES), 3 (ZUC)")->required();
    sub->add_option("--key", a.key, "128-bit KEY in hex")->required();
    sub->add_option("--count", a.count, "COUNT, 32 bits")->required();
    sub->add_option("--bearer", a.bearer, "BEARER, 5 bits (0..31)")->required();
    sub->add_option("--direction", a.direction, "DIRECTION, 0 or 1")->required();
    sub->add_option("--bits", a.bits, "LENGTH in bits (default: all of --data)");
    sub->add_option("--data", a.data, "the message in hex")->required();
    sub->add_option("--backend", a.backend,
                    "ipsec-mb (default), openssl (alg 2), reference (alg 3)");
}

struct Parsed {
    SecurityInput input;
    std::vector<std::uint8_t> data;
    std::uint64_t bits = 0;
    std::vector<std::uint8_t> key;
    std::uint64_t alg = 0;
};

Parsed parse_algorithm_args(const AlgorithmArgs& a) {
    Parsed p;
    p.alg = take(parse_uint(a.alg, "--alg", 255));
    p.key = hex_arg(a.key, "--key");
    p.input.count = static_cast<std::uint32_t>(take(parse_uint(a.count, "--count", 0xffffffff)));
    // Range errors come from validate() so the message names the 3GPP field.
    p.input.bearer = static_cast<std::uint8_t>(take(parse_uint(a.bearer, "--bearer", 255)));
    p.input.direction =
        static_cast<std::uint8_t>(take(parse_uint(a.direction, "--direction", 255)));
    if (auto st = validate(p.input); !st) {
        Error e = st.error();
        e.field = "--" + e.field;
        throw CommandError(e);
    }
    p.data = hex_arg(a.data, "--data");
    p.bits = a.bits.empty() ? p.data.size() * 8 : take(parse_uint(a.bits, "--bits", kMaxPduBits));
    if (p.key.size() != 16)
        throw CommandError(
            kExitBadInput,
            fmt::format("--key: KEY must be 128 bits (16 bytes), got {} bytes", p.key.size()));
    if ((p.bits + 7) / 8 > p.data.size())
        throw CommandError(
            kExitBadInput,
            fmt::format("--bits: LENGTH {} bits is longer than --data ({} bytes = {} bits)", p.bits,
                        p.data.size(), p.data.size() * 8));
    return p;
}

}  // namespace

namespace {
void register_crypto(CLI::App& app) {
    auto* crypto = app.add_subcommand("crypto", "compute PC5 keys, NEA and NIA by hand");
    crypto->require_subcommand(1);

    auto knrp = std::make_shared<std::array<std::string, 3>>();
    auto* ks = crypto->add_subcommand("knrp-sess", "KNRP-sess = KDF(KNRP, 0x7F, Nonce_1, Nonce_2)");
    ks->add_option("--knrp", (*knrp)[0], "256-bit KNRP in hex")->required();
    ks->add_option("--nonce1", (*knrp)[1], "128-bit Nonce_1 in hex")->required();
    ks->add_option("--nonce2", (*knrp)[2], "128-bit Nonce_2 in hex")->required();
    ks->callback([knrp] {
        const auto k = key_arg<Knrp>((*knrp)[0], "--knrp");
        const auto sess = derive_knrp_sess(k, nonce_arg((*knrp)[1], "--nonce1"),
                                           nonce_arg((*knrp)[2], "--nonce2"));
        std::cout << to_hex(sess.reveal()) << "\n";  // explicit request: the user asked for it
    });

    for (const bool enc : {true, false}) {
        auto args = std::make_shared<std::array<std::string, 2>>();
        auto* sub = crypto->add_subcommand(
            enc ? "nrpek" : "nrpik", enc ? "NRPEK = KDF(KNRP-sess, 0x7E, 0x00, alg) [128 LSBs]"
                                         : "NRPIK = KDF(KNRP-sess, 0x7E, 0x01, alg) [128 LSBs]");
        sub->add_option("--knrp-sess", (*args)[0], "256-bit KNRP-sess in hex")->required();
        sub->add_option("--alg", (*args)[1], "algorithm id (0..3)")->required();
        sub->callback([args, enc] {
            const auto sess = key_arg<KnrpSess>((*args)[0], "--knrp-sess");
            const auto id = take(parse_uint((*args)[1], "--alg", 255));
            if (enc) {
                const auto alg = take(ciphering_algorithm_from_id(id, "--alg"));
                std::cout << to_hex(derive_nrpek(sess, alg).reveal()) << "\n";
            } else {
                const auto alg = take(integrity_algorithm_from_id(id, "--alg"));
                std::cout << to_hex(derive_nrpik(sess, alg).reveal()) << "\n";
            }
        });
    }

    auto nea_args = std::make_shared<AlgorithmArgs>();
    auto* nea =
        crypto->add_subcommand("nea", "cipher or decipher LENGTH bits (NEA is its own inverse)");
    add_algorithm_options(nea, *nea_args);
    nea->callback([nea_args] {
        Parsed p = parse_algorithm_args(*nea_args);
        const auto alg = take(ciphering_algorithm_from_id(p.alg, "--alg"));
        const auto ctx = take(CipheringContext::create(alg, p.key, backend_arg(nea_args->backend)));
        std::vector<std::uint8_t> out((p.bits + 7) / 8);
        take(ctx.apply(p.input, p.data, out, p.bits));
        std::cout << to_hex(out) << "\n";
    });

    auto nia_args = std::make_shared<AlgorithmArgs>();
    auto* nia = crypto->add_subcommand("nia", "the 32-bit MAC-I over LENGTH bits");
    add_algorithm_options(nia, *nia_args);
    nia->callback([nia_args] {
        Parsed p = parse_algorithm_args(*nia_args);
        const auto alg = take(integrity_algorithm_from_id(p.alg, "--alg"));
        const auto ctx = take(IntegrityContext::create(alg, p.key, backend_arg(nia_args->backend)));
        const auto mac = take(ctx.compute(p.input, p.data, p.bits));
        std::cout << to_hex(mac) << "\n";
    });
}

}  // namespace

const CommandRegistrar kRegistrar{60, register_crypto};

}  // namespace pc5sec::cli
