// discovery.toml: a UE's (or the provisioning function's) discovery security material per RSC
// (pc5sec/discovery_material.hpp), read and written here. Secret: written with mode 0600, and
// the hex text of each key is wiped once parsed or written.
#include <openssl/crypto.h>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "creds/ossl.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::creds {

namespace {

template <class Key>
Result<Key> key_of(const toml::table& t, const char* name, const std::string& at) {
    const auto* v = t.get_as<std::string>(name);
    if (!v)
        return make_error(Errc::malformed, at + "." + name,
                          fmt::format("missing: {} hex digits", Key::kSize * 2));
    auto bytes = from_hex(v->get(), at + "." + name);
    if (!bytes) return std::move(bytes).error();
    auto key = Key::from_bytes(*bytes, at + "." + name);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return key;
}

Result<std::int64_t> int_of(const toml::table& t, const char* name, const std::string& at) {
    const auto* v = t.get_as<std::int64_t>(name);
    if (!v) return make_error(Errc::malformed, at + "." + name, "missing: an integer");
    return v->get();
}

}  // namespace

std::string discovery_toml(const std::vector<discovery::Material>& materials) {
    std::string out =
        "# Discovery security material per relay service code (TS 33.503 6.1.3.2, TS 33.303\n"
        "# 6.1.3.4.3), from the provisioning function (the PKMF). SECRET: keep it mode 0600.\n";
    for (const auto& m : materials) {
        out += fmt::format(
            "\n[[rsc]]\ncode = 0x{:06x}\ndusk = \"{}\"\nduik = \"{}\"\nduck = \"{}\"\n"
            "nea = {}\nnia = {}\nvalid_from = {}  # {}\nvalid_until = {}  # {}\n",
            m.rsc, to_hex(m.dusk.reveal()), to_hex(m.duik.reveal()), to_hex(m.duck.reveal()),
            static_cast<unsigned>(m.nea), static_cast<unsigned>(m.nia),
            to_unix_seconds(m.valid_from), format_time(m.valid_from),
            to_unix_seconds(m.valid_until), format_time(m.valid_until));
    }
    return out;
}

Result<std::vector<discovery::Material>> parse_discovery_toml(std::string_view text,
                                                              std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(text, std::string(source));
    } catch (const toml::parse_error& e) {
        return make_error(Errc::malformed, std::string(source), std::string(e.description()));
    }
    std::vector<discovery::Material> out;
    const auto* rows = root["rsc"].as_array();
    if (!rows) return out;
    for (std::size_t i = 0; i < rows->size(); ++i) {
        const std::string at = fmt::format("{}: rsc[{}]", source, i);
        const auto* t = (*rows)[i].as_table();
        if (!t) return make_error(Errc::malformed, at, "not a table");
        discovery::Material m;
        auto code = int_of(*t, "code", at);
        if (!code) return std::move(code).error();
        if (*code <= 0 || *code > kMaxRsc)
            return make_error(Errc::malformed, at + ".code", "an RSC is 1..0xffffff");
        m.rsc = static_cast<std::uint32_t>(*code);
        auto dusk = key_of<Dusk>(*t, "dusk", at);
        if (!dusk) return std::move(dusk).error();
        auto duik = key_of<Duik>(*t, "duik", at);
        if (!duik) return std::move(duik).error();
        auto duck = key_of<Duck>(*t, "duck", at);
        if (!duck) return std::move(duck).error();
        m.dusk = *dusk;
        m.duik = *duik;
        m.duck = *duck;
        for (auto [name, alg] : {std::pair{"nea", 0}, std::pair{"nia", 1}}) {
            auto v = int_of(*t, name, at);
            if (!v) return std::move(v).error();
            if (*v < 1 || *v > 3)
                return make_error(Errc::malformed, at + "." + name,
                                  "1, 2 or 3 (128-NEA1/NIA1 .. 128-NEA3/NIA3)");
            if (alg == 0)
                m.nea = static_cast<CipheringAlgorithm>(*v);
            else
                m.nia = static_cast<IntegrityAlgorithm>(*v);
        }
        auto from = int_of(*t, "valid_from", at);
        if (!from) return std::move(from).error();
        auto until = int_of(*t, "valid_until", at);
        if (!until) return std::move(until).error();
        if (*until <= *from)
            return make_error(Errc::malformed, at + ".valid_until", "must follow valid_from");
        m.valid_from = from_unix_seconds(*from);
        m.valid_until = from_unix_seconds(*until);
        for (const auto& o : out)
            if (o.rsc == m.rsc)
                return make_error(Errc::malformed, at + ".code",
                                  fmt::format("RSC 0x{:06x} appears twice", m.rsc));
        out.push_back(std::move(m));
    }
    return out;
}

Result<std::vector<discovery::Material>> load_discovery_toml(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return std::vector<discovery::Material>{};
    auto text = read_file(file);
    if (!text) return std::move(text).error();
    auto materials = parse_discovery_toml(*text, file.string());
    detail::secure_wipe_string(*text);
    return materials;
}

const discovery::Material& ProvisioningFunction::discovery_material(Rsc rsc, TimePoint now,
                                                                    Rng& rng) {
    auto it = discovery_.find(rsc);
    if (it != discovery_.end() && now < it->second.valid_until) return it->second;
    discovery::Material m;
    m.rsc = rsc;
    auto fill = [&rng](auto& key) { rng.fill(key.reveal_mut()); };
    fill(m.dusk);
    fill(m.duik);
    fill(m.duck);
    m.valid_from = now;
    m.valid_until = now + discovery_validity_;
    return discovery_[rsc] = std::move(m);
}

}  // namespace pc5sec::creds
