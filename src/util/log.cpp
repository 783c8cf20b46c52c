#include "pc5sec/log.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace pc5sec::log {

namespace {
std::mutex g_mutex;
std::shared_ptr<const Sink> g_sink;  // guarded by g_mutex; copied out to write
std::atomic<Level> g_level{Level::info};
}  // namespace

const char* name(Level level) noexcept {
    switch (level) {
        case Level::error:
            return "error";
        case Level::warning:
            return "warning";
        case Level::info:
            return "info";
        case Level::debug:
            return "debug";
    }
    return "?";
}

Result<Level> parse_level(std::string_view text, std::string_view field) {
    for (auto l : {Level::error, Level::warning, Level::info, Level::debug})
        if (text == name(l)) return l;
    return make_error(Errc::invalid_argument, std::string(field),
                      "a log level is error, warning, info or debug");
}

void set_sink(Sink sink) {
    auto next = sink ? std::make_shared<const Sink>(std::move(sink)) : nullptr;
    std::lock_guard lock(g_mutex);
    g_sink = std::move(next);
}

void set_level(Level level) noexcept {
    g_level.store(level, std::memory_order_relaxed);
}

Level level() noexcept {
    return g_level.load(std::memory_order_relaxed);
}

bool enabled(Level l) noexcept {
    if (static_cast<std::uint8_t>(l) > static_cast<std::uint8_t>(level())) return false;
    std::lock_guard lock(g_mutex);
    return g_sink != nullptr;
}

void write(Level l, std::string_view component, std::string_view line) {
    if (static_cast<std::uint8_t>(l) > static_cast<std::uint8_t>(level())) return;
    std::shared_ptr<const Sink> sink;
    {
        std::lock_guard lock(g_mutex);
        sink = g_sink;
    }
    if (sink) (*sink)(l, component, line);
}

}  // namespace pc5sec::log
