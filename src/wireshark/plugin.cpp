// The Wireshark plugin (docs/wireshark.md): dissects pc5sec's captures (pcap link type 147, USER0,
// docs/pcap-format.md) and `pc5sec ue`'s UDP frames (docs/udp.md), and, given the key log
// (docs/keylog.md) in the preference pc5s.keylog_file or the environment variable
// PC5SEC_KEYLOGFILE, deciphers NEA1/2/3 and verifies NIA1/2/3 the way a receiver does.
//
// Nothing here is a second copy of pc5sec: the fields are registered from the codec's message
// layouts and code-point table (codec::message_layouts, codec::code_point_table), the
// deciphering is trace::CaptureDecipherer (the one `pc5sec decode --keylog` uses), with
// pc5sec's own NEA/NIA, and the UDP frame is net::decode_frame.
#define WS_BUILD_DLL
#include <wireshark.h>

#include <epan/address.h>
#include <epan/address_types.h>
#include <epan/conversation_table.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/proto_data.h>
#include <epan/tap.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "pc5sec/code_points.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/net.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/request_privacy.hpp"
#include "pc5sec/text.hpp"
#include "pc5sec/trace_decrypt.hpp"
#include "pc5sec/version.hpp"

namespace {

using namespace pc5sec;
using codec::CodePointKind;
using codec::IeFormat;
using codec::IeValue;

// ------------------------------------------------------------------ fields

// Every field of the protocol, registered once at start-up. Wireshark keeps pointers into
// `hf`, `ids`, `strings` and `vals`, so none of them moves after registration.
struct Fields {
    std::map<std::string, int*> by_key;  // "hdr.lcid", "establishment_request" IE names, ...
    std::deque<int> ids;
    std::deque<std::string> strings;
    std::deque<std::vector<value_string>> vals;
    std::map<CodePointKind, const value_string*> kind_vals;
    std::vector<hf_register_info> hf;

    const char* keep(std::string s) { return strings.emplace_back(std::move(s)).c_str(); }

    void add(const std::string& key, const std::string& title, ftenum type, int display,
             const void* strings_ = nullptr, std::uint64_t mask = 0, const char* blurb = nullptr) {
        if (by_key.count(key)) return;
        int* id = &ids.emplace_back(-1);
        by_key[key] = id;
        hf.push_back(hf_register_info{
            id, {keep(title), keep("pc5s." + key), type, display, strings_, mask, blurb, HFILL}});
    }

    // The names of one table of the code-point table, as Wireshark's value_string.
    const value_string* names(CodePointKind kind) {
        if (auto it = kind_vals.find(kind); it != kind_vals.end()) return it->second;
        auto& v = vals.emplace_back();
        for (const auto& row : codec::code_point_table())
            if (row.kind == kind) v.push_back(value_string{row.value, row.name});
        v.push_back(value_string{0, nullptr});
        return kind_vals[kind] = v.data();
    }

    int operator[](const std::string& key) const {
        auto it = by_key.find(key);
        return it == by_key.end() ? -1 : *it->second;
    }
};

Fields& fields() {
    static Fields f;
    return f;
}

int proto_pc5s = -1;
int tap_pc5s = -1;
gint ett_pc5s = -1, ett_hdr = -1, ett_flags = -1, ett_msg = -1, ett_ie = -1, ett_pdu = -1,
     ett_opening = -1, ett_carried = -1;
expert_field ei_mac_bad = EI_INIT;
expert_field ei_replay = EI_INIT;
expert_field ei_no_key = EI_INIT;
expert_field ei_malformed = EI_INIT;
expert_field ei_provisional = EI_INIT;
expert_field ei_keylog = EI_INIT;
const char* pref_keylog = "";
dissector_handle_t ipv6_handle = nullptr;
dissector_handle_t data_handle = nullptr;

constexpr const char* kKeylogEnv = "PC5SEC_KEYLOGFILE";
// Whether the frame being dissected may name its sender's L2 ID (learn_user_info): not a relay's
// forwarded copy, and over UDP (which does not say) only a message in clear on LCID 0 or 63.
bool may_name = false;

// The fields of one IE value (codec::IeValue): the same names as `pc5sec decode --json`.
void add_ie_fields(Fields& F, const std::string& n, IeValue v) {
    switch (v) {
        case IeValue::u8:
            F.add(n, n, FT_UINT8, BASE_DEC);
            break;
        case IeValue::flag:
            F.add(n, n, FT_UINT8, BASE_DEC);
            break;
        case IeValue::relay_indication:
            F.add(n, n, FT_UINT8, BASE_DEC, VALS(F.names(CodePointKind::relay_indication)));
            break;
        case IeValue::cause:
            F.add(n, n, FT_UINT8, BASE_DEC, VALS(F.names(CodePointKind::cause)));
            break;
        case IeValue::u16:
            F.add(n, n, FT_UINT16, BASE_DEC);
            break;
        case IeValue::u24:
            F.add(n, n, FT_UINT24, BASE_DEC);
            break;
        case IeValue::u32:
            F.add(n, n, FT_UINT32, BASE_DEC);
            break;
        case IeValue::bytes:
            F.add(n, n, FT_BYTES, BASE_NONE);
            break;
        case IeValue::uesc:
            F.add(n + ".ea", "5G-EA bitmap (bit 8 = EA0)", FT_UINT8, BASE_DEC);
            F.add(n + ".ia", "5G-IA bitmap (bit 8 = IA0)", FT_UINT8, BASE_DEC);
            break;
        case IeValue::policy:
            F.add(n + ".integrity", "integrity", FT_UINT8, BASE_DEC,
                  VALS(F.names(CodePointKind::signalling_policy)));
            F.add(n + ".ciphering", "ciphering", FT_UINT8, BASE_DEC,
                  VALS(F.names(CodePointKind::signalling_policy)));
            break;
        case IeValue::algs:
            F.add(n + ".ciphering", "ciphering", FT_UINT8, BASE_DEC);
            F.add(n + ".integrity", "integrity", FT_UINT8, BASE_DEC);
            break;
        case IeValue::key_est_info:
        case IeValue::authentication_info: {
            F.add(n + ".version", "version", FT_UINT8, BASE_DEC);
            const auto tags = v == IeValue::key_est_info ? CodePointKind::key_est_tag
                                                         : CodePointKind::auth_info_tag;
            if (v == IeValue::key_est_info)
                F.add(n + ".method", "method", FT_UINT8, BASE_DEC,
                      VALS(F.names(CodePointKind::key_est_method)));
            for (const auto& row : codec::code_point_table()) {
                if (row.kind != tags) continue;
                const std::string key = n + "." + row.name;
                // One-octet items are numbers in `pc5sec decode --json`; the rest octets.
                if (v == IeValue::authentication_info &&
                    std::string_view(row.name) == "signature_algorithm")
                    F.add(key, row.name, FT_UINT8, BASE_DEC,
                          VALS(F.names(CodePointKind::signature_algorithm)));
                else if (v == IeValue::authentication_info &&
                         std::string_view(row.name) == "selected_algorithms")
                    add_ie_fields(F, key, IeValue::algs);
                else if (v == IeValue::authentication_info &&
                         std::string_view(row.name) == "signing_time")
                    F.add(key, row.name, FT_UINT64, BASE_DEC);
                else
                    F.add(key, row.name, FT_BYTES, BASE_NONE);
            }
            break;
        }
    }
}

// ------------------------------------------------------------------ per capture

struct Capture {
    std::optional<trace::CaptureDecipherer> decipherer;
    bool have_keylog = false;
    std::string keylog_source;  // the path, for the expert texts
    std::string keylog_error;   // a bad key log: what is wrong with it (never a key)
    std::unordered_map<guint32, trace::DecipheredFrame> results;
    std::map<pc5::L2Id, std::string> user_info;  // from the messages seen so far
    guint32 provisional_frame = 0;               // the one frame that carries the note
    guint32 keylog_error_frame = 0;
};

Capture& capture() {
    static Capture c;
    return c;
}

void init_capture() {
    Capture& c = capture();
    c = Capture{};
    std::string path = pref_keylog ? pref_keylog : "";
    if (path.empty()) {
        const char* env = std::getenv(kKeylogEnv);
        if (env) path = env;
    }
    std::vector<pc5::KeyLogRecord> records;
    if (!path.empty()) {
        c.keylog_source = path;
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        if (!in) {
            c.keylog_error = fmt::format("key log {}: cannot be read", path);
        } else if (auto parsed = pc5::parse_key_log(text.str())) {
            records = std::move(*parsed);
            c.have_keylog = true;
        } else {
            c.keylog_error = fmt::format("key log {}: {}", path, parsed.error().describe());
        }
    }
    auto d = trace::CaptureDecipherer::create(records);
    if (!d) {
        c.keylog_error = fmt::format("key log {}: {}", path, d.error().describe());
        c.have_keylog = false;
        d = trace::CaptureDecipherer::create({});
    }
    c.decipherer.emplace(std::move(*d));
}

void cleanup_capture() {
    capture() = Capture{};
}

// ------------------------------------------------------------------ helpers

std::uint32_t be(tvbuff_t* tvb, int off, int n) {
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i)
        v = v << 8 | tvb_get_guint8(tvb, off + i);
    return v;
}

