// `pc5sec provision`: the network's provisioning function (PCF / ProSe key management role).
// Creates a root CA in OUT/ca/ (or reuses the one there), writes one credential bundle per UE in
// OUT/<name>/, and revokes UEs into OUT/ca/crl.pem (copied to every UE directory).
#include <openssl/crypto.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::cli {
namespace {

namespace fs = std::filesystem;
using creds::TimePoint;

struct ProvisionArgs {
    std::string out;
    std::vector<std::string> ues;
    std::vector<std::string> revoke;
    std::string valid_days = "365";
    std::string not_before;
    std::string key_type = "p256";
    std::string policy;
    std::vector<std::string> group_keys;
};

struct UeSpec {
    std::string name;
    creds::Authorisation authorisation;
};

void check_name(const std::string& name, const std::string& field) {
    // [A-Za-z0-9][A-Za-z0-9._-]{0,63}: a directory name under OUT/, never "ca".
    const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    const bool usable = !name.empty() && name.size() <= 64 && alnum(name[0]) &&
                        std::all_of(name.begin(), name.end(), [&](char c) {
                            return alnum(c) || c == '.' || c == '_' || c == '-';
                        });
    if (!usable || name == "ca")
        throw CommandError(
            kExitBadInput,
            fmt::format("{}: '{}' is not a usable UE name (1-64 of A-Z a-z 0-9 . _ -, "
                        "not starting with . and not 'ca')",
                        field, name));
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos) return out;
        start = pos + 1;
    }
}

// NAME:ROLE[+ROLE]:rsc=CODE[,CODE]   e.g. alice:end-ue:rsc=0x000001
UeSpec parse_ue(const std::string& text) {
    const auto parts = split(text, ':');
    if (parts.size() < 2 || parts.size() > 3)
        throw CommandError(kExitBadInput,
                           fmt::format("--ue: '{}' is not NAME:ROLE[+ROLE][:rsc=CODE[,CODE]] (for "
                                       "example alice:end-ue:rsc=0x000001)",
                                       text));
    UeSpec spec;
    spec.name = parts[0];
    check_name(spec.name, "--ue");
    const std::string field = "--ue " + spec.name;
    for (const auto& r : split(parts[1], '+')) {
        const auto role = take(creds::role_from_name(r, field + ": role"));
        if (!spec.authorisation.has_role(role)) spec.authorisation.roles.push_back(role);
    }
    if (parts.size() == 3) {
        if (parts[2].rfind("rsc=", 0) != 0)
            throw CommandError(kExitBadInput,
                               fmt::format("{}: '{}' should be rsc=CODE[,CODE]", field, parts[2]));
        for (const auto& code : split(parts[2].substr(4), ',')) {
            const auto rsc = take(parse_uint(code, field + ": rsc", creds::kMaxRsc));
            if (!spec.authorisation.has_rsc(static_cast<creds::Rsc>(rsc)))
                spec.authorisation.rscs.push_back(static_cast<creds::Rsc>(rsc));
        }
    }
    if (spec.authorisation.has_role(creds::Role::u2u_relay) && spec.authorisation.rscs.empty())
        throw CommandError(kExitBadInput,
                           fmt::format("{}: rsc: a relay needs at least one relay service code to "
                                       "serve (rsc=0x...)",
                                       field));
    return spec;
}

