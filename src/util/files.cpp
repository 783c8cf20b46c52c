// include/pc5sec/files.hpp: bounded reads, private directories, secrets written atomically and
// never through a symbolic link.
#include "pc5sec/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace pc5sec::files {

namespace {

Error io_error(const std::filesystem::path& file, std::string message) {
    return make_error(Errc::io, file.string(), std::move(message));
}

std::string size_text(std::size_t n) {
    if (n >= (1u << 20) && n % (1u << 20) == 0) return fmt::format("{} MiB", n >> 20);
    return fmt::format("{} octets", n);
}

Status write_all(int fd, std::string_view text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error(Errc::io, "", std::strerror(n < 0 ? errno : EIO));
        done += static_cast<std::size_t>(n);
    }
    return {};
}

// A temporary file next to `file` (same directory, so that rename is atomic), mode 0600.
Result<std::pair<int, std::filesystem::path>> temporary_next_to(const std::filesystem::path& file) {
    const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    // Appended piece by piece: GCC 12 at -O3 raised a false -Wrestrict on `"." + std::string`.
    std::string base = ".";
    base += file.filename().string();
    base += ".XXXXXX";
    std::string tmpl = (dir / base).string();
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);  // mode 0600
    if (fd < 0) return io_error(file, fmt::format("cannot be written: {}", std::strerror(errno)));
    return std::pair{fd, std::filesystem::path(tmpl)};
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& file, std::size_t max) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const int e = errno;
        return io_error(file, e == ENOENT ? "cannot be read: no such file"
                                          : fmt::format("cannot be read: {}", std::strerror(e)));
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        return io_error(file, "cannot be read: a directory");
    }
    std::string out;
    if (S_ISREG(st.st_mode) && st.st_size > 0)
        out.reserve(std::min<std::size_t>(static_cast<std::size_t>(st.st_size), max) + 1);
    std::vector<char> buf(1 << 16);
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            return io_error(file, fmt::format("read error: {}", std::strerror(e)));
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max) {
            ::close(fd);
            return io_error(file, fmt::format("larger than {}, the most pc5sec reads from one "
                                              "file (a special file such as /dev/zero?)",
                                              size_text(max)));
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

Status make_private_dirs(const std::filesystem::path& dir) {
    if (dir.empty()) return {};
    std::filesystem::path at;
    for (const auto& part : dir.lexically_normal()) {
        if (part.empty()) continue;
        at /= part;
        struct stat st {};
        if (::stat(at.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return io_error(at, "cannot create the directory: a file of that name exists");
            continue;
        }
        if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST)
            return io_error(at,
                            fmt::format("cannot create the directory: {}", std::strerror(errno)));
        // mkdir's mode is masked by the umask, which can only remove bits: 0700 at most. Set it
        // exactly, so that the owner can use it even under a umask such as 0777.
        (void)::chmod(at.c_str(), 0700);
    }
    return {};
}

Status check_secret_path(const std::filesystem::path& file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return io_error(file, fmt::format("cannot be written: {}", std::strerror(errno)));
    }
    if (S_ISLNK(st.st_mode))
        return io_error(file,
                        "is a symbolic link: a secret (key or key log) is not written through one");
    if (!S_ISREG(st.st_mode))
        return io_error(file,
                        "is not a regular file: a secret (key or key log) is not written "
                        "into one");
    return {};
}

Status write_file(const std::filesystem::path& file, std::string_view text, unsigned mode) {
    const bool secret = (mode & 077) == 0;
    if (secret) {
        PC5SEC_TRY(check_secret_path(file));
    } else {
        struct stat st {};
        if (::stat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
            // A FIFO or a device (/dev/stdout): written in place, as given.
            const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (fd < 0)
                return io_error(file, fmt::format("cannot be written: {}", std::strerror(errno)));
            auto st2 = write_all(fd, text);
            ::close(fd);
            if (!st2) return io_error(file, "cannot be written: " + st2.error().message);
            return {};
        }
    }
    auto tmp = temporary_next_to(file);
    if (!tmp) return std::move(tmp).error();
    const auto [fd, tmp_path] = *tmp;
    Status st;
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0)
        st = make_error(Errc::io, "", std::strerror(errno));
    if (st) st = write_all(fd, text);
    if (::close(fd) != 0 && st) st = make_error(Errc::io, "", std::strerror(errno));
    // rename() replaces a symbolic link itself, never its target.
    if (st && ::rename(tmp_path.c_str(), file.c_str()) != 0)
        st = make_error(Errc::io, "", std::strerror(errno));
    if (!st) {
        ::unlink(tmp_path.c_str());
        return io_error(file, "cannot be written: " + st.error().message);
    }
    return {};
}

Result<int> create_secret_file(const std::filesystem::path& file) {
    PC5SEC_TRY(check_secret_path(file));
    auto tmp = temporary_next_to(file);
    if (!tmp) return std::move(tmp).error();
    const auto [fd, tmp_path] = *tmp;
    if (::rename(tmp_path.c_str(), file.c_str()) != 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(tmp_path.c_str());
        return io_error(file, fmt::format("cannot be written: {}", std::strerror(e)));
    }
    return fd;
}

}  // namespace pc5sec::files