std::vector<std::uint8_t> bytes_of(tvbuff_t* tvb, int off, int len) {
    std::vector<std::uint8_t> v(static_cast<std::size_t>(len));
    if (len > 0) tvb_memcpy(tvb, v.data(), off, static_cast<size_t>(len));
    return v;
}

void malformed(packet_info* pinfo, proto_item* at, const std::string& what) {
    expert_add_info_format(pinfo, at, &ei_malformed, "Malformed: %s", escape_text(what).c_str());
}

// A code point pc5sec chose itself: a field on the item, and a single expert note per capture.
void mark(proto_tree* tree, packet_info* pinfo, proto_item* item, tvbuff_t* tvb, CodePointKind kind,
          std::uint8_t value, const std::string& what) {
    const auto* row = codec::find_code_point(kind, value);
    if (!row || row->status != codec::CodePointStatus::provisional) return;
    proto_item_append_text(item, " [provisional]");
    proto_item* p = proto_tree_add_string(tree, fields()["provisional"], tvb, 0, 0, what.c_str());
    proto_item_set_generated(p);
    // One note per capture: on the first frame that has one, once in each of its dissections.
    Capture& c = capture();
    if (c.provisional_frame == 0) c.provisional_frame = pinfo->num;
    if (c.provisional_frame != pinfo->num || p_get_proto_data(pinfo->pool, pinfo, proto_pc5s, 0))
        return;
    p_add_proto_data(pinfo->pool, pinfo, proto_pc5s, 0, GINT_TO_POINTER(1));
    expert_add_info_format(pinfo, p, &ei_provisional,
                           "This capture uses code points that pc5sec chose itself "
                           "(provisional: docs/code-points.md); filter pc5s.provisional finds "
                           "them");
}

std::string l2_text(pc5::L2Id id) {
    auto& names = capture().user_info;
    auto it = names.find(id);
    if (it == names.end()) return fmt::format("0x{:06x}", id);
    return fmt::format("0x{:06x} ({})", id, escape_text(it->second));
}

// ------------------------------------------------------------------ PC5 signalling messages

const codec::MessageLayout* layout_of(std::uint8_t type) {
    static const std::vector<codec::MessageLayout> layouts = codec::message_layouts();
    for (const auto& l : layouts)
        if (static_cast<std::uint8_t>(l.type) == type) return &l;
    return nullptr;
}

// Containers: version (and method), then tag (1) / length (2) / value items.
bool dissect_container(IeValue v, const std::string& n, tvbuff_t* tvb, int off, int len,
                       packet_info* pinfo, proto_tree* tree) {
    Fields& F = fields();
    const int end = off + len;
    if (len < 1) return malformed(pinfo, tree, n + ": empty container"), false;
    proto_tree_add_item(tree, F[n + ".version"], tvb, off, 1, ENC_BIG_ENDIAN);
    int p = off + 1;
    CodePointKind tags = CodePointKind::auth_info_tag;
    if (v == IeValue::key_est_info) {
        if (len < 2) return malformed(pinfo, tree, n + ": truncated"), false;
        proto_item* it = proto_tree_add_item(tree, F[n + ".method"], tvb, p, 1, ENC_BIG_ENDIAN);
        mark(tree, pinfo, it, tvb, CodePointKind::key_est_method, tvb_get_guint8(tvb, p),
             n + ".method");
        p += 1;
        tags = CodePointKind::key_est_tag;
    }
    while (p < end) {
        if (p + 3 > end) return malformed(pinfo, tree, n + ": truncated item"), false;
        const std::uint8_t tag = tvb_get_guint8(tvb, p);
        const int ilen = static_cast<int>(be(tvb, p + 1, 2));
        if (p + 3 + ilen > end)
            return malformed(pinfo, tree, n + ": item length past the end"), false;
        const std::string item = n + "." + codec::code_point_name(tags, tag);
        const int hf = F[item];
        if (hf < 0 && F[item + ".ciphering"] >= 0 && ilen == 1) {
            // Selected algorithms: NEA in the high nibble, NIA in the low one.
            const std::uint8_t a = tvb_get_guint8(tvb, p + 3);
            proto_tree_add_uint(tree, F[item + ".ciphering"], tvb, p + 3, 1, a >> 4);
            proto_tree_add_uint(tree, F[item + ".integrity"], tvb, p + 3, 1, a & 0x0F);
        } else if (hf < 0) {
            proto_tree_add_item(tree, F["unknown_tag"], tvb, p, 1, ENC_BIG_ENDIAN);
        } else {
            const auto type = proto_registrar_get_ftype(hf);
            if ((type == FT_UINT8 && ilen == 1) || (type == FT_UINT64 && ilen == 8))
                proto_tree_add_item(tree, hf, tvb, p + 3, ilen, ENC_BIG_ENDIAN);
            else if (type == FT_BYTES)
                proto_tree_add_item(tree, hf, tvb, p + 3, ilen, ENC_NA);
            else
                malformed(
                    pinfo, tree,
                    fmt::format("{}.{}: {} octets", n, codec::code_point_name(tags, tag), ilen));
        }
        p += 3 + ilen;
    }
    return true;
}

bool dissect_value(const codec::IeLayout& ie, tvbuff_t* tvb, int off, int len, packet_info* pinfo,
                   proto_tree* tree) {
    Fields& F = fields();
    const std::string n = ie.name;
    const auto need = ie.size;  // a fixed value's octets (the codec's), 0 when the length says
    if (need && static_cast<std::size_t>(len) < need)
        return malformed(pinfo, tree, fmt::format("{}: {} octets, {} needed", n, len, need)), false;
    switch (ie.value) {
        case IeValue::uesc:
            proto_tree_add_item(tree, F[n + ".ea"], tvb, off, 1, ENC_BIG_ENDIAN);
            proto_tree_add_item(tree, F[n + ".ia"], tvb, off + 1, 1, ENC_BIG_ENDIAN);
            return true;
        case IeValue::policy: {
            const std::uint8_t v = tvb_get_guint8(tvb, off);
            proto_tree_add_uint(tree, F[n + ".integrity"], tvb, off, 1, v & 0x07);
            proto_tree_add_uint(tree, F[n + ".ciphering"], tvb, off, 1, (v >> 4) & 0x07);
            return true;
        }
        case IeValue::algs: {
            const std::uint8_t v = tvb_get_guint8(tvb, off);
            proto_tree_add_uint(tree, F[n + ".ciphering"], tvb, off, 1, v >> 4);
            proto_tree_add_uint(tree, F[n + ".integrity"], tvb, off, 1, v & 0x0F);
            return true;
        }
        case IeValue::key_est_info:
        case IeValue::authentication_info:
            return dissect_container(ie.value, n, tvb, off, len, pinfo, tree);
        case IeValue::bytes:
            proto_tree_add_item(tree, F[n], tvb, off, len, ENC_NA);
            return true;
        default: {
            proto_item* it =
                proto_tree_add_item(tree, F[n], tvb, off, static_cast<int>(need), ENC_BIG_ENDIAN);
            if (ie.value == IeValue::cause)
                mark(tree, pinfo, it, tvb, CodePointKind::cause, tvb_get_guint8(tvb, off), n);
            return true;
        }
    }
}

// Names an L2 ID by the user info its UE gives for itself: a source's or target's request or
// accept that its own UE sent (not a relay's forwarded copy), a relay's discovery messages, a
// discoverer's solicitation. The first name an L2 ID gets stays.
void learn_user_info(const codec::Message& m, pc5::L2Id sender) {
    auto name = [&](const codec::Octets& o) {
        if (o.size() != 0)
            capture().user_info.emplace(sender, std::string(o.bytes.begin(), o.bytes.end()));
    };
    std::visit(
        [&](const auto& x) {
            using M = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentRequest> ||
                          std::is_same_v<M, codec::DirectLinkEstablishmentAccept>)
                name(x.source_user_info);
            else if constexpr (requires { x.relay_user_info; })
                name(x.relay_user_info);
            else if constexpr (requires { x.discoverer_user_info; })
                name(x.discoverer_user_info);
        },
        m);
}