void run_provision(const ProvisionArgs& a) {
    if (a.ues.empty() && a.revoke.empty())
        throw CommandError(kExitBadInput, "--ue/--revoke: nothing to do (give at least one)");
    const fs::path out(a.out);
    const auto days = take(parse_uint(a.valid_days, "--valid-days", 18250));
    auto parsed_type = key_type_from_name(a.key_type);
    if (!parsed_type)
        throw CommandError(kExitBadInput,
                           fmt::format("--key-type: '{}' is not p256 or ed25519", a.key_type));
    const KeyType key_type = *parsed_type;
    if (key_type == KeyType::x25519)
        throw CommandError(kExitBadInput, "--key-type: X25519 cannot sign; use p256 or ed25519");
    const TimePoint now = creds::from_unix_seconds(creds::to_unix_seconds(creds::Clock::now()));
    const TimePoint not_before =
        a.not_before.empty() ? now : take(creds::parse_time(a.not_before, "--not-before"));

    PolicyFile policy;
    if (!a.policy.empty()) policy = take(PolicyFile::load(a.policy));
    for (const auto& g : a.group_keys)
        check_name(g, "--group-key");
    if (!a.group_keys.empty() && a.ues.empty())
        throw CommandError(kExitBadInput, "--group-key: give it with the --ue that receive it");

    // Check every argument before anything is written.
    std::vector<UeSpec> specs;
    for (const auto& u : a.ues) {
        specs.push_back(parse_ue(u));
        for (std::size_t i = 0; i + 1 < specs.size(); ++i)
            if (specs[i].name == specs.back().name)
                throw CommandError(kExitBadInput,
                                   fmt::format("--ue {}: given twice", specs.back().name));
        if (fs::exists(out / specs.back().name / "cert.pem"))
            throw CommandError(kExitBadInput,
                               fmt::format("--ue {}: {} already holds credentials; revoke them or "
                                           "choose another name",
                                           specs.back().name, (out / specs.back().name).string()));
    }
    for (const auto& r : a.revoke) {
        check_name(r, "--revoke");
        if (!fs::exists(out / r / "cert.pem") &&
            std::find_if(specs.begin(), specs.end(),
                         [&](const UeSpec& s) { return s.name == r; }) == specs.end())
            throw CommandError(kExitBadInput, fmt::format("--revoke {}: no credentials in {}", r,
                                                          (out / r).string()));
    }

    const fs::path ca_dir = out / "ca";
    std::optional<creds::ProvisioningFunction> pf;
    if (fs::exists(ca_dir / "ca.pem")) {
        pf.emplace(take(creds::ProvisioningFunction::open(ca_dir)));
        std::cout << "using CA " << (ca_dir / "ca.pem").string() << "\n";
    } else {
        // The CA is valid from a day before the earliest certificate it will sign, for 10 years.
        const TimePoint ca_start = std::min(now, not_before) - std::chrono::hours(24);
        pf.emplace(
            take(creds::ProvisioningFunction::create(ca_start, std::chrono::hours(24 * 3650))));
        take(pf->save(ca_dir));
        std::cout << "created CA " << (ca_dir / "ca.pem").string() << " (ECDSA P-256)\n";
    }

    if (!a.group_keys.empty()) {
        // The CA directory keeps every group key, so that UEs added later can be given it too.
        const auto store_file = ca_dir / "group_keys.toml";
        PolicyFile store;
        if (fs::exists(store_file)) store = take(PolicyFile::load(store_file));
        bool added = false;
        for (const auto& g : a.group_keys) {
            auto it = store.group_keys.find(g);
            const bool is_new = it == store.group_keys.end();
            if (is_new) {
                GroupKey k;
                system_rng().fill(k.reveal_mut());
                it = store.group_keys.emplace(g, k).first;
                added = true;
            }
            policy.group_keys.insert_or_assign(g, it->second);
            std::cout << fmt::format("group key {}: {} (fingerprint {})\n", g,
                                     is_new ? "new" : "from " + store_file.string(),
                                     it->second.fingerprint());
        }
        if (added) {
            std::string text = "# pc5sec: the provisioning function's group keys (secret)\n" +
                               store.group_keys_toml();
            auto st = creds::write_file(store_file, text, 0600);
            OPENSSL_cleanse(text.data(), text.size());
            take(std::move(st));
        }
    }

    for (const auto& s : specs) {
        creds::UeProfile profile{s.name, s.authorisation, key_type, policy};
        const auto issued = take(pf->issue(profile, not_before, std::chrono::hours(24 * days)));
        take(pf->write_bundle(out / s.name, issued, profile.policy));
        std::cout << fmt::format(
            "issued {} ({}) valid {} to {}: {}\n", s.name, creds::to_string(s.authorisation),
            creds::format_time(issued.certificate.not_before()),
            creds::format_time(issued.certificate.not_after()), (out / s.name).string());
    }
    // The discovery material issued per RSC stays with the CA: a UE provisioned later shares it.
    if (!specs.empty()) take(pf->save(ca_dir));

    if (!a.revoke.empty()) {
        for (const auto& r : a.revoke) {
            const auto cert = take(creds::Certificate::load(out / r / "cert.pem"));
            take(pf->revoke(cert, now));
            std::cout << fmt::format("revoked {} (serial {})\n", r, cert.serial_hex());
        }
        take(pf->save(ca_dir));
        const std::string crl = pf->revocation_list()->to_pem();
        int copies = 0;
        for (const auto& entry : fs::directory_iterator(out)) {
            if (!entry.is_directory() || entry.path().filename() == "ca") continue;
            if (!fs::exists(entry.path() / "cert.pem")) continue;
            std::ofstream f(entry.path() / "crl.pem", std::ios::binary | std::ios::trunc);
            f << crl;
            if (!f)
                throw CommandError(kExitBadInput, fmt::format("{}: cannot be written",
                                                              (entry.path() / "crl.pem").string()));
            ++copies;
        }
        std::cout << fmt::format("revocation list {} (number {}) copied to {} UE directories\n",
                                 (ca_dir / "crl.pem").string(), pf->revocation_list()->number(),
                                 copies);
    }
}

void register_provision(CLI::App& app) {
    auto args = std::make_shared<ProvisionArgs>();
    auto* sub = app.add_subcommand(
        "provision",
        "act as the provisioning function: root CA, per-UE credentials and policies, revocation");
    sub->add_option("--out", args->out, "output directory (OUT/ca/ and OUT/<name>/)")->required();
    sub->add_option("--ue", args->ues,
                    "NAME:ROLE[+ROLE][:rsc=CODE[,CODE]]; ROLE is end-ue or relay; e.g. "
                    "alice:end-ue:rsc=0x000001 (repeatable)");
    sub->add_option("--revoke", args->revoke, "revoke the UE NAME in OUT (repeatable)");
    sub->add_option("--valid-days", args->valid_days,
                    "certificate validity in days (default 365; 0 makes a certificate that "
                    "expires as it is issued)");
    sub->add_option("--not-before", args->not_before,
                    "start of validity: unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ "
                    "(default now)");
    sub->add_option("--key-type", args->key_type, "UE key: p256 (default) or ed25519");
    sub->add_option("--policy", args->policy,
                    "policy.toml template for the UEs issued now (default: signalling integrity "
                    "required, ciphering preferred; user plane preferred; nea2,nea3,nea1,nea0 and "
                    "nia2,nia3,nia1)");
    sub->add_option("--group-key", args->group_keys,
                    "give the UEs issued now the pre-shared group key NAME (PSK mode); created "
                    "once, kept in OUT/ca/group_keys.toml (repeatable)");
    sub->callback([args] { run_provision(*args); });
}

}  // namespace

const CommandRegistrar kRegistrar{30, register_provision};

}  // namespace pc5sec::cli
