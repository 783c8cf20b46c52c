/// @file
/// The PC5 signalling codec: a strict decoder and an encoder that refuses invalid messages, for
/// the messages of messages.hpp and their two containers.
///
/// Wire rules (TS 24.007, TS 24.554): octet 1 message type, octet 2 sequence number (not in a
/// discovery message, TS 24.554 11.2.1: its UTC-based counter LSB and MIC trail it on the air and
/// are pc5sec/discovery.hpp's to add and check), then the mandatory IEs in fixed order (V, LV,
/// LV-E), then the optional IEs, each led by its IEI, in any order. An optional IE the decoder does
/// not know is skipped: IEI with bit 8 set -> type 1/2, one octet; IEI 0x70..0x7F -> TLV-E (2-octet
/// length); any other IEI -> TLV (1-octet length).
///
/// Decoder errors are Errc::malformed (Errc::unsupported for an unknown message type or container
/// version) and name the field: "establishment_request.nonce_1", "security_mode_command.ie 0x3f
/// length". Each of these is its own error: truncated message, length past the end, duplicate IE,
/// missing mandatory IE, reserved value, unknown message type, oversize, empty octet string.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pc5sec/error.hpp"
#include "pc5sec/messages.hpp"

/// The PC5 signalling codec (see codec.hpp).
namespace pc5sec::codec {

/// The largest PC5 signalling message pc5sec accepts or builds: one PDCP SDU (TS 38.323).
inline constexpr std::size_t kMaxMessageSize = 9000;

/// Decodes one message. Octet strings in the result are views into `bytes`.
Result<Message> decode(std::span<const std::uint8_t> bytes);

/// Checks every field, then appends the encoding to `out`. On error `out` is unchanged.
Status encode(const Message& message, std::vector<std::uint8_t>& out);
/// Checks every field, then returns the encoding.
Result<std::vector<std::uint8_t>> encode(const Message& message);

// The containers on their own (their bytes are the value part of their IE).
/// Decodes a Key_Est_Info container on its own (its bytes are the value part of its IE).
Result<KeyEstInfo> decode_key_est_info(std::span<const std::uint8_t> bytes);
/// Appends a Key_Est_Info container on its own (the value part of its IE) to `out`.
Status encode_key_est_info(const KeyEstInfo& info, std::vector<std::uint8_t>& out);
/// Decodes an authentication info container on its own (its bytes are the value part of its
/// IE).
Result<AuthenticationInfo> decode_authentication_info(std::span<const std::uint8_t> bytes);
/// Appends an authentication info container on its own (the value part of its IE) to `out`.
Status encode_authentication_info(const AuthenticationInfo& info, std::vector<std::uint8_t>& out);

/// One JSON object: msg_type, msg_name, seq, every present IE by name, and "hex" = `bytes`.
nlohmann::json to_json(const Message& message, std::span<const std::uint8_t> bytes);
/// A readable multi-line description.
std::string to_text(const Message& message);

/// How an IE sits in a message (TS 24.007 11.2.1.1): value only, length-value, type-value,
/// type-length-value; the "e" forms have a 2-octet length; t1 is a type-1 IE (IEI in the high
/// nibble, value in the low one), t2 a type-2 IE (the IEI alone).
enum class IeFormat : std::uint8_t {
    v,     ///< value only (mandatory)
    lv,    ///< 1-octet length, value (mandatory)
    lve,   ///< 2-octet length, value (mandatory)
    tv,    ///< IEI, value (optional)
    tlv,   ///< IEI, 1-octet length, value (optional)
    tlve,  ///< IEI, 2-octet length, value (optional)
    t1,    ///< type 1: IEI in the high nibble, value in the low one (optional)
    t2,    ///< type 2: the IEI alone (optional)
};
/// "v", "lv", "lve", "tv", "tlv", "tlve", "t1", "t2".
const char* name(IeFormat f) noexcept;

/// What an IE's value holds.
enum class IeValue : std::uint8_t {
    u8,                   ///< one octet
    u16,                  ///< two octets, big-endian
    u24,                  ///< three octets, big-endian (a layer-2 ID, a relay service code)
    u32,                  ///< four octets, big-endian
    bytes,                ///< an octet string
    uesc,                 ///< UE security capabilities: 5G-EA then 5G-IA bitmap (bit 8 = 0)
    policy,               ///< signalling security policy: integrity (bits 1-3), ciphering (5-7)
    algs,                 ///< selected algorithms: ciphering (high nibble), integrity (low)
    cause,                ///< PC5 signalling cause (CodePointKind::cause)
    relay_indication,     ///< CodePointKind::relay_indication, in a type-1 IE
    flag,                 ///< a type-2 IE: present or not
    key_est_info,         ///< the Key_Est_Info container (CodePointKind::key_est_tag items)
    authentication_info,  ///< the Authentication_Info container (auth_info_tag items)
};
/// "u8", "u16", "u24", "u32", "bytes", "uesc", "policy", "algs", "cause", "relay_indication",
/// "flag", "key_est_info", "authentication_info".
const char* name(IeValue v) noexcept;

/// One IE of a message layout.
struct IeLayout {
    IeFormat format;                  ///< how it sits in the message
    std::optional<std::uint8_t> iei;  ///< optional IEs only (tv, tlv, tlve, t1, t2)
    const char* name;                 ///< as in to_json and the Wireshark field pc5s.NAME
    IeValue value;                    ///< what its value holds
    std::size_t size;                 ///< a fixed value's octets; 0 when the length says
};
/// One message type and its IEs in order: mandatory ones first, then the optional ones.
struct MessageLayout {
    MessageType type;           ///< octet 1
    std::vector<IeLayout> ies;  ///< in the order the encoder writes them
};
/// Every message type pc5sec encodes, built from the same field lists that encode, decode and
/// to_json walk: the Wireshark plugin registers its fields and dissects from it.
std::vector<MessageLayout> message_layouts();

/// Where one IE of an encoded message lies, found from its message's layout without decoding the
/// value (pc5sec/request_privacy.hpp conceals values in place, so a concealed container is not
/// decodable until it is revealed).
struct IeSpan {
    /// Its row in the message's layout; nullptr for an optional IE the layout does not know
    /// (skipped by the TS 24.007 rules of this file's header).
    const IeLayout* layout = nullptr;
    std::size_t offset = 0;        ///< where the IE starts: its IEI, or its length (lv, lve)
    std::size_t value_offset = 0;  ///< where its value starts
    std::size_t value_size = 0;    ///< its value's octets (0 for t1 and t2: no value octets)
};
/// The IEs of the encoded message `bytes`, in wire order. Errc::unsupported for an unknown
/// message type; Errc::malformed naming the IE when it runs past the end.
Result<std::vector<IeSpan>> ie_spans(std::span<const std::uint8_t> bytes);

/// One message of every type, with every optional IE present (`full`) or none. The octet
/// strings point into static storage.
std::vector<Message> sample_messages(bool full);

}  // namespace pc5sec::codec