// One PC5 signalling message (octet 1 type, octet 2 sequence number, then the IEs), in `tvb`
// from `off` to its end.
bool dissect_message(tvbuff_t* tvb, int off, packet_info* pinfo, proto_tree* tree, pc5::L2Id sender,
                     bool relayed) {
    Fields& F = fields();
    const int len = static_cast<int>(tvb_reported_length(tvb)) - off;
    if (len < 2) return malformed(pinfo, tree, "message truncated"), false;
    const std::uint8_t mt = tvb_get_guint8(tvb, off);
    const auto* layout = layout_of(mt);
    const auto* row = codec::find_code_point(CodePointKind::message_type, mt);
    proto_item* mi = proto_tree_add_subtree_format(
        tree, tvb, off, len, ett_msg, nullptr, "%s",
        layout && row ? row->title : fmt::format("Unknown message type 0x{:02x}", mt).c_str());
    proto_tree* mtree = proto_item_get_subtree(mi);
    (void)mi;
    proto_item* ti = proto_tree_add_item(mtree, F["msg_type"], tvb, off, 1, ENC_BIG_ENDIAN);
    // A discovery message has no sequence number (TS 24.554 11.2.1).
    const bool disc = codec::is_discovery(static_cast<codec::MessageType>(mt));
    if (!disc) proto_tree_add_item(mtree, F["seq"], tvb, off + 1, 1, ENC_BIG_ENDIAN);
    if (!layout || !row) return malformed(pinfo, ti, "unknown message type"), false;
    proto_item_set_generated(proto_tree_add_string(mtree, F["msg_name"], tvb, off, 1, row->name));
    mark(mtree, pinfo, ti, tvb, CodePointKind::message_type, mt, "msg_type");
    if (disc)
        col_add_fstr(pinfo->cinfo, COL_INFO, "%s", row->title);
    else
        col_add_fstr(pinfo->cinfo, COL_INFO, "%s%s seq=%u", relayed ? "[relayed] " : "", row->title,
                     tvb_get_guint8(tvb, off + 1));
    if (may_name && !relayed && !PINFO_FD_VISITED(pinfo)) {
        const auto octets = bytes_of(tvb, off, len);  // the decoded message's views point here
        if (auto m = codec::decode(octets)) learn_user_info(*m, sender);
    }

    const int end = off + len;
    int p = off + (disc ? 1 : 2);
    std::map<std::uint8_t, const codec::IeLayout*> optional;
    for (const auto& ie : layout->ies) {
        if (ie.iei) {
            optional[*ie.iei] = &ie;
            continue;
        }
        int vlen = static_cast<int>(ie.size);
        int start = p;
        if (ie.format != IeFormat::v) {
            const int lo = ie.format == IeFormat::lv ? 1 : 2;
            if (p + lo > end)
                return malformed(pinfo, mtree, std::string(ie.name) + ": missing"), false;
            vlen = static_cast<int>(be(tvb, p, lo));
            start = p + lo;
        }
        if (start + vlen > end)
            return malformed(pinfo, mtree, std::string(ie.name) + ": truncated"), false;
        proto_tree* it =
            proto_tree_add_subtree(mtree, tvb, p, start - p + vlen, ett_ie, nullptr, ie.name);
        if (!dissect_value(ie, tvb, start, vlen, pinfo, it)) return false;
        p = start + vlen;
    }
    while (p < end) {
        const std::uint8_t iei = tvb_get_guint8(tvb, p);
        const codec::IeLayout* ie = nullptr;
        if (auto it = optional.find(iei); it != optional.end()) ie = it->second;
        if (!ie && iei >= 0x80)
            if (auto it = optional.find(iei & 0xF0); it != optional.end()) ie = it->second;
        if (ie && (ie->format == IeFormat::t1 || ie->format == IeFormat::t2)) {
            proto_item* it = proto_tree_add_uint(mtree, F[ie->name], tvb, p, 1,
                                                 ie->format == IeFormat::t1 ? (iei & 0x0F) : 1u);
            mark(mtree, pinfo, it, tvb, CodePointKind::iei, *ie->iei, ie->name);
            p += 1;
        } else if (ie) {
            int vlen = static_cast<int>(ie->size);
            int start = p + 1;
            if (ie->format == IeFormat::tlv || ie->format == IeFormat::tlve) {
                const int lo = ie->format == IeFormat::tlv ? 1 : 2;
                if (p + 1 + lo > end)
                    return malformed(pinfo, mtree, std::string(ie->name) + ": truncated"), false;
                vlen = static_cast<int>(be(tvb, p + 1, lo));
                start = p + 1 + lo;
            }
            if (start + vlen > end)
                return malformed(pinfo, mtree, std::string(ie->name) + ": length past the end"),
                       false;
            proto_item* item = nullptr;
            proto_tree* it = proto_tree_add_subtree_format(mtree, tvb, p, start - p + vlen, ett_ie,
                                                           &item, "%s (IEI 0x%02x)", ie->name, iei);
            mark(it, pinfo, item, tvb, CodePointKind::iei, *ie->iei, ie->name);
            if (!dissect_value(*ie, tvb, start, vlen, pinfo, it)) return false;
            p = start + vlen;
        } else {
            // An unknown IE is skipped as TS 24.007 says (docs/code-points.md).
            proto_tree_add_item(mtree, F["unknown_iei"], tvb, p, 1, ENC_BIG_ENDIAN);
            if (iei >= 0x80) {
                p += 1;
            } else {
                const int lo = (iei >> 4) == 7 ? 2 : 1;
                if (p + 1 + lo > end) return malformed(pinfo, mtree, "unknown IE truncated"), false;
                p += 1 + lo + static_cast<int>(be(tvb, p + 1, lo));
            }
        }
    }
    return true;
}

// ------------------------------------------------------------------ deciphering

void show_data_payload(tvbuff_t* child, packet_info* pinfo, proto_tree* tree) {
    // Through a layer-3 relay the data are IPv6 packets (docs/userplane.md): Wireshark's own
    // IPv6 dissector reads them. Otherwise the octets as they are.
    const bool ipv6 = tvb_reported_length(child) >= 40 && (tvb_get_guint8(child, 0) >> 4) == 6;
    if (ipv6 && ipv6_handle) {
        call_dissector(ipv6_handle, child, pinfo, tree);
    } else if (data_handle) {
        call_dissector(data_handle, child, pinfo, tree);
    }
}

