#include <sstream>

#include <gtest/gtest.h>

#include "pc5sec/keylog.hpp"
#include "pc5sec/pc5.hpp"

using namespace pc5sec;

TEST(KeyLog, WriteThenParse) {
    std::ostringstream out;
    pc5::KeyLogWriter w(out);
    const std::vector<std::uint8_t> key{0xde, 0xad, 0xbe, 0xef};
    const auto id = pc5::make_link_id("alice", "relay-1", 0xa1b2c3d4);
    EXPECT_EQ(id, "alice>relay-1#a1b2c3d4");
    w.bytes("KNRP", id, key);
    w.algorithms(id, 2, 3);
    auto parsed = pc5::parse_key_log(out.str());
    ASSERT_TRUE(parsed) << parsed.error().describe();
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[0], (pc5::KeyLogRecord{"KNRP", id, "deadbeef"}));
    EXPECT_EQ((*parsed)[1], (pc5::KeyLogRecord{"ALGS", id, "2 3"}));
    EXPECT_EQ(out.str().rfind("# ", 0), 0u);
}

TEST(KeyLog, MalformedLineNamesIt) {
    auto r = pc5::parse_key_log("# ok\n\nKNRP only-two\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "line 3");
}

TEST(KeyLog, CollectorLatest) {
    pc5::KeyLogCollector c;
    c.record({"NRPEK", "x", "01"});
    c.record({"NRPEK", "x", "02"});
    EXPECT_EQ(c.latest("NRPEK", "x"), "02");
    EXPECT_EQ(c.latest("NRPIK", "x"), "");
}

// A label pc5sec does not write is kept (the rest still decodes) and named, by its line, in a
// warning; the label is escaped, since a key log may come from anyone.
TEST(KeyLog, UnknownLabelsGiveAWarningNamingTheLine) {
    std::vector<std::string> warnings;
    const std::string text =
        "# comment\nKNRP a>b#1 00\nKNRPP a>b#1 00\n\nNRPEK a>b#1 11\nX\x1b[2J a>b#1 22\n";
    auto r = pc5::parse_key_log(text, &warnings);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->size(), 4u);
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_EQ(warnings[0], "line 3: unknown label \"KNRPP\" (ignored)");
    EXPECT_EQ(warnings[1], "line 6: unknown label \"X\\x1b[2J\" (ignored)");
    // Without a list to fill, nothing changes.
    EXPECT_TRUE(pc5::parse_key_log(text));
    for (const char* known : {"KNRP", "NONCE_1", "NONCE_2", "KNRP_SESS", "KNRP_SESS_ID", "ALGS",
                              "NRPEK", "NRPIK", "KD", "KD_SESS"})
        EXPECT_TRUE(pc5::is_known_key_log_label(known)) << known;
}
