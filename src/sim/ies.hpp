// The attacker's hold on PC5 signalling (src/sim/): IEs by their code-point-table names, a blank
// message of each type, and which channel pc5sec's engines send each type on, hence which an
// eavesdropper reads. Internal to the simulator (rules.cpp checks rules with it at load time,
// attacker.cpp edits frames with it at run time).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/messages.hpp"
#include "pc5sec/pc5.hpp"

namespace pc5sec::sim {

struct IeInfo {
    bool mandatory = false;
    std::size_t size = 0;   // the value's octets when fixed; 0: variable
    bool presence = false;  // type 2: present or not (value: 1 or 0)
};

// One message of `type` with every field at its default, or nullopt for an unknown type.
std::optional<codec::Message> blank_message(codec::MessageType type);
// The message type named `name` in the code-point table.
std::optional<codec::MessageType> message_type_named(std::string_view name);
// Whether `ie` (an IE of the code-point table, or a mandatory field's name) is a field of `type`.
std::optional<IeInfo> ie_info(codec::MessageType type, std::string_view ie);
// Whether `ie` names an IE or field of any message.
bool known_ie(std::string_view ie);
// Sets (set/add) or removes (value empty) one IE of `m`. `value` must outlive `m`'s use (octet
// strings are views). The error says what is wrong with the value.
Status set_ie(codec::Message& m, std::string_view ie,
              std::optional<std::span<const std::uint8_t>> value);
// The IE's value octets in `m`, or nullopt if absent.
std::optional<std::vector<std::uint8_t>> ie_value(const codec::Message& m, std::string_view ie);

// The bearers (LCIDs of SL-SRB0..2, or discovery) pc5sec's engines send `type` on under
// `solution`; end-to-end through a relay the same bearers go in LCID 55. Empty: never sent.
// This is the one place the simulator ties message types to channels.
std::vector<std::uint8_t> bearers_of(codec::MessageType type, pc5::Solution solution);
// An eavesdropper reads the message: it goes unprotected, or with integrity only.
bool readable_without_keys(codec::MessageType type, pc5::Solution solution);

}  // namespace pc5sec::sim