void show_openings(const trace::DecipheredFrame& d, tvbuff_t* tvb, int off, packet_info* pinfo,
                   proto_tree* tree, proto_item* at, pc5::L2Id sender, bool relayed) {
    Fields& F = fields();
    Capture& c = capture();
    switch (d.verdict) {
        case trace::Verdict::no_key:
            proto_item_set_generated(proto_tree_add_uint(tree, F["verdict"], tvb, off, 0, 3));
            if (!c.keylog_error.empty()) {
                if (c.keylog_error_frame == 0) c.keylog_error_frame = pinfo->num;
                if (c.keylog_error_frame == pinfo->num)
                    expert_add_info_format(pinfo, at, &ei_keylog, "%s",
                                           escape_text(c.keylog_error).c_str());
            }
            expert_add_info_format(
                pinfo, at, &ei_no_key, "No key for KNRP-sess ID 0x%04x in the key log%s",
                d.knrp_sess_id,
                c.have_keylog            ? ""
                : c.keylog_error.empty() ? " (none given: set the preference pc5s.keylog_file or "
                                           "PC5SEC_KEYLOGFILE)"
                                         : " (the key log could not be used: see pc5s.keylog.bad)");
            return;
        case trace::Verdict::malformed:
            proto_item_set_generated(proto_tree_add_uint(tree, F["verdict"], tvb, off, 0, 4));
            malformed(pinfo, at, d.error ? d.error->describe() : "malformed PDU");
            return;
        case trace::Verdict::none:
            return;
        case trace::Verdict::opened:
        case trace::Verdict::mac_bad:
            break;
    }
    proto_item_set_generated(proto_tree_add_uint(tree, F["verdict"], tvb, off, 0,
                                                 d.verdict == trace::Verdict::opened ? 1 : 2));
    for (const auto& o : d.openings) {
        proto_item* oi = nullptr;
        proto_tree* ot = proto_tree_add_subtree_format(
            tree, tvb, off, 0, ett_opening, &oi,
            "Deciphered: %s, BEARER %u, COUNT %u, DIRECTION %u",
            o.link_id.empty() ? "no security (KNRP-sess ID 0)"
                              : escape_text("link " + o.link_id).c_str(),
            d.bearer, o.count, o.direction);
        proto_item_set_generated(oi);
        proto_item_set_generated(
            proto_tree_add_string(ot, F["link_id"], tvb, off, 0, escape_text(o.link_id).c_str()));
        proto_item_set_generated(proto_tree_add_uint(ot, F["bearer"], tvb, off, 0, d.bearer));
        proto_item_set_generated(proto_tree_add_uint(ot, F["count"], tvb, off, 0, o.count));
        proto_item_set_generated(proto_tree_add_uint(ot, F["direction"], tvb, off, 0, o.direction));
        proto_item_set_generated(proto_tree_add_uint(ot, F["direction_from"], tvb, off, 0,
                                                     static_cast<unsigned>(d.direction_from)));
        proto_item_set_generated(proto_tree_add_uint(ot, F["ciphering"], tvb, off, 0,
                                                     static_cast<unsigned>(o.ciphering)));
        proto_item_set_generated(proto_tree_add_uint(ot, F["integrity"], tvb, off, 0,
                                                     static_cast<unsigned>(o.integrity)));
        if (o.mac != trace::MacCheck::none) {
            proto_item* mi = proto_tree_add_uint(ot, F["mac_ok"], tvb, off, 0,
                                                 o.mac == trace::MacCheck::bad ? 0 : 1);
            proto_item_set_generated(mi);
            if (o.mac == trace::MacCheck::bad)
                expert_add_info_format(pinfo, at, &ei_mac_bad,
                                       "MAC-I does not verify under the key log's keys for "
                                       "KNRP-sess ID 0x%04x (TS 33.536 5.3.3.1.4: a receiver "
                                       "discards it)",
                                       d.knrp_sess_id);
        }
        if (o.replayed) {
            proto_item_set_generated(proto_tree_add_uint(ot, F["replayed"], tvb, off, 0, 1));
            expert_add_info_format(pinfo, at, &ei_replay,
                                   "Replayed COUNT %u: an earlier frame between these L2 IDs "
                                   "verified under it (a receiver discards it)",
                                   o.count);
        }
        if (o.mac == trace::MacCheck::bad || o.payload.empty()) continue;
        tvbuff_t* child =
            tvb_new_child_real_data(tvb, o.payload.data(), static_cast<guint>(o.payload.size()),
                                    static_cast<gint>(o.payload.size()));
        add_new_data_source(
            pinfo, child, d.kind == trace::PduKind::pc5s ? "Deciphered PC5-S" : "Deciphered data");
        proto_item_set_generated(proto_tree_add_item(ot, F["deciphered"], child, 0, -1, ENC_NA));
        if (d.kind == trace::PduKind::pc5s) {
            dissect_message(child, 0, pinfo, ot, sender, relayed);
        } else {
            show_data_payload(child, pinfo, ot);
            for (const auto& inner : d.carried) {
                proto_item* ci = nullptr;
                proto_tree* ct = proto_tree_add_subtree(
                    ot, child, 0, -1, ett_carried, &ci,
                    "End-to-end data PDU carried in the hop's IPv6/UDP packet (layer-3 relay)");
                proto_item_set_generated(ci);
                proto_item_set_generated(proto_tree_add_uint(ct, F["data.knrp_sess_id"], child, 0,
                                                             0, inner.knrp_sess_id));
                proto_item_set_generated(
                    proto_tree_add_uint(ct, F["data.sn"], child, 0, 0, inner.sn));
                show_openings(inner, child, 0, pinfo, ct, ci, sender, relayed);
            }
        }
    }
}

// ------------------------------------------------------------------ on-air PDUs

struct Pdu {
    const trace::DecipheredFrame* d = nullptr;
    pc5::L2Id sender = 0;
    std::uint16_t knrp_sess_id = 0;
    bool relayed = false;  // a relay's forwarded copy (direction unknown)
};

