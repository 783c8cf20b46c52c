// include/pc5sec/files.hpp: bounded reads, private directories, secrets never written through a
// symbolic link and replaced atomically.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "pc5sec/files.hpp"

using namespace pc5sec;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path dir;
    TempDir() {
        char tmpl[] = "/tmp/pc5sec-files-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        dir = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

// Restores the umask on scope exit.
struct Umask {
    mode_t old;
    explicit Umask(mode_t m) : old(::umask(m)) {}
    ~Umask() { ::umask(old); }
};

}  // namespace

TEST(ReadFile, DevZeroIsAnErrorNamingTheFileNotBadAlloc) {
    auto r = files::read_file("/dev/zero", 1 << 20);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_EQ(r.error().field, "/dev/zero");
    EXPECT_NE(r.error().message.find("larger than 1 MiB"), std::string::npos)
        << r.error().describe();
    // With the default bound too.
    auto d = files::read_file("/dev/zero");
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("larger than 64 MiB"), std::string::npos);
}

TEST(ReadFile, MissingFilesAndDirectoriesNameThePath) {
    TempDir t;
    auto m = files::read_file(t.dir / "nothing");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().field, (t.dir / "nothing").string());
    EXPECT_NE(m.error().message.find("no such file"), std::string::npos);
    auto d = files::read_file(t.dir);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("directory"), std::string::npos);
}

TEST(ReadFile, AFileAtTheBoundIsReadAndOnePastItIsNot) {
    TempDir t;
    ASSERT_TRUE(files::write_file(t.dir / "f", std::string(1000, 'x'), 0644));
    EXPECT_EQ(files::read_file(t.dir / "f", 1000).value().size(), 1000u);
    EXPECT_FALSE(files::read_file(t.dir / "f", 999));
}

TEST(MakePrivateDirs, CreatedDirectoriesAre0700EvenUnderUmask000) {
    TempDir t;
    {
        Umask u(0);
        ASSERT_TRUE(files::make_private_dirs(t.dir / "a" / "b" / "c"));
    }
    for (const auto& p : {t.dir / "a", t.dir / "a" / "b", t.dir / "a" / "b" / "c"})
        EXPECT_EQ(mode_of(p), 0700u) << p;
    // An existing directory is left as it is; a file in the way is an error naming it.
    ::chmod((t.dir / "a").c_str(), 0755);
    ASSERT_TRUE(files::make_private_dirs(t.dir / "a" / "d"));
    EXPECT_EQ(mode_of(t.dir / "a"), 0755u);
    ASSERT_TRUE(files::write_file(t.dir / "file", "x", 0644));
    auto e = files::make_private_dirs(t.dir / "file" / "sub");
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().field, (t.dir / "file").string());
}

TEST(WriteFile, ASecretIsNotWrittenThroughASymbolicLink) {
    TempDir t;
    ASSERT_TRUE(files::write_file(t.dir / "victim", "precious", 0644));
    fs::create_symlink(t.dir / "victim", t.dir / "keys.log");
    auto e = files::write_file(t.dir / "keys.log", "KNRP x 00", 0600);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().field, (t.dir / "keys.log").string());
    EXPECT_NE(e.error().message.find("symbolic link"), std::string::npos);
    EXPECT_EQ(slurp(t.dir / "victim"), "precious");
    auto c = files::create_secret_file(t.dir / "keys.log");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("symbolic link"), std::string::npos);
    EXPECT_EQ(slurp(t.dir / "victim"), "precious");
    EXPECT_TRUE(fs::is_symlink(t.dir / "keys.log"));
}

TEST(WriteFile, ASecretIsNotWrittenIntoANonRegularFile) {
    TempDir t;
    ASSERT_EQ(::mkfifo((t.dir / "fifo").c_str(), 0600), 0);
    auto e = files::write_file(t.dir / "fifo", "secret", 0600);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("not a regular file"), std::string::npos);
    fs::create_directory(t.dir / "dir");
    EXPECT_FALSE(files::write_file(t.dir / "dir", "secret", 0600));
    EXPECT_FALSE(files::create_secret_file(t.dir / "dir"));
    // No temporary file is left behind.
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& x : fs::directory_iterator(t.dir))
        ++n;
    EXPECT_EQ(n, 2u);
}

TEST(WriteFile, ASecretReplacesARegularFileAtomicallyWithMode0600) {
    TempDir t;
    Umask u(0);
    const auto p = t.dir / "key.pem";
    ASSERT_TRUE(files::write_file(p, "old", 0644));
    EXPECT_EQ(mode_of(p), 0644u);
    struct stat before {};
    ::stat(p.c_str(), &before);
    ASSERT_TRUE(files::write_file(p, "new secret", 0600));
    struct stat after {};
    ::stat(p.c_str(), &after);
    EXPECT_EQ(slurp(p), "new secret");
    EXPECT_EQ(mode_of(p), 0600u);
    EXPECT_NE(before.st_ino, after.st_ino);  // a new file renamed over the old one
    // Again (a second `scripts/demo`): still fine.
    ASSERT_TRUE(files::write_file(p, "newer", 0600));
    EXPECT_EQ(slurp(p), "newer");
    auto fd = files::create_secret_file(p);
    ASSERT_TRUE(fd);
    EXPECT_EQ(::write(*fd, "k", 1), 1);
    ::close(*fd);
    EXPECT_EQ(slurp(p), "k");
    EXPECT_EQ(mode_of(p), 0600u);
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& x : fs::directory_iterator(t.dir))
        ++n;
    EXPECT_EQ(n, 1u);
}

TEST(WriteFile, APublicFileGoesToAFifoInPlace) {
    TempDir t;
    ASSERT_EQ(::mkfifo((t.dir / "fifo").c_str(), 0600), 0);
    std::string got;
    std::thread reader([&] { got = slurp(t.dir / "fifo"); });
    EXPECT_TRUE(files::write_file(t.dir / "fifo", "metrics", 0644));
    reader.join();
    EXPECT_EQ(got, "metrics");
}
