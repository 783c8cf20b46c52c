// `pc5sec decode`: PC5 signalling messages from hex or a pcap, readable or as JSON lines.
// Also prints the code-point table (docs/code-points.md), and writes a capture with one message
// of every type. With --keylog, the on-air PDUs of a capture (data PDUs, protected PC5-S) are
// deciphered with the key log alone (include/pc5sec/trace_decrypt.hpp,
// docs/pcap-format.md "Data PDUs and deciphering with the key log").
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/rng.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/text.hpp"
#include "pc5sec/trace.hpp"
#include "pc5sec/trace_decrypt.hpp"
#include "pc5sec/userplane.hpp"

namespace pc5sec::cli {
namespace {

struct DecodeArgs {
    std::vector<std::string> hex;
    std::string pcap;
    std::string keylog;
    std::string write_samples;
    std::vector<std::string> write_data_sample;
    bool json = false;
    bool code_points = false;
    bool observer = false;
};

nlohmann::json frame_json(const pcap::Frame& f, std::size_t index) {
    return nlohmann::json{{"index", index},
                          {"timestamp_us", f.timestamp_us},
                          {"sender_l2_id", f.header.sender_l2_id},
                          {"receiver_l2_id", f.header.receiver_l2_id},
                          {"hop", f.header.hop},
                          {"direction", f.header.direction},
                          {"lcid", f.header.lcid},
                          {"flags", f.header.flags}};
}

void print(std::span<const std::uint8_t> bytes, bool json, const pcap::Frame* frame,
           std::size_t index, const std::string& where) {
    auto m = codec::decode(bytes);
    if (!m) {
        Error e = std::move(m).error();
        if (!where.empty()) e.field = where + ": " + e.field;
        throw CommandError(e);
    }
    if (json) {
        auto j = codec::to_json(*m, bytes);
        if (frame) j["frame"] = frame_json(*frame, index);
        std::cout << j.dump() << "\n";
        return;
    }
    if (frame)
        std::cout << fmt::format(
            "frame {}: {:06x} -> {:06x}, hop {}, direction {}, LCID {}, flags "
            "0x{:02x}, t={} us\n",
            index, frame->header.sender_l2_id, frame->header.receiver_l2_id, frame->header.hop,
            frame->header.direction, frame->header.lcid, frame->header.flags, frame->timestamp_us);
    std::cout << codec::to_text(*m);
    std::cout << fmt::format("  ({} octets: {})\n", bytes.size(), to_hex(bytes));
}

// ------------------------------------------------------------------ on-air frames

// Deciphered payloads are shown as text too when every octet is printable ASCII.
std::optional<std::string> printable(std::span<const std::uint8_t> b) {
    if (b.empty()) return std::nullopt;
    std::string s;
    for (const auto c : b) {
        if (c < 0x20 || c > 0x7e) return std::nullopt;
        s.push_back(static_cast<char>(c));
    }
    return s;
}

std::string mac_text(trace::MacCheck m) {
    switch (m) {
        case trace::MacCheck::ok:
            return "MAC-I ok";
        case trace::MacCheck::bad:
            return "MAC-I BAD";
        case trace::MacCheck::none:
            return "no MAC-I";
        case trace::MacCheck::zero:
            return "MAC-I zero (NIA0)";
    }
    return "?";
}

std::string direction_text(trace::DirectionFrom d) {
    switch (d) {
        case trace::DirectionFrom::header:
            return "from the frame header";
        case trace::DirectionFrom::mac:
            return "by the MAC-I";
        case trace::DirectionFrom::sender:
            return "by the sender, no MAC-I to tell";
        case trace::DirectionFrom::undecidable:
            return "undecidable without a MAC-I";
    }
    return "?";
}

// Whether the data / PDCP header was read (a malformed frame may stop before it).
bool header_read(const trace::DecipheredFrame& d) {
    if (d.kind != trace::PduKind::data && d.kind != trace::PduKind::pc5s) return false;
    return !d.error || !(d.error->field == "data.header" || d.error->field == "pdcp.header" ||
                         d.error->field.starts_with("srap."));
}

// A protected PC5-S PDU whose frame header says it is integrity-protected but not ciphered (the
// security mode command on SL-SRB1): its message, as an eavesdropper reads it without keys.
std::optional<codec::Message> clear_message(const pcap::Frame& f, const trace::DecipheredFrame& d) {
    constexpr std::uint8_t kIntegrityOnly = pcap::kFlagIntegrityProtected;
    if (d.kind != trace::PduKind::pc5s || f.header.version < 2 ||
        (f.header.flags & (pcap::kFlagIntegrityProtected | pcap::kFlagCiphered)) !=
            kIntegrityOnly ||
        d.body.size() <= pdcp::kMacSize)
        return std::nullopt;
    auto m = codec::decode(std::span(d.body).first(d.body.size() - pdcp::kMacSize));
    if (!m) return std::nullopt;
    return std::move(*m);
}

// `carried`: the end-to-end PDU inside a hop's IPv6 packet (solution B, layer 3).
void print_on_air_text(const pcap::Frame& f, const trace::DecipheredFrame& d, bool have_keylog,
                       bool carried = false) {
    if (carried)
        std::cout << fmt::format("  inside, on UDP port {}: solution B's end-to-end data PDU\n",
                                 userplane::kL3ProtectedPort);
    else
        std::cout << fmt::format(
            "frame {}: {:06x} -> {:06x}, hop {}, {}LCID {}, flags 0x{:02x} (on air), "
            "t={} us\n",
            d.index, f.header.sender_l2_id, f.header.receiver_l2_id, f.header.hop,
            f.header.version < 2      ? ""
            : f.header.direction <= 1 ? fmt::format("direction {}, ", f.header.direction)
                                      : std::string("direction unknown, "),
            f.header.lcid, f.header.flags, f.timestamp_us);
    if (d.srap)
        std::cout << fmt::format(
            "  SRAP: bearer {} ({}), source local UE ID {}, destination local UE ID {}\n",
            d.srap->bearer,
            d.srap->bearer >= pc5::lcid::kFirstData ? "data"
            : d.srap->bearer == 3                   ? "PC5-RRC"
                                                    : fmt::format("SL-SRB{}", d.srap->bearer),
            d.srap->src_ue, d.srap->dst_ue);
    if (header_read(d))
        std::cout << fmt::format(
            "  {}: KNRP-sess ID 0x{:04x}, {}SN {}, {} octets ciphered (payload and MAC-I)\n",
            d.kind == trace::PduKind::data ? "data PDU" : "protected PC5-S PDU", d.knrp_sess_id,
            d.kind == trace::PduKind::data ? fmt::format("D/C {}, ", d.dc ? 1 : 0) : "", d.sn,
            d.body.size());
    if (const auto& q = d.discovery) {  // LCID 58 (pc5sec/discovery.hpp)
        std::cout << fmt::format(
            "  discovery, {}: UTC-based counter LSB 0x{:02x}, MIC {}\n",
            q->restricted ? "restricted (scrambled, ciphered, MIC)" : "open (not protected)",
            q->counter_lsb, to_hex(q->mic));
        if (q->opened && q->restricted)
            std::cout << fmt::format(
                "  opened with RSC 0x{:06x}'s material: counter {}, MIC "
                "verified{}\n",
                q->rsc, q->counter,
                q->replayed ? "; REPLAYED: this counter and MIC were opened "
                              "before (a receiver drops it)"
                            : "");
        if (!q->opened && d.verdict != trace::Verdict::malformed) {
            std::cout << fmt::format("  not opened: {}\n",
                                     have_keylog ? q->why
                                                 : "give --keylog with the RSC's discovery "
                                                   "material (DUSK, DUIK, DUCK) to read it");
            return;
        }
    }
    if (d.concealed) {  // SL-SRB0 (pc5sec/request_privacy.hpp)
        const char* what = f.message.empty()
                               ? "message"
                               : codec::message_name(static_cast<codec::MessageType>(
                                     f.header.lcid == pc5::lcid::kEndToEnd && f.message.size() > 3
                                         ? f.message[3]
                                         : f.message[0]));
        if (d.kind == trace::PduKind::pc5s_clear) {
            std::cout << fmt::format(
                "  {}, identities concealed on the air: revealed with the RSC's material, MIC "
                "verified\n",
                what);
        } else if (d.verdict != trace::Verdict::malformed) {
            std::cout << fmt::format(
                "  {}, identities concealed on the air: {}\n", what,
                have_keylog ? d.concealed_why
                            : "give --keylog with the RSC's discovery material (DUCK, DUIK) to "
                              "read it");
            return;
        }
    }
    switch (d.verdict) {
        case trace::Verdict::malformed:
            std::cout << fmt::format("  malformed: {}\n", d.error->describe());
            return;
        case trace::Verdict::no_key:
            if (have_keylog)
                std::cout << fmt::format("  no key: KNRP-sess ID 0x{:04x} is not in the key log\n",
                                         d.knrp_sess_id);
            else
                std::cout << "  no key: give --keylog to decipher\n";
            if (auto m = clear_message(f, d)) {  // what an eavesdropper reads: not ciphered
                std::cout << "  integrity-protected, not ciphered (MAC-I not checked):\n";
                std::cout << codec::to_text(*m);
                return;
            }
            std::cout << fmt::format("  ciphered: {}\n", to_hex(d.body));
            return;
        case trace::Verdict::none:
            if (d.kind == trace::PduKind::pc5s_clear) {
                auto m = codec::decode(d.message);
                if (m)
                    std::cout << codec::to_text(*m);
                else
                    std::cout << fmt::format("  message does not decode: {}\n",
                                             m.error().describe());
                std::cout << fmt::format("  ({} octets: {})\n", d.message.size(),
                                         to_hex(d.message));
            } else {
                std::cout << fmt::format("  not deciphered ({} octets: {})\n", d.body.size(),
                                         to_hex(d.body));
            }
            return;
        case trace::Verdict::opened:
        case trace::Verdict::mac_bad:
            break;
    }
    for (const auto& o : d.openings) {
        const std::uint32_t modulus = d.kind == trace::PduKind::data ? 1u << 18 : 1u << 12;
        std::cout << fmt::format(
            "  {}, BEARER {}, COUNT {} (HFN {}, SN {}), DIRECTION {} ({}), {}, {}\n",
            o.link_id.empty() ? std::string("no security (KNRP-sess ID 0)")
                              : "link " + escape_text(o.link_id),
            d.bearer, o.count, o.count / modulus, o.count % modulus, o.direction,
            direction_text(d.direction_from),
            o.deciphered ? fmt::format("{} deciphered", name(o.ciphering)) : "not ciphered",
            mac_text(o.mac));
        if (o.replayed)
            std::cout << "  REPLAYED: an earlier frame between these L2 IDs verified under this "
                         "COUNT (a receiver discards it)\n";
        std::cout << fmt::format("  payload ({} octets): {}", o.payload.size(), to_hex(o.payload));
        if (auto s = printable(o.payload)) std::cout << " \"" << *s << "\"";
        std::cout << "\n";
        // Through a layer-3 relay the data are IPv6/UDP packets (docs/userplane.md).
        if (d.kind == trace::PduKind::data && o.mac != trace::MacCheck::bad) {
            if (auto ip = userplane::parse_l3_packet(o.payload)) {
                std::cout << fmt::format(
                    "  IPv6 {} -> {}, hop limit {}, UDP {} octets", userplane::to_string(ip->src),
                    userplane::to_string(ip->dst), ip->hop_limit, ip->data.size());
                if (auto s = printable(ip->data)) std::cout << " \"" << *s << "\"";
                std::cout << "\n";
            }
            for (const auto& c : d.carried)
                print_on_air_text(f, c, have_keylog, true);
        }
        if (d.kind == trace::PduKind::pc5s && d.verdict == trace::Verdict::opened) {
            auto m = codec::decode(o.payload);
            if (m)
                std::cout << codec::to_text(*m);
            else
                std::cout << fmt::format("  message does not decode: {}\n", m.error().describe());
        }
    }
}

nlohmann::json on_air_json(const pcap::Frame& f, const trace::DecipheredFrame& d,
                           bool have_keylog) {
    nlohmann::json j;
    if (d.kind == trace::PduKind::pc5s_clear) {
        if (auto m = codec::decode(d.message)) j = codec::to_json(*m, d.message);
    } else if (d.verdict != trace::Verdict::opened) {
        // What an eavesdropper reads of an integrity-only PC5-S PDU (MAC-I not checked).
        if (auto m = clear_message(f, d)) j = codec::to_json(*m, d.body);
    }
    j["frame"] = frame_json(f, d.index);
    j["on_air"] = name(d.kind);
    j["hex"] = to_hex(f.message);
    // The header fields, named as the dissector's (pc5s.srap.*, pc5s.data.*, pc5s.pdcp.*).
    if (d.srap)
        j["srap"] = {{"dc", d.srap_dc ? 1 : 0},
                     {"bearer", d.srap->bearer},
                     {"src_ue", d.srap->src_ue},
                     {"dst_ue", d.srap->dst_ue}};
    if (header_read(d)) {
        if (d.kind == trace::PduKind::data)
            j["data"] = {{"knrp_sess_id", d.knrp_sess_id},
                         {"dc", d.dc ? 1 : 0},
                         {"sn", d.sn},
                         {"ciphered", to_hex(d.body)}};
        else
            j["pdcp"] = {
                {"knrp_sess_id", d.knrp_sess_id}, {"sn", d.sn}, {"ciphered", to_hex(d.body)}};
    }
    nlohmann::json x{{"verdict", name(d.verdict)}, {"keylog", have_keylog}};
    if (d.error) x["error"] = d.error->describe();
    if (d.kind == trace::PduKind::pc5s_clear && j.find("msg_type") == j.end())
        x["error"] = codec::decode(d.message).error().describe();
    if (!d.openings.empty()) {
        x["bearer"] = d.bearer;
        x["direction_from"] = name(d.direction_from);
        auto& list = x["openings"] = nlohmann::json::array();
        for (const auto& o : d.openings) {
            nlohmann::json oj{
                {"link_id", valid_utf8(o.link_id)},  // from the key log: anyone's text
                {"ciphering", static_cast<int>(o.ciphering)},
                {"integrity", static_cast<int>(o.integrity)},
                {"count", o.count},
                {"hfn", d.kind == trace::PduKind::data ? o.count >> 18 : o.count >> 12},
                {"direction", o.direction},
                {"deciphered", o.deciphered},
                {"mac", name(o.mac)},
                {"replayed", o.replayed},
                {"payload", to_hex(o.payload)}};
            if (auto s = printable(o.payload)) oj["text"] = *s;
            if (d.kind == trace::PduKind::data && o.mac != trace::MacCheck::bad) {
                if (auto ip = userplane::parse_l3_packet(o.payload)) {
                    oj["ipv6"] = {{"src", userplane::to_string(ip->src)},
                                  {"dst", userplane::to_string(ip->dst)},
                                  {"hop_limit", ip->hop_limit},
                                  {"udp_length", ip->data.size() + userplane::kUdpHeaderSize}};
                    if (auto s = printable(ip->data)) oj["ipv6"]["text"] = *s;
                }
            }
            if (d.kind == trace::PduKind::pc5s && d.verdict == trace::Verdict::opened) {
                if (auto m = codec::decode(o.payload))
                    oj["message"] = codec::to_json(*m, o.payload);
                else
                    oj["message_error"] = m.error().describe();
            }
            list.push_back(std::move(oj));
        }
    }
    // Solution B, layer 3: the end-to-end PDU inside the hop's IPv6 packet, as its own reading.
    for (const auto& c : d.carried) {
        auto inner = on_air_json(f, c, have_keylog);
        inner.erase("frame");
        inner.erase("hex");
        inner["udp_port"] = userplane::kL3ProtectedPort;
        x["carried"] = std::move(inner);
    }
    if (d.concealed) {  // SL-SRB0: an establishment request concealed on the air
        x["identities_concealed"] = true;
        x["revealed"] = d.kind == trace::PduKind::pc5s_clear;
        if (!d.concealed_why.empty()) x["concealed_why"] = d.concealed_why;
    }
    if (const auto& q = d.discovery) {
        nlohmann::json dj{{"restricted", q->restricted},
                          {"opened", q->opened},
                          {"counter_lsb", q->counter_lsb},
                          {"mic", to_hex(q->mic)}};
        if (q->opened) {
            dj["rsc"] = q->rsc;
            if (q->restricted) {
                dj["counter"] = q->counter;
                dj["replayed"] = q->replayed;
            }
        } else {
            dj["why"] = q->why;
        }
        x["discovery"] = std::move(dj);
    }
    j["decrypted"] = std::move(x);
    return j;
}

// What an eavesdropper without keys or discovery material reads (trace::observe_capture).
void observe_pcap(const DecodeArgs& a) {
    const auto frames = take(pcap::read_file(a.pcap));
    const auto o = trace::observe_capture(frames);
    const auto seconds = [](std::uint64_t us) { return static_cast<double>(us) / 1e6; };
    if (a.json) {
        nlohmann::json j{{"frames", o.frames},
                         {"certificates_in_clear", o.certificates_in_clear},
                         {"discovery_frames", o.discovery_frames},
                         {"discovery_readable", o.discovery_readable},
                         {"requests", o.requests},
                         {"requests_concealed", o.requests_concealed},
                         {"concealed", o.concealed},
                         {"identities", nlohmann::json::array()},
                         {"l2_ids", nlohmann::json::array()}};
        for (const auto& i : o.identities)
            j["identities"].push_back({{"identity", valid_utf8(i.identity)},
                                       {"field", i.field},
                                       {"first_frame", i.first_frame},
                                       {"frames", i.frames}});
        for (const auto& l : o.l2_ids)
            j["l2_ids"].push_back({{"l2_id", l.l2_id},
                                   {"first_us", l.first_us},
                                   {"last_us", l.last_us},
                                   {"lifetime_s", seconds(l.last_us - l.first_us)},
                                   {"frames", l.frames}});
        std::cout << j.dump() << "\n";
        return;
    }
    std::cout << fmt::format(
        "{}: what an eavesdropper without keys or discovery material reads, {} frames\n", a.pcap,
        o.frames);
    std::cout << fmt::format(
        "  discovery: {} frames, {} readable (open); {} certificates in "
        "clear\n",
        o.discovery_frames, o.discovery_readable, o.certificates_in_clear);
    std::cout << fmt::format(
        "  establishment requests: {}, {} with their identities concealed; SL-SRB0 messages "
        "concealed: {}\n",
        o.requests, o.requests_concealed, o.concealed);
    std::cout << fmt::format("  identities in clear: {}\n", o.identities.size());
    for (const auto& i : o.identities)
        std::cout << fmt::format("    \"{}\" in {} ({} frames, first frame {})\n",
                                 escape_text(i.identity), i.field, i.frames, i.first_frame);
    std::cout << fmt::format("  layer-2 IDs on the air: {}\n", o.l2_ids.size());
    for (const auto& l : o.l2_ids)
        std::cout << fmt::format("    0x{:06x}: {} frames over {:.3f} s\n", l.l2_id, l.frames,
                                 seconds(l.last_us - l.first_us));
}

void decode_pcap(const DecodeArgs& a) {
    const auto frames = take(pcap::read_file(a.pcap));
    std::vector<pc5::KeyLogRecord> records;
    if (!a.keylog.empty()) {
        const auto text = take(creds::read_file(a.keylog));
        std::vector<std::string> warnings;
        auto parsed = pc5::parse_key_log(text, &warnings);
        if (!parsed) {
            Error e = std::move(parsed).error();
            e.field = a.keylog + ": " + e.field;
            throw CommandError(e);
        }
        for (const auto& w : warnings)
            std::cerr << fmt::format("warning: {}: {}\n", a.keylog, w);
        records = std::move(*parsed);
    }
    auto deciphered = trace::decipher_capture(frames, records);
    if (!deciphered) {
        Error e = std::move(deciphered).error();
        e.field = a.keylog + ": " + e.field;
        throw CommandError(e);
    }
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const auto& f = frames[i];
        const auto& d = (*deciphered)[i];
        if (d.kind == trace::PduKind::plaintext) {
            print(f.message, a.json, &f, i + 1, fmt::format("{}: frame {}", a.pcap, i + 1));
        } else if (a.json) {
            std::cout << on_air_json(f, d, !a.keylog.empty()).dump() << "\n";
        } else {
            print_on_air_text(f, d, !a.keylog.empty());
        }
    }
}

// ------------------------------------------------------------------ sample captures

void write_samples(const std::string& path) {
    pcap::PcapWriter w;
    std::uint64_t t = 1'700'000'000'000'000;
    std::uint8_t hop = 0;
    for (const bool full : {true, false}) {
        for (const auto& m : codec::sample_messages(full)) {
            const auto bytes = take(codec::encode(m));
            pcap::FrameHeader h;
            h.sender_l2_id = 0x000a01;
            h.receiver_l2_id = 0x000b02;
            h.hop = static_cast<std::uint8_t>(hop++ % 3);
            h.direction = static_cast<std::uint8_t>(codec::sequence_number(m) & 1);
            h.lcid = codec::message_type(m) == codec::MessageType::establishment_request ? 0 : 2;
            h.flags = h.lcid == 0 ? 0 : pcap::kFlagIntegrityProtected;
            take(w.add(t, h, bytes));
            t += 1000;
        }
    }
    take(w.save(path));
}

// A capture of protected data PDUs with fresh random keys, and its key log: a direct link
// alice -> bob (LCID 4, 128-NEA2 / 128-NIA2) and an end-to-end link alice -> carol through a
// layer-2 relay (LCID 55, SRAP bearer 4, 128-NEA3 / 128-NIA3, both hops of each PDU), plus one
// protected PC5-S keep-alive end to end (SRAP SL-SRB2).
void write_data_sample(const std::string& pcap_path, const std::string& keylog_path) {
    constexpr pc5::L2Id kAlice = 0x00000a, kBob = 0x00000b, kCarol = 0x00000c, kRelay = 0x000050;
    constexpr std::uint8_t kAliceLocal = 1, kCarolLocal = 2;
    Rng& rng = system_rng();
    auto session_id = [&] {
        std::uint16_t id = 0;
        while (id == 0)
            id = static_cast<std::uint16_t>(rng.next_u32());
        return KnrpSessId{id};
    };
    auto make_keys = [&](const std::string& id, pc5::LinkKind kind, CipheringAlgorithm c,
                         IntegrityAlgorithm i) {
        pc5::DataKeys k;
        k.link_id = id;
        k.kind = kind;
        k.knrp_sess_id = session_id();
        k.ciphering = c;
        k.integrity = i;
        rng.fill(k.nrpek.reveal_mut());
        rng.fill(k.nrpik.reveal_mut());
        return k;
    };
    const auto direct =
        make_keys(pc5::make_link_id("alice", "bob", rng.next_u32()), pc5::LinkKind::hop,
                  CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2);
    const auto e2e =
        make_keys(pc5::make_link_id("alice", "carol", rng.next_u32()), pc5::LinkKind::e2e,
                  CipheringAlgorithm::nea3, IntegrityAlgorithm::nia3);
    auto side = [](pc5::DataKeys k, bool initiator, pc5::L2Id peer, std::uint8_t remote) {
        k.initiator = initiator;
        k.peer_l2 = peer;
        k.remote_local_id = remote;
        return k;
    };
    userplane::Endpoint alice({.l2_id = kAlice}), bob({.l2_id = kBob}), carol({.l2_id = kCarol});
    const pc5::Time t0{0};
    take(alice.install(side(direct, true, kBob, 0), {}, t0));
    take(bob.install(side(direct, false, kAlice, 0), {}, t0));
    take(alice.install(side(e2e, true, kRelay, kCarolLocal), {}, t0));
    take(carol.install(side(e2e, false, kRelay, kAliceLocal), {}, t0));

    trace::CaptureRecorder rec(1'700'000'000'000'000);
    pc5::Time now{0};
    auto send = [&](userplane::Endpoint& ep, const pc5::DataKeys& k, std::string_view text,
                    std::uint8_t bearer) {
        const std::span data(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
        take(ep.send(k.link_id, bearer, data, now));
        auto f = ep.poll_transmit();
        if (!f) throw CommandError(kExitBadInput, "write-data-sample: nothing was sent");
        now += std::chrono::milliseconds(1);
        rec.record(now, *f, k.link_id);
        return *f;
    };
    // What the layer-2 relay puts on its next hop: its own L2 IDs, the source's local UE ID.
    auto relay = [&](pc5::Frame f, pc5::L2Id to, std::uint8_t src_local) {
        f.src = kRelay;
        f.dst = to;
        f.pdu[1] = src_local;
        now += std::chrono::milliseconds(1);
        rec.record(now, f);
    };
    send(alice, direct, "hello bob", 4);
    send(alice, direct, std::string("\x00\x01\x02\xff binary", 11), 4);
    send(bob, direct, "hello alice", 4);
    relay(send(alice, e2e, "hello carol, via the relay", 4), kCarol, kAliceLocal);
    relay(send(carol, e2e, "hello alice, from carol", 4), kAlice, kCarolLocal);

    // A keep-alive on the end-to-end SL-SRB2 (3gpp-facts §4: BEARER 2), protected as PC5-S.
    auto ctx = take(pdcp::SecurityContext::create(e2e.knrp_sess_id, e2e.ciphering, e2e.integrity,
                                                  &e2e.nrpek, &e2e.nrpik, true));
    codec::DirectLinkKeepaliveRequest ka;
    ka.seq = 7;
    ka.keepalive_counter = 1;
    const auto message = take(codec::encode(codec::Message{ka}));
    pc5::Frame f{kAlice, kRelay, pc5::lcid::kEndToEnd, {}};
    take(srap::append_header({pc5::lcid::kSrb2, srap::kUnknownUeId, kCarolLocal}, f.pdu));
    const auto pdu = take(ctx.protect(pc5::lcid::kSrb2, message));
    f.pdu.insert(f.pdu.end(), pdu.begin(), pdu.end());
    now += std::chrono::milliseconds(1);
    rec.record(now, f, e2e.link_id);
    relay(f, kCarol, kAliceLocal);
    take(rec.save(pcap_path));

    // The key log, as the engines write it (docs/keylog.md), mode 0600.
    std::ostringstream text;
    pc5::KeyLogWriter log(text);
    for (const auto* k : {&direct, &e2e}) {
        const std::uint8_t id[] = {k->knrp_sess_id.msb(), k->knrp_sess_id.lsb()};
        log.bytes("KNRP_SESS_ID", k->link_id, id);
        log.algorithms(k->link_id, algorithm_identity_octet(k->ciphering),
                       algorithm_identity_octet(k->integrity));
        log.bytes("NRPEK", k->link_id, k->nrpek.reveal());
        log.bytes("NRPIK", k->link_id, k->nrpik.reveal());
    }
    take(creds::write_file(keylog_path, text.str(), 0600));
    std::cout << fmt::format("wrote {} ({} frames) and its key log {}\n", pcap_path, rec.frames(),
                             keylog_path);
}

void run(const DecodeArgs& a) {
    if (a.code_points) {
        std::cout << codec::code_points_markdown();
        return;
    }
    if (!a.write_samples.empty()) {
        write_samples(a.write_samples);
        return;
    }
    if (!a.write_data_sample.empty()) {
        write_data_sample(a.write_data_sample.at(0), a.write_data_sample.at(1));
        return;
    }
    if (a.hex.empty() && a.pcap.empty())
        throw CommandError(kExitBadInput, "decode: give a message in hex, or --pcap FILE");
    if (!a.keylog.empty() && a.pcap.empty())
        throw CommandError(kExitBadInput, "--keylog: deciphers the frames of --pcap FILE");
    std::size_t n = 0;
    for (const auto& text : a.hex) {
        ++n;
        const auto bytes =
            take(from_hex(text, a.hex.size() > 1 ? fmt::format("message {}", n) : "hex"));
        print(bytes, a.json, nullptr, n, a.hex.size() > 1 ? fmt::format("message {}", n) : "");
    }
    if (a.observer && a.pcap.empty())
        throw CommandError(kExitBadInput, "--observer: reads the frames of --pcap FILE");
    if (a.observer && !a.keylog.empty())
        throw CommandError(
            kExitBadInput,
            "--observer reads as an eavesdropper, who has no key log: drop --keylog");
    if (a.observer) return observe_pcap(a);
    if (!a.pcap.empty()) decode_pcap(a);
}

void register_decode(CLI::App& app) {
    auto args = std::make_shared<DecodeArgs>();
    auto* sub = app.add_subcommand("decode", "decode PC5 signalling messages (hex or pcap)");
    sub->add_option("hex", args->hex, "messages in hex, one per argument");
    sub->add_option("--pcap", args->pcap, "decode every frame of a pc5sec capture (USER0)");
    sub->add_option("--keylog", args->keylog,
                    "decipher the capture's on-air data and PC5-S PDUs with this key log "
                    "(docs/keylog.md)");
    sub->add_flag("--json", args->json, "one JSON object per message, with \"hex\"");
    sub->add_flag("--observer", args->observer,
                  "with --pcap: what an eavesdropper without keys or discovery material learns "
                  "(identities in clear, where, and how long each L2 ID lives)");
    sub->add_flag("--code-points", args->code_points,
                  "print the code-point table (docs/code-points.md)");
    sub->add_option("--write-samples", args->write_samples,
                    "write a capture with one message of every type (all IEs, then none)");
    sub->add_option("--write-data-sample", args->write_data_sample,
                    "write PCAP KEYLOG: protected data PDUs (LCID 4 and SRAP end to end) and a "
                    "protected PC5-S PDU under fresh random keys, and their key log")
        ->expected(2);
    sub->callback([args] { run(*args); });
}

}  // namespace

const CommandRegistrar kRegistrar{20, register_decode};

}  // namespace pc5sec::cli
