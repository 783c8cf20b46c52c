/// @file
/// The PC5 signalling codec: a strict decoder and an encoder that refuses invalid messages, for
/// the messages of messages.hpp and their two containers.
///
/// Wire rules (TS 24.007, TS 24.554): octet 1 message type, octet 2 sequence number, then the
/// mandatory IEs in fixed order (V, LV, LV-E), then the optional IEs, each led by its IEI, in any
/// order. An optional IE the decoder does not know is skipped: IEI with bit 8 set -> type 1/2,
/// one octet; IEI 0x70..0x7F -> TLV-E (2-octet length); any other IEI -> TLV (1-octet length).
///
/// Decoder errors are Errc::malformed (Errc::unsupported for an unknown message type or container
/// version) and name the field: "establishment_request.nonce_1", "security_mode_command.ie 0x3f
/// length". Each of these is its own error: truncated message, length past the end, duplicate IE,
/// missing mandatory IE, reserved value, unknown message type, oversize, empty octet string.
#pragma once

#include <cstdint>
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

/// The Wireshark Lua dissector's generated part (message layouts and code points), built from
/// the same field lists and table; tools/wireshark/pc5s.lua embeds it between markers.
std::string wireshark_schema_lua();

/// One message of every type, with every optional IE present (`full`) or none. The octet
/// strings point into static storage.
std::vector<Message> sample_messages(bool full);

}  // namespace pc5sec::codec