void dissect_data(tvbuff_t* tvb, int off, packet_info* pinfo, proto_tree* tree, std::uint8_t bearer,
                  Pdu& pdu) {
    Fields& F = fields();
    proto_item* di = nullptr;
    proto_tree* dt = proto_tree_add_subtree_format(tree, tvb, off, -1, ett_pdu, &di,
                                                   "Data PDU (bearer %u)", bearer);
    if (static_cast<int>(tvb_reported_length(tvb)) - off < 5)
        return malformed(pinfo, di, "data PDU header truncated");
    proto_tree_add_item(dt, F["data.knrp_sess_id"], tvb, off, 2, ENC_BIG_ENDIAN);
    proto_tree_add_item(dt, F["data.dc"], tvb, off + 2, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(dt, F["data.sn"], tvb, off + 2, 3, ENC_BIG_ENDIAN);
    if (static_cast<int>(tvb_reported_length(tvb)) > off + 5)
        proto_tree_add_item(dt, F["data.ciphered"], tvb, off + 5, -1, ENC_NA);
    pdu.knrp_sess_id = static_cast<std::uint16_t>(be(tvb, off, 2));
    col_add_fstr(pinfo->cinfo, COL_INFO, "%sData PDU bearer %u KNRP-sess ID 0x%04x SN %u",
                 pdu.relayed ? "[relayed] " : "", bearer, pdu.knrp_sess_id,
                 be(tvb, off + 2, 3) & 0x3FFFF);
    if (pdu.d) show_openings(*pdu.d, tvb, off, pinfo, dt, di, pdu.sender, pdu.relayed);
}

void dissect_pdcp(tvbuff_t* tvb, int off, packet_info* pinfo, proto_tree* tree, std::uint8_t bearer,
                  bool clear, Pdu& pdu) {
    Fields& F = fields();
    proto_item* pi = nullptr;
    proto_tree* pt = proto_tree_add_subtree_format(tree, tvb, off, -1, ett_pdu, &pi,
                                                   "Protected PC5-S PDU (bearer %u)", bearer);
    const int len = static_cast<int>(tvb_reported_length(tvb)) - off;
    if (len < 8) return malformed(pinfo, pi, "PDCP PDU truncated");
    proto_tree_add_item(pt, F["pdcp.knrp_sess_id"], tvb, off, 2, ENC_BIG_ENDIAN);
    proto_tree_add_item(pt, F["pdcp.sn"], tvb, off + 2, 2, ENC_BIG_ENDIAN);
    pdu.knrp_sess_id = static_cast<std::uint16_t>(be(tvb, off, 2));
    col_add_fstr(pinfo->cinfo, COL_INFO, "%sProtected PC5-S bearer %u KNRP-sess ID 0x%04x SN %u",
                 pdu.relayed ? "[relayed] " : "", bearer, pdu.knrp_sess_id,
                 be(tvb, off + 2, 2) & 0x0FFF);
    proto_tree_add_item(pt, F["pdcp.ciphered"], tvb, off + 4, -1, ENC_NA);
    const bool opened = pdu.d && pdu.d->verdict == trace::Verdict::opened;
    if (clear && len > 8 && !opened && codec::decode(bytes_of(tvb, off + 4, len - 8))) {
        // Integrity-only (the security mode command): read as an eavesdropper reads it, as
        // `pc5sec decode` does, the MAC-I not checked without the key log.
        dissect_message(tvb_new_subset_length(tvb, off + 4, len - 8), 0, pinfo, pt, pdu.sender,
                        pdu.relayed);
        proto_tree_add_item(pt, F["mac_i"], tvb, off + len - 4, 4, ENC_NA);
    }
    if (pdu.d) show_openings(*pdu.d, tvb, off, pinfo, pt, pi, pdu.sender, pdu.relayed);
}

// LCID 58: a discovery message (pc5sec/discovery.hpp). Open discovery is read as it is;
// restricted discovery is scrambled on the air, and opened with the RSC's material from the key
// log (DUSK, DUIK, DUCK) as `pc5sec decode --keylog` opens it.
void dissect_discovery(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, Pdu& pdu) {
    Fields& F = fields();
    Capture& c = capture();
    const int len = static_cast<int>(tvb_reported_length(tvb));
    const int trailer = static_cast<int>(discovery::kTrailerSize);
    if (len < trailer + 2) return malformed(pinfo, tree, "discovery message truncated");
    const bool restricted = discovery::restricted_on_air(tvb_get_guint8(tvb, 0));
    proto_item* di = nullptr;
    proto_tree* dt = proto_tree_add_subtree_format(
        tree, tvb, 0, len, ett_pdu, &di, "UE-to-UE relay discovery, %s",
        restricted ? "restricted (scrambled, ciphered, MIC)" : "open (not protected)");
    proto_item_set_generated(proto_tree_add_uint(dt, F["disc.restricted"], tvb, 0, 0, restricted));
    proto_tree_add_item(dt, F["disc.counter_lsb"], tvb, len - trailer, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(dt, F["disc.mic"], tvb, len - 4, 4, ENC_NA);
    // Open discovery reads without a key log; the decipherer (with one) says the same.
    std::optional<discovery::Opened> own;
    const trace::DiscoveryFrame* q = pdu.d && pdu.d->discovery ? &*pdu.d->discovery : nullptr;
    const std::vector<std::uint8_t>* plain = q && q->opened ? &pdu.d->message : nullptr;
    if (!pdu.d && !restricted) {
        discovery::Security none;
        if (auto o = none.open(bytes_of(tvb, 0, len), discovery::UtcTime{}, false)) {
            own = std::move(*o);
            plain = &own->plain;
        }
    }
    const bool opened = plain != nullptr;
    proto_item_set_generated(proto_tree_add_uint(dt, F["disc.opened"], tvb, 0, 0, opened));
    if (q && q->opened && q->restricted) {
        proto_item_set_generated(proto_tree_add_uint(dt, F["disc.rsc"], tvb, 0, 0, q->rsc));
        proto_item_set_generated(proto_tree_add_uint(dt, F["disc.counter"], tvb, 0, 0, q->counter));
        proto_item* ri =
            proto_tree_add_uint(dt, F["disc.replayed"], tvb, 0, 0, q->replayed ? 1 : 0);
        proto_item_set_generated(ri);
        if (q->replayed)
            expert_add_info_format(pinfo, ri, &ei_replay,
                                   "Replayed discovery: counter %u and this MIC were opened before",
                                   q->counter);
    } else if (q && q->opened) {
        proto_item_set_generated(proto_tree_add_uint(dt, F["disc.rsc"], tvb, 0, 0, q->rsc));
    } else if (own) {
        proto_item_set_generated(proto_tree_add_uint(dt, F["disc.rsc"], tvb, 0, 0, own->rsc));
    }
    if (opened) {
        // The message as its sender built it (type restored, fields deciphered).
        auto* copy = static_cast<guint8*>(wmem_alloc(pinfo->pool, plain->size()));
        std::copy(plain->begin(), plain->end(), copy);
        tvbuff_t* child = tvb_new_child_real_data(tvb, copy, static_cast<guint>(plain->size()),
                                                  static_cast<gint>(plain->size()));
        if (restricted) add_new_data_source(pinfo, child, "Opened discovery");
        dissect_message(child, 0, pinfo, dt, pdu.sender, false);
        return;
    }
    if (restricted) proto_tree_add_item(dt, F["disc.scrambled"], tvb, 0, len - trailer, ENC_NA);
    if (pdu.d && pdu.d->verdict == trace::Verdict::malformed) {
        proto_item_set_generated(proto_tree_add_uint(dt, F["verdict"], tvb, 0, 0, 4));
        malformed(pinfo, di, pdu.d->error ? pdu.d->error->describe() : "malformed discovery");
        return;
    }
    const bool mac_bad = pdu.d && pdu.d->verdict == trace::Verdict::mac_bad;
    proto_item_set_generated(proto_tree_add_uint(dt, F["verdict"], tvb, 0, 0, mac_bad ? 2 : 3));
    col_add_str(pinfo->cinfo, COL_INFO, "UE-to-UE relay discovery (restricted, not opened)");
    if (!c.have_keylog)
        expert_add_info_format(pinfo, di, &ei_no_key,
                               "Restricted discovery: no key log (set pc5s.keylog_file or "
                               "PC5SEC_KEYLOGFILE; it needs the RSC's DUSK, DUIK and DUCK)");
    else if (mac_bad)  // the key log's material does not open it: forged, replayed, or another's
        expert_add_info_format(pinfo, di, &ei_mac_bad, "Restricted discovery not opened: %s",
                               escape_text(q ? q->why : std::string()).c_str());
    else
        expert_add_info_format(pinfo, di, &ei_no_key,
                               "Restricted discovery: no discovery material in the key log");
}

// SL-SRB0: the message as it is, or an establishment request whose identities were concealed on
// the air (pc5sec/request_privacy.hpp), revealed with the RSC's material from the key log as
// `pc5sec decode --keylog` reveals it.
void dissect_srb0(tvbuff_t* tvb, int off, packet_info* pinfo, proto_tree* tree, Pdu& pdu) {
    Fields& F = fields();
    Capture& c = capture();
    const int len = static_cast<int>(tvb_reported_length(tvb)) - off;
    if (!request_privacy::concealed(bytes_of(tvb, off, len))) {
        dissect_message(tvb, off, pinfo, tree, pdu.sender, pdu.relayed);
        return;
    }
    const bool revealed = pdu.d && pdu.d->concealed && pdu.d->kind == trace::PduKind::pc5s_clear;
    const char* name =
        codec::message_name(static_cast<codec::MessageType>(tvb_get_guint8(tvb, off)));
    proto_item* ri = nullptr;
    proto_tree* rt = proto_tree_add_subtree_format(
        tree, tvb, off, len, ett_pdu, &ri, "%s, identities concealed (%s)", name,
        revealed ? "revealed with the RSC's material, MIC verified" : "not revealed");
    proto_item_set_generated(proto_tree_add_uint(rt, F["req.concealed"], tvb, off, 0, 1));
    proto_item_set_generated(proto_tree_add_uint(rt, F["req.revealed"], tvb, off, 0, revealed));
    if (revealed) {
        const auto& plain = pdu.d->message;
        auto* copy = static_cast<guint8*>(wmem_alloc(pinfo->pool, plain.size()));
        std::copy(plain.begin(), plain.end(), copy);
        tvbuff_t* child = tvb_new_child_real_data(tvb, copy, static_cast<guint>(plain.size()),
                                                  static_cast<gint>(plain.size()));
        add_new_data_source(pinfo, child, "Revealed request");
        dissect_message(child, 0, pinfo, rt, pdu.sender, pdu.relayed);
        return;
    }
    proto_tree_add_item(rt, F["req.concealed_octets"], tvb, off, len, ENC_NA);
    col_add_fstr(pinfo->cinfo, COL_INFO, "%s (identities concealed, not revealed)", name);
    const bool mac_bad = pdu.d && pdu.d->verdict == trace::Verdict::mac_bad;
    proto_item_set_generated(proto_tree_add_uint(rt, F["verdict"], tvb, off, 0, mac_bad ? 2 : 3));
    if (!c.have_keylog)
        expert_add_info_format(pinfo, ri, &ei_no_key,
                               "Concealed message: no key log (set pc5s.keylog_file or "
                               "PC5SEC_KEYLOGFILE; it needs the RSC's DUIK and DUCK)");
    else if (mac_bad)
        expert_add_info_format(pinfo, ri, &ei_mac_bad, "Concealed message not revealed: %s",
                               escape_text(pdu.d->concealed_why).c_str());
    else
        expert_add_info_format(pinfo, ri, &ei_no_key,
                               "Concealed message: no discovery material for its RSC in the key "
                               "log");
}

// A PDU as it went on the air, by its LCID (TS 38.321 Table 6.2.4-1, docs/pcap-format.md).
void dissect_on_air(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, std::uint8_t lcid,
                    bool clear, Pdu& pdu) {
    Fields& F = fields();
    const int len = static_cast<int>(tvb_reported_length(tvb));
    if (lcid >= pc5::lcid::kFirstData && lcid <= pc5::lcid::kLastData)
        return dissect_data(tvb, 0, pinfo, tree, lcid, pdu);
    if (lcid == pc5::lcid::kEndToEnd) {
        const std::uint8_t b0 = len > 0 ? tvb_get_guint8(tvb, 0) : 0;
        if (len < 3 || (b0 & 0x80) == 0 || (b0 & 0x60) != 0)
            return malformed(pinfo, tree,
                             "SRAP header: D/C must be 1 and R R 0, 3 octets (TS 38.351)");
        const std::uint8_t bearer = b0 & 0x1F;
        proto_tree* st = proto_tree_add_subtree(tree, tvb, 0, 3, ett_pdu, nullptr, "SRAP header");
        proto_tree_add_item(st, F["srap.dc"], tvb, 0, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item(st, F["srap.bearer"], tvb, 0, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item(st, F["srap.src_ue"], tvb, 1, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item(st, F["srap.dst_ue"], tvb, 2, 1, ENC_BIG_ENDIAN);
        if (bearer >= 4) return dissect_data(tvb, 3, pinfo, tree, bearer, pdu);
        if (bearer == 1 || bearer == 2)
            return dissect_pdcp(tvb, 3, pinfo, tree, bearer, clear, pdu);
        if (bearer == 0) {
            if (len < 5) return malformed(pinfo, tree, "SL-SRB0 message truncated");
            return dissect_srb0(tvb, 3, pinfo, tree, pdu);
        }
        if (len > 3) proto_tree_add_item(tree, F["pc5_rrc"], tvb, 3, -1, ENC_NA);
        return;
    }
    if (lcid == pc5::lcid::kSrb1 || lcid == pc5::lcid::kSrb2)
        return dissect_pdcp(tvb, 0, pinfo, tree, lcid, clear, pdu);
    if (lcid == pc5::lcid::kSrb0) return dissect_srb0(tvb, 0, pinfo, tree, pdu);
    if (lcid == pc5::lcid::kDiscovery) return dissect_discovery(tvb, pinfo, tree, pdu);
    if (len > 0) proto_tree_add_item(tree, F["other"], tvb, 0, -1, ENC_NA);
}

// The deciphering of this frame: computed in capture order on the first pass, kept for later.
const trace::DecipheredFrame* decipher(packet_info* pinfo, const pcap::Frame& f) {
    Capture& c = capture();
    if (!PINFO_FD_VISITED(pinfo) && c.decipherer && !c.results.count(pinfo->num))
        c.results.emplace(pinfo->num, c.decipherer->frame(f));
    auto it = c.results.find(pinfo->num);
    return it == c.results.end() ? nullptr : &it->second;
}

// What the conversation table and the endpoints are told: the two L2 IDs and the link.
struct TapInfo {
    address src, dst;
    std::uint16_t knrp_sess_id = 0;
};

// Addresses are L2 IDs (3 octets), shown with the user info ID once the capture has named them:
// a conversation stays one whatever the name (the key is the ID).
int at_l2_id = -1;

pc5::L2Id l2_of(const address* a) {
    const auto* b = static_cast<const std::uint8_t*>(a->data);
    return a->len == 3 ? static_cast<pc5::L2Id>(b[0] << 16 | b[1] << 8 | b[2]) : 0;
}
int l2_to_str(const address* a, gchar* buf, int buf_len) {
    const pc5::L2Id id = l2_of(a);
    const std::string s = id == pc5::kBroadcastL2Id ? std::string("broadcast") : l2_text(id);
    g_strlcpy(buf, s.c_str(), static_cast<gsize>(buf_len));
    return static_cast<int>(std::strlen(buf)) + 1;
}
int l2_str_len(const address*) {
    return 300;
}  // 0x + 6 digits and an escaped user info ID
int l2_len() {
    return 3;
}

void set_addresses(packet_info* pinfo, pc5::L2Id src, pc5::L2Id dst, TapInfo& tap) {
    auto* b = static_cast<std::uint8_t*>(wmem_alloc(pinfo->pool, 6));
    for (int i = 0; i < 3; ++i) {
        b[i] = static_cast<std::uint8_t>(src >> (16 - 8 * i));
        b[3 + i] = static_cast<std::uint8_t>(dst >> (16 - 8 * i));
    }
    set_address(&pinfo->src, at_l2_id, 3, b);
    set_address(&pinfo->dst, at_l2_id, 3, b + 3);
    copy_address_shallow(&pinfo->dl_src, &pinfo->src);
    copy_address_shallow(&pinfo->dl_dst, &pinfo->dst);
    copy_address_shallow(&tap.src, &pinfo->src);
    copy_address_shallow(&tap.dst, &pinfo->dst);
}

void finish(packet_info* pinfo, proto_tree* tree, proto_item* root, const Pdu& pdu, pc5::L2Id src,
            pc5::L2Id dst, TapInfo* tap) {
    // For filters on either end (pc5s.addr) and on the link (pc5s.knrp_sess_id), as
    // Conversations and Endpoints apply them.
    for (const pc5::L2Id a : {src, dst})
        proto_item_set_hidden(proto_tree_add_uint(tree, fields()["addr"], nullptr, 0, 0, a));
    if (pdu.knrp_sess_id != 0) {
        proto_item_append_text(root, ", KNRP-sess ID 0x%04x", pdu.knrp_sess_id);
        proto_item_set_hidden(
            proto_tree_add_uint(tree, fields()["knrp_sess_id"], nullptr, 0, 0, pdu.knrp_sess_id));
    }
    tap->knrp_sess_id = pdu.knrp_sess_id;
    tap_queue_packet(tap_pc5s, pinfo, tap);
}

// pcap link type 147 (USER0): pc5sec's 12-octet frame header, then the PDU.
int dissect_capture_frame(tvbuff_t* tvb, packet_info* pinfo, proto_tree* root, void*) {
    Fields& F = fields();
    col_set_str(pinfo->cinfo, COL_PROTOCOL, "PC5-S");
    col_clear(pinfo->cinfo, COL_INFO);
    proto_item* pi = proto_tree_add_item(root, proto_pc5s, tvb, 0, -1, ENC_NA);
    proto_tree* tree = proto_item_add_subtree(pi, ett_pc5s);
    const int len = static_cast<int>(tvb_reported_length(tvb));
    if (len < static_cast<int>(pcap::kFrameHeaderSize)) {
        malformed(pinfo, pi, "frame header truncated");
        return len;
    }
    const int hlen = tvb_get_guint8(tvb, 1);
    if (hlen < static_cast<int>(pcap::kFrameHeaderSize) || hlen > len) {
        malformed(pinfo, pi, "frame header length");
        return len;
    }
    proto_tree* ht =
        proto_tree_add_subtree(tree, tvb, 0, hlen, ett_hdr, nullptr, "pc5sec frame header");
    proto_tree_add_item(ht, F["hdr.version"], tvb, 0, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.length"], tvb, 1, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.sender_l2_id"], tvb, 2, 3, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.receiver_l2_id"], tvb, 5, 3, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.hop"], tvb, 8, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.direction"], tvb, 9, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.lcid"], tvb, 10, 1, ENC_BIG_ENDIAN);
    proto_item* fi = proto_tree_add_item(ht, F["hdr.flags"], tvb, 11, 1, ENC_BIG_ENDIAN);
    proto_tree* ft = proto_item_add_subtree(fi, ett_flags);
    for (const char* bit : {"integrity", "ciphered", "via_relay", "on_air"})
        proto_tree_add_item(ft, F[std::string("hdr.flags.") + bit], tvb, 11, 1, ENC_BIG_ENDIAN);

    pcap::Frame f;
    f.header.version = tvb_get_guint8(tvb, 0);
    f.header.sender_l2_id = be(tvb, 2, 3);
    f.header.receiver_l2_id = be(tvb, 5, 3);
    f.header.hop = tvb_get_guint8(tvb, 8);
    f.header.direction = tvb_get_guint8(tvb, 9);
    f.header.lcid = tvb_get_guint8(tvb, 10);
    f.header.flags = tvb_get_guint8(tvb, 11);
    f.message = bytes_of(tvb, hlen, len - hlen);
    f.timestamp_us = static_cast<std::uint64_t>(pinfo->abs_ts.secs) * 1'000'000 +
                     static_cast<std::uint64_t>(pinfo->abs_ts.nsecs / 1000);
    auto* tap = wmem_new0(pinfo->pool, TapInfo);
    set_addresses(pinfo, f.header.sender_l2_id, f.header.receiver_l2_id, *tap);

    Pdu pdu;
    pdu.sender = f.header.sender_l2_id;
    pdu.relayed = f.header.version >= 2 && f.header.direction == pcap::kDirectionUnknown &&
                  f.header.lcid == pc5::lcid::kEndToEnd;
    pdu.d = decipher(pinfo, f);
    may_name = !pdu.relayed;
    const bool on_air = (f.header.flags & pcap::kFlagOnAir) != 0;
    if (hlen == len) {
        if (!on_air) malformed(pinfo, pi, "message truncated");
    } else {
        tvbuff_t* m = tvb_new_subset_remaining(tvb, hlen);
        if (on_air) {
            // Version 2 holds the air: flags integrity without ciphered mark a message in clear.
            const bool clear =
                f.header.version >= 2 &&
                (f.header.flags & (pcap::kFlagIntegrityProtected | pcap::kFlagCiphered)) ==
                    pcap::kFlagIntegrityProtected;
            dissect_on_air(m, pinfo, tree, f.header.lcid, clear, pdu);
        } else {
            dissect_message(m, 0, pinfo, tree, pdu.sender, false);
        }
    }
    finish(pinfo, tree, pi, pdu, f.header.sender_l2_id, f.header.receiver_l2_id, tap);
    return len;
}

// `pc5sec ue`'s UDP frames (docs/udp.md): "P5", version, source and destination L2 IDs, LCID.
gboolean dissect_udp_heur(tvbuff_t* tvb, packet_info* pinfo, proto_tree* root, void*) {
    const int len = static_cast<int>(tvb_captured_length(tvb));
    if (len < static_cast<int>(net::kHeaderSize) + 1 || tvb_get_guint8(tvb, 0) != net::kMagic[0] ||
        tvb_get_guint8(tvb, 1) != net::kMagic[1])
        return FALSE;
    const auto datagram = bytes_of(tvb, 0, len);
    auto v = net::decode_frame(datagram);
    if (!v) return FALSE;  // not one of pc5sec's frames (version, reserved bits, sizes)
    Fields& F = fields();
    col_set_str(pinfo->cinfo, COL_PROTOCOL, "PC5-S");
    col_clear(pinfo->cinfo, COL_INFO);
    proto_item* pi = proto_tree_add_item(root, proto_pc5s, tvb, 0, -1, ENC_NA);
    proto_tree* tree = proto_item_add_subtree(pi, ett_pc5s);
    proto_tree* ht = proto_tree_add_subtree(tree, tvb, 0, static_cast<int>(net::kHeaderSize),
                                            ett_hdr, nullptr, "pc5sec UDP frame header");
    proto_tree_add_item(ht, F["udp.magic"], tvb, 0, 2, ENC_NA);
    proto_tree_add_item(ht, F["udp.version"], tvb, 2, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.sender_l2_id"], tvb, 3, 3, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.receiver_l2_id"], tvb, 6, 3, ENC_BIG_ENDIAN);
    proto_tree_add_item(ht, F["hdr.lcid"], tvb, 9, 1, ENC_BIG_ENDIAN);

    // As the capture writer would have written it, without what UDP does not carry: the hop and
    // the DIRECTION (found by the MAC-I, or by which UE sent it).
    pcap::Frame f;
    f.header.version = pcap::kFrameHeaderVersion;
    f.header.sender_l2_id = v->src;
    f.header.receiver_l2_id = v->dst;
    f.header.direction = pcap::kDirectionUnknown;
    f.header.lcid = v->lcid;
    // SL-SRB0 is the message in clear, but for a request whose identities are concealed: on
    // the air as its protection left it (pc5sec/request_privacy.hpp), as the capture marks it.
    const bool clear_lcid =
        v->lcid == pc5::lcid::kSrb0 && !request_privacy::concealed(std::span(v->pdu));
    f.header.flags = clear_lcid ? 0 : pcap::kFlagOnAir;
    f.message.assign(v->pdu.begin(), v->pdu.end());
    f.timestamp_us = static_cast<std::uint64_t>(pinfo->abs_ts.secs) * 1'000'000 +
                     static_cast<std::uint64_t>(pinfo->abs_ts.nsecs / 1000);
    auto* tap = wmem_new0(pinfo->pool, TapInfo);
    set_addresses(pinfo, v->src, v->dst, *tap);
    Pdu pdu;
    pdu.sender = v->src;
    pdu.d = decipher(pinfo, f);
    may_name = clear_lcid;
    tvbuff_t* m = tvb_new_subset_remaining(tvb, static_cast<int>(net::kHeaderSize));
    dissect_on_air(m, pinfo, tree, v->lcid, false, pdu);
    finish(pinfo, tree, pi, pdu, v->src, v->dst, tap);
    return TRUE;
}

// ------------------------------------------------------------------ conversations

// Filters by the link (pc5s.knrp_sess_id); an address shows a name, so it is no filter value.
const char* conv_filter(conv_item_t*, conv_filter_type_e filter) {
    if (filter == CONV_FT_SRC_PORT || filter == CONV_FT_DST_PORT || filter == CONV_FT_ANY_PORT)
        return "pc5s.knrp_sess_id";
    return CONV_FILTER_INVALID;
}
ct_dissector_info_t conv_info = {&conv_filter};

const char* endpoint_filter(endpoint_item_t*, conv_filter_type_e) {
    return CONV_FILTER_INVALID;
}
et_dissector_info_t endpoint_info = {&endpoint_filter};

// Each link is a conversation: its two L2 IDs and its KNRP-sess ID (0 before it has one).
tap_packet_status conversation_packet(void* table, packet_info* pinfo, epan_dissect_t*,
                                      const void* data, tap_flags_t flags) {
    auto* hash = static_cast<conv_hash_t*>(table);
    hash->flags = flags;
    const auto* t = static_cast<const TapInfo*>(data);
    add_conversation_table_data(hash, &t->src, &t->dst, t->knrp_sess_id, t->knrp_sess_id, 1,
                                static_cast<int>(pinfo->fd->pkt_len), &pinfo->rel_ts,
                                &pinfo->abs_ts, &conv_info, CONVERSATION_NONE);
    return TAP_PACKET_REDRAW;
}

tap_packet_status endpoint_packet(void* table, packet_info* pinfo, epan_dissect_t*,
                                  const void* data, tap_flags_t flags) {
    auto* hash = static_cast<conv_hash_t*>(table);
    hash->flags = flags;
    const auto* t = static_cast<const TapInfo*>(data);
    const int bytes = static_cast<int>(pinfo->fd->pkt_len);
    add_endpoint_table_data(hash, &t->src, 0, TRUE, 1, bytes, &endpoint_info, ENDPOINT_NONE);
    add_endpoint_table_data(hash, &t->dst, 0, FALSE, 1, bytes, &endpoint_info, ENDPOINT_NONE);
    return TAP_PACKET_REDRAW;
}

// ------------------------------------------------------------------ registration

void register_protocol() {
    proto_pc5s = proto_register_protocol("PC5 signalling and data (pc5sec)", "PC5-S", "pc5s");
    Fields& F = fields();
    // The frame header (docs/pcap-format.md) and the UDP frame (docs/udp.md).
    F.add("hdr.version", "Frame header version", FT_UINT8, BASE_DEC);
    F.add("hdr.length", "Frame header length", FT_UINT8, BASE_DEC);
    F.add("hdr.sender_l2_id", "Sender layer-2 ID", FT_UINT24, BASE_HEX);
    F.add("hdr.receiver_l2_id", "Receiver layer-2 ID", FT_UINT24, BASE_HEX);
    F.add("hdr.hop", "Hop / link id", FT_UINT8, BASE_DEC);
    static const value_string directions[] = {{0, "sent by the initiating UE"},
                                              {1, "sent by the peer UE"},
                                              {2, "unknown (a relay's forwarded copy)"},
                                              {0, nullptr}};
    F.add("hdr.direction", "Direction", FT_UINT8, BASE_DEC, VALS(directions));
    F.add("hdr.lcid", "LCID", FT_UINT8, BASE_DEC);
    F.add("hdr.flags", "Flags", FT_UINT8, BASE_HEX);
    F.add("hdr.flags.integrity", "Integrity protected", FT_UINT8, BASE_DEC, nullptr, 0x01);
    F.add("hdr.flags.ciphered", "Ciphered", FT_UINT8, BASE_DEC, nullptr, 0x02);
    F.add("hdr.flags.via_relay", "Hop of a relayed path", FT_UINT8, BASE_DEC, nullptr, 0x04);
    F.add("hdr.flags.on_air", "PDU as on the air", FT_UINT8, BASE_DEC, nullptr, 0x08);
    F.add("udp.magic", "Magic (\"P5\")", FT_BYTES, BASE_NONE);
    F.add("udp.version", "UDP frame version", FT_UINT8, BASE_DEC);
    F.add("addr", "Layer-2 ID (source or destination)", FT_UINT24, BASE_HEX);
    F.add("knrp_sess_id", "KNRP-sess ID (of the data or protected PC5-S PDU)", FT_UINT16, BASE_HEX);
    // On-air PDUs: SRAP (TS 38.351), data PDU (docs/userplane.md), PDCP PC5-S PDU.
    F.add("srap.dc", "SRAP D/C", FT_UINT8, BASE_DEC, nullptr, 0x80);
    F.add("srap.bearer", "SRAP bearer ID", FT_UINT8, BASE_DEC, nullptr, 0x1F);
    F.add("srap.src_ue", "Source local UE ID", FT_UINT8, BASE_DEC);
    F.add("srap.dst_ue", "Destination local UE ID", FT_UINT8, BASE_DEC);
    F.add("data.knrp_sess_id", "KNRP-sess ID", FT_UINT16, BASE_HEX);
    F.add("data.dc", "D/C", FT_UINT8, BASE_DEC, nullptr, 0x80);
    F.add("data.sn", "SN (18 bits)", FT_UINT24, BASE_DEC, nullptr, 0x03FFFF);
    F.add("data.ciphered", "Ciphered payload and MAC-I", FT_BYTES, BASE_NONE);
    F.add("pdcp.knrp_sess_id", "KNRP-sess ID", FT_UINT16, BASE_HEX);
    F.add("pdcp.sn", "SN (12 bits)", FT_UINT16, BASE_DEC, nullptr, 0x0FFF);
    F.add("pdcp.ciphered", "Protected PC5-S message and MAC-I", FT_BYTES, BASE_NONE);
    F.add("mac_i", "MAC-I (integrity-protected, not ciphered)", FT_BYTES, BASE_NONE);
    F.add("pc5_rrc", "PC5-RRC", FT_BYTES, BASE_NONE);
    F.add("other", "PDU of an LCID pc5sec does not use", FT_BYTES, BASE_NONE);
    // What the key log opened (trace::DecipheredFrame, as `pc5sec decode --keylog`).
    static const value_string verdicts[] = {
        {1, "opened"}, {2, "MAC-I bad"}, {3, "no key"}, {4, "malformed"}, {0, nullptr}};
    static const value_string direction_from[] = {{0, "the frame header"},
                                                  {1, "the MAC-I"},
                                                  {2, "the sender"},
                                                  {3, "undecidable"},
                                                  {0, nullptr}};
    F.add("verdict", "Deciphering", FT_UINT8, BASE_DEC, VALS(verdicts));
    F.add("link_id", "Link (key log)", FT_STRING, BASE_NONE);
    F.add("bearer", "BEARER", FT_UINT8, BASE_DEC);
    F.add("count", "COUNT", FT_UINT32, BASE_DEC);
    F.add("direction", "DIRECTION", FT_UINT8, BASE_DEC);
    F.add("direction_from", "DIRECTION taken from", FT_UINT8, BASE_DEC, VALS(direction_from));
    F.add("ciphering", "NEA", FT_UINT8, BASE_DEC);
    F.add("integrity", "NIA", FT_UINT8, BASE_DEC);
    F.add("mac_ok", "MAC-I verified", FT_UINT8, BASE_DEC);
    F.add("replayed", "Replayed COUNT", FT_UINT8, BASE_DEC);
    F.add("deciphered", "Deciphered octets", FT_BYTES, BASE_NONE);
    // Discovery on LCID 58 (pc5sec/discovery.hpp).
    F.add("disc.restricted", "Restricted discovery (scrambled, ciphered, MIC)", FT_UINT8, BASE_DEC);
    F.add("disc.opened", "Discovery message readable", FT_UINT8, BASE_DEC);
    F.add("disc.counter_lsb", "UTC-based counter LSB", FT_UINT8, BASE_DEC);
    F.add("disc.mic", "MIC", FT_BYTES, BASE_NONE);
    F.add("disc.rsc", "Relay service code", FT_UINT32, BASE_HEX);
    F.add("disc.counter", "UTC-based counter (verified)", FT_UINT32, BASE_DEC);
    F.add("disc.replayed", "Replayed discovery", FT_UINT8, BASE_DEC);
    F.add("disc.scrambled", "Scrambled discovery message", FT_BYTES, BASE_NONE);
    // An establishment request concealed on the air (pc5sec/request_privacy.hpp).
    F.add("req.concealed", "Request identities concealed", FT_UINT8, BASE_DEC);
    F.add("req.revealed", "Concealed request revealed", FT_UINT8, BASE_DEC);
    F.add("req.concealed_octets", "Concealed request (not revealed)", FT_BYTES, BASE_NONE);
    // The message header, then every IE of every message, from the codec's layouts.
    F.add("msg_type", "Message type", FT_UINT8, BASE_DEC,
          VALS(F.names(CodePointKind::message_type)));
    F.add("msg_name", "Message name", FT_STRING, BASE_NONE);
    F.add("seq", "Sequence number", FT_UINT8, BASE_DEC);
    F.add("provisional", "Provisional code point", FT_STRING, BASE_NONE);
    F.add("unknown_iei", "Unknown IEI (skipped)", FT_UINT8, BASE_HEX);
    F.add("unknown_tag", "Unknown container tag (skipped)", FT_UINT8, BASE_HEX);
    for (const auto& l : codec::message_layouts())
        for (const auto& ie : l.ies)
            add_ie_fields(F, ie.name, ie.value);
    proto_register_field_array(proto_pc5s, F.hf.data(), static_cast<int>(F.hf.size()));

    static gint* ett[] = {&ett_pc5s, &ett_hdr, &ett_flags,   &ett_msg,
                          &ett_ie,   &ett_pdu, &ett_opening, &ett_carried};
    proto_register_subtree_array(ett, G_N_ELEMENTS(ett));

    static ei_register_info ei[] = {
        {&ei_mac_bad, {"pc5s.mac_bad", PI_CHECKSUM, PI_ERROR, "MAC-I does not verify", EXPFILL}},
        {&ei_replay, {"pc5s.replay", PI_SEQUENCE, PI_WARN, "Replayed COUNT", EXPFILL}},
        {&ei_no_key, {"pc5s.no_key", PI_UNDECODED, PI_WARN, "No key in the key log", EXPFILL}},
        {&ei_malformed, {"pc5s.malformed", PI_MALFORMED, PI_ERROR, "Malformed PC5 PDU", EXPFILL}},
        {&ei_provisional,
         {"pc5s.provisional.expert", PI_ASSUMPTION, PI_NOTE,
          "Provisional code points (chosen by pc5sec)", EXPFILL}},
        {&ei_keylog, {"pc5s.keylog.bad", PI_UNDECODED, PI_ERROR, "Bad key log", EXPFILL}},
    };
    expert_module_t* em = expert_register_protocol(proto_pc5s);
    expert_register_field_array(em, ei, G_N_ELEMENTS(ei));

    module_t* prefs = prefs_register_protocol(proto_pc5s, nullptr);
    prefs_register_filename_preference(
        prefs, "keylog_file", "Key log file",
        "pc5sec's key log (docs/keylog.md), as `pc5sec simulate` and `pc5sec ue --keylog` write "
        "it; empty: the environment variable PC5SEC_KEYLOGFILE",
        &pref_keylog, FALSE);

    at_l2_id =
        address_type_dissector_register("AT_PC5_L2_ID", "PC5 layer-2 ID", l2_to_str, l2_str_len,
                                        nullptr, nullptr, l2_len, nullptr, nullptr);
    register_init_routine(init_capture);
    register_cleanup_routine(cleanup_capture);
    tap_pc5s = register_tap("pc5s");
    register_conversation_table(proto_pc5s, FALSE, conversation_packet, endpoint_packet);
}

void register_handoff() {
    dissector_handle_t h = create_dissector_handle(dissect_capture_frame, proto_pc5s);
    dissector_add_uint("wtap_encap", WTAP_ENCAP_USER0, h);
    heur_dissector_add("udp", dissect_udp_heur, "pc5sec UDP frames (pc5sec ue)", "pc5s_udp",
                       proto_pc5s, HEURISTIC_ENABLE);
    ipv6_handle = find_dissector("ipv6");
    data_handle = find_dissector("data");
}

}  // namespace

// What Wireshark looks for in a plugin (wsutil/plugins.h, not shipped by Debian): the version it
// was built for, and the registration entry point.
extern "C" WS_DLL_PUBLIC_DEF const gchar plugin_version[] = PC5SEC_VERSION_STRING;
extern "C" WS_DLL_PUBLIC_DEF const int plugin_want_major = PC5SEC_WIRESHARK_MAJOR;
extern "C" WS_DLL_PUBLIC_DEF const int plugin_want_minor = PC5SEC_WIRESHARK_MINOR;

extern "C" {
WS_DLL_PUBLIC void plugin_register(void);

void plugin_register(void) {
    static proto_plugin plugin;
    plugin.register_protoinfo = register_protocol;
    plugin.register_handoff = register_handoff;
    proto_register_plugin(&plugin);
}
}
