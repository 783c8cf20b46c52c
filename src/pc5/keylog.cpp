#include "pc5sec/keylog.hpp"

#include <ostream>

#include <fmt/format.h>

#include "pc5sec/hex.hpp"
#include "pc5sec/text.hpp"

namespace pc5sec::pc5 {

void KeyLogSink::bytes(std::string_view label, std::string_view link_id,
                       std::span<const std::uint8_t> value) {
    record(KeyLogRecord{std::string(label), std::string(link_id), to_hex(value)});
}

void KeyLogSink::algorithms(std::string_view link_id, unsigned ciphering_id,
                            unsigned integrity_id) {
    record(KeyLogRecord{"ALGS", std::string(link_id),
                        fmt::format("{} {}", ciphering_id, integrity_id)});
}

std::string format_key_log_line(const KeyLogRecord& r) {
    return fmt::format("{} {} {}", r.label, r.link_id, r.value);
}

KeyLogWriter::KeyLogWriter(std::ostream& out, bool header) : out_(out) {
    if (header) comment("pc5sec key log (docs/keylog.md): these lines are secret keys");
}

void KeyLogWriter::record(const KeyLogRecord& r) {
    std::lock_guard lock(mutex_);
    out_ << format_key_log_line(r) << '\n';
    out_.flush();
}

void KeyLogWriter::comment(std::string_view text) {
    std::lock_guard lock(mutex_);
    out_ << "# " << text << '\n';
}

void KeyLogCollector::record(const KeyLogRecord& r) {
    std::lock_guard lock(mutex_);
    records_.push_back(r);
}

std::vector<KeyLogRecord> KeyLogCollector::records() const {
    std::lock_guard lock(mutex_);
    return records_;
}

std::string KeyLogCollector::latest(std::string_view label, std::string_view link_id) const {
    std::lock_guard lock(mutex_);
    for (auto it = records_.rbegin(); it != records_.rend(); ++it)
        if (it->label == label && it->link_id == link_id) return it->value;
    return {};
}

bool is_known_key_log_label(std::string_view label) noexcept {
    for (std::string_view known :
         {"KNRP", "NONCE_1", "NONCE_2", "KNRP_SESS", "KNRP_SESS_ID", "ALGS", "NRPEK", "NRPIK", "KD",
          "KD_SESS", "KD_HOP", "DUSK", "DUIK", "DUCK", "DISCOVERY_ALGS"})
        if (label == known) return true;
    return false;
}

Result<std::vector<KeyLogRecord>> parse_key_log(std::string_view text,
                                                std::vector<std::string>* warnings) {
    std::vector<KeyLogRecord> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#') continue;
        line = line.substr(first);
        auto s1 = line.find(' ');
        auto s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
        if (s2 == std::string_view::npos || s2 == s1 + 1 || s2 + 1 >= line.size())
            return make_error(Errc::malformed, fmt::format("line {}", line_no),
                              "expected \"<LABEL> <link-id> <value>\"");
        if (warnings && !is_known_key_log_label(line.substr(0, s1)))
            warnings->push_back(fmt::format("line {}: unknown label \"{}\" (ignored)", line_no,
                                            escape_text(line.substr(0, s1))));
        out.push_back(KeyLogRecord{std::string(line.substr(0, s1)),
                                   std::string(line.substr(s1 + 1, s2 - s1 - 1)),
                                   std::string(line.substr(s2 + 1))});
    }
    return out;
}

}  // namespace pc5sec::pc5
