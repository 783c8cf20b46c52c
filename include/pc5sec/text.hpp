// Text from a peer, a file or a scenario, made safe for output. A user info ID, a name from a
// frame or a failure reason that carries peer data goes through one of these at the point it
// becomes output (a log line, a terminal table, SVG, JSON), so that no peer can write a forged
// log line, a terminal control sequence or invalid UTF-8 into what pc5sec prints.
#pragma once

#include <string>
#include <string_view>

namespace pc5sec {

// For a terminal or a log line: printable ASCII and well-formed UTF-8 (other than the C1
// controls U+0080..U+009F) pass; every other octet (control characters, newline, ESC, DEL, an
// octet not part of well-formed UTF-8) is written as the text \xNN, and a backslash as "\\", so
// the output is one line and can be read back unambiguously.
std::string escape_text(std::string_view text);

// For JSON and SVG: well-formed UTF-8 passes unchanged (the JSON writer escapes control
// characters itself); an octet not part of well-formed UTF-8 becomes the text \xNN.
std::string valid_utf8(std::string_view text);

// For XML, SVG and HTML text and attribute values: valid_utf8, then & < > " ' as entities and
// the control characters XML 1.0 does not allow (below U+0020, tab aside) as '?'.
std::string escape_xml(std::string_view text);

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace pc5sec
