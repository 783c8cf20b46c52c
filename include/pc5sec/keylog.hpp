/// @file
/// The key log: the ONE way key material leaves pc5sec (issue [solution-a] item 4). An engine
/// reports each established link's keys to a KeyLogSink only when the driver gave it one. The
/// simulator and the daemon write it as text, one line per item:
///
/// @verbatim
///   # comment
///   KNRP <link-id> <hex>
///   NONCE_1 <link-id> <hex>
///   NONCE_2 <link-id> <hex>
///   KNRP_SESS <link-id> <hex>
///   KNRP_SESS_ID <link-id> <4 hex digits>      pc5sec's addition: the PDCP header's key selector
///   ALGS <link-id> <ciphering-id> <integrity-id>
///   NRPEK <link-id> <hex>
///   NRPIK <link-id> <hex>
///   KD <link-id> <hex>                          solution B
///   KD_SESS <link-id> <hex>                     solution B
///   DUSK rsc-0x<rsc> <hex>                      discovery material (pc5sec/discovery.hpp)
///   DUIK rsc-0x<rsc> <hex>
///   DUCK rsc-0x<rsc> <hex>
///   DISCOVERY_ALGS rsc-0x<rsc> <nea-id> <nia-id>
/// @endverbatim
///
/// A re-keyed link repeats NONCE_1 .. NRPIK under the same link id; the newest lines win for new
/// PDUs, KNRP_SESS_ID tells old PDUs apart. See docs/keylog.md.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"

namespace pc5sec::pc5 {

/// One item of the key log (one line of its text).
struct KeyLogRecord {
    std::string label;    ///< "KNRP", "ALGS", ...
    std::string link_id;  ///< no spaces
    std::string value;    ///< lower-case hex, or `"<c> <i>"` for ALGS
    /// Equal records.
    friend bool operator==(const KeyLogRecord&, const KeyLogRecord&) = default;
};

/// Where an engine reports each established link's keys (only when the driver gave it one).
class KeyLogSink {
  public:
    virtual ~KeyLogSink() = default;
    /// Takes one record.
    virtual void record(const KeyLogRecord& record) = 0;
    /// Helper for the engines: a key's bytes (SecretKey::reveal()) or public bytes, as hex.
    void bytes(std::string_view label, std::string_view link_id,
               std::span<const std::uint8_t> value);
    /// Helper for the engines: the ALGS record (ciphering and integrity algorithm ids).
    void algorithms(std::string_view link_id, unsigned ciphering_id, unsigned integrity_id);
};

/// Writes text lines to a stream (a file the driver opened with mode 0600). Thread-safe.
class KeyLogWriter final : public KeyLogSink {
  public:
    /// A writer to `out`; `header`: begin with a header comment.
    explicit KeyLogWriter(std::ostream& out, bool header = true);
    /// Writes the record's line.
    void record(const KeyLogRecord& record) override;
    /// Writes a comment line.
    void comment(std::string_view text);

  private:
    std::mutex mutex_;
    std::ostream& out_;
};

/// Keeps the records in memory (tests, the simulator's own checks). Thread-safe.
class KeyLogCollector final : public KeyLogSink {
  public:
    /// Keeps the record.
    void record(const KeyLogRecord& record) override;
    /// The records so far, oldest first.
    std::vector<KeyLogRecord> records() const;
    /// The newest value of `label` for `link_id`, or "" if none.
    std::string latest(std::string_view label, std::string_view link_id) const;

  private:
    mutable std::mutex mutex_;
    std::vector<KeyLogRecord> records_;
};

/// The record's line of key-log text.
std::string format_key_log_line(const KeyLogRecord& record);
/// Parses key-log text: comments and blank lines are skipped; anything else must be
/// `"<LABEL> <link-id> <value...>"`. Errors (Errc::malformed) name "line N". A label pc5sec does
/// not write (a later version's, or a typing error) is kept, and when `warnings` is given, one
/// "line N: unknown label ..." is added to it (the label escaped: the file may be anyone's).
Result<std::vector<KeyLogRecord>> parse_key_log(std::string_view text,
                                                std::vector<std::string>* warnings = nullptr);
/// Whether pc5sec writes `label` (the list above).
bool is_known_key_log_label(std::string_view label) noexcept;

}  // namespace pc5sec::pc5
