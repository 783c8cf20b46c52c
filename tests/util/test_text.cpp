// include/pc5sec/text.hpp: what a peer can put in a string never reaches output raw.
#include <gtest/gtest.h>

#include "pc5sec/text.hpp"

using namespace pc5sec;

TEST(EscapeText, PrintableAsciiAndUtf8PassUnchanged) {
    EXPECT_EQ(escape_text("bob"), "bob");
    EXPECT_EQ(escape_text("relay-1 (0x000050): ünïcödé ✓ 𝄞"), "relay-1 (0x000050): ünïcödé ✓ 𝄞");
    EXPECT_EQ(escape_text(""), "");
}

TEST(EscapeText, ControlCharactersNewlinesAndEscapeSequencesBecomeHexText) {
    // A forged log line and a terminal control sequence in a Target User Info.
    const std::string hostile = "bob\n13:45:14.557 relay relay1: forged\x1b[2J\x1b]0;pwn\x07\r";
    const auto e = escape_text(hostile);
    EXPECT_EQ(e, "bob\\x0a13:45:14.557 relay relay1: forged\\x1b[2J\\x1b]0;pwn\\x07\\x0d");
    for (char c : e)
        EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) << e;
    EXPECT_EQ(escape_text(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(escape_text("\x7f"), "\\x7f");
    EXPECT_EQ(escape_text("\t"), "\\x09");
}

TEST(EscapeText, BackslashIsEscapedSoThatTheOutputIsUnambiguous) {
    EXPECT_EQ(escape_text("\\x1b"), "\\\\x1b");
}

TEST(EscapeText, C1ControlsAndMalformedUtf8BecomeHexText) {
    EXPECT_EQ(escape_text("\xc2\x9b"
                          "31m"),
              "\\xc2\\x9b31m");                      // CSI as a C1 control
    EXPECT_EQ(escape_text("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is printable
    EXPECT_EQ(escape_text("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
    EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
    EXPECT_EQ(escape_text("\xe2\x9c"), "\\xe2\\x9c");                    // truncated
    EXPECT_EQ(escape_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

TEST(ValidUtf8, WellFormedTextIsUnchangedAndOtherOctetsBecomeHexText) {
    EXPECT_TRUE(is_valid_utf8("bob ünïcödé\n"));
    EXPECT_EQ(valid_utf8("bob ünïcödé\n"), "bob ünïcödé\n");
    EXPECT_FALSE(is_valid_utf8("b\xffob"));
    EXPECT_EQ(valid_utf8("b\xffob"), "b\\xffob");
    EXPECT_EQ(valid_utf8("\xc3"), "\\xc3");
    EXPECT_EQ(valid_utf8("\xc3\xa9\xc3"), "\xc3\xa9\\xc3");
    for (int c = 0; c < 256; ++c) {
        const std::string one(1, static_cast<char>(c));
        EXPECT_TRUE(is_valid_utf8(valid_utf8(one))) << c;
        EXPECT_TRUE(is_valid_utf8(escape_text(one))) << c;
    }
}

namespace pc5sec {
namespace {

// XML, SVG and HTML (sequence diagrams, the evaluation's HTML): markup characters as entities,
// invalid UTF-8 as \xNN text, control characters XML 1.0 refuses as '?'.
TEST(EscapeXml, MarkupControlsAndInvalidUtf8) {
    EXPECT_EQ(escape_xml("relay-1 ✓"), "relay-1 ✓");
    EXPECT_EQ(escape_xml("<script>&\"'"), "&lt;script&gt;&amp;&quot;&apos;");
    EXPECT_EQ(escape_xml("a\x1b[2Jb\tc\nd"), "a?[2Jb\tc?d");
    EXPECT_EQ(escape_xml("\xff<"), "\\xff&lt;");
}

}  // namespace
}  // namespace pc5sec
