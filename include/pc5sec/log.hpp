// The library's diagnostics: pc5sec never writes to stdout or stderr itself. What it has to say
// (a credential renewed, a UDP driver's progress) goes to the sink the application sets, at or
// above the level it chose; with no sink set, nothing is written. The pc5sec program sets one
// that writes to stderr (`--log-level`).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "pc5sec/error.hpp"

namespace pc5sec::log {

/// How much a line matters, most first.
enum class Level : std::uint8_t {
    error,    ///< something failed
    warning,  ///< something was refused or lost, and pc5sec went on
    info,     ///< what a UE did (a link up, a credential renewed)
    debug,    ///< detail for whoever is chasing a problem
};

/// The name of `level` ("error", "warning", "info", "debug").
const char* name(Level level) noexcept;
/// `text` as a level; Errc::invalid_argument naming `field` otherwise.
Result<Level> parse_level(std::string_view text, std::string_view field);

/// Receives each line at or above the level set: its level, the part of pc5sec it comes from
/// ("creds", "ue", ...) and the line (peer-supplied text in it already escaped).
using Sink = std::function<void(Level level, std::string_view component, std::string_view line)>;

/// Sets the process's sink (an empty one: nothing is written). Safe to call from any thread;
/// a line being written meanwhile goes to the old sink or the new.
void set_sink(Sink sink);
/// Lines below `level` are not passed to the sink (default: info).
void set_level(Level level) noexcept;
/// The level set.
Level level() noexcept;
/// Whether a line at `level` would reach a sink.
bool enabled(Level level) noexcept;
/// Passes the line to the sink, if one is set and `level` is enabled.
void write(Level level, std::string_view component, std::string_view line);

}  // namespace pc5sec::log
