// Files as pc5sec reads and writes them (issue [robust] item 7):
//   - reads are size-limited, so that /dev/zero or a huge file given as a certificate, key,
//     policy, key log, scenario or capture is a clear error naming the file, not bad_alloc;
//   - directories pc5sec creates are 0700 whatever the umask;
//   - a secret (a private key, a key log: a file of mode 0600) is never written through a
//     symbolic link or into a non-regular file, and replaces an existing file atomically (a
//     temporary file in the same directory, created 0600, then renamed over it).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "pc5sec/error.hpp"

namespace pc5sec::files {

// The default bound of read_file: far above any credential, policy, scenario or key log pc5sec
// writes (a 10,000-UE simulation's key log is a few MiB).
inline constexpr std::size_t kMaxRead = 64u << 20;  // 64 MiB
// The bound for captures (pc5sec decode --pcap).
inline constexpr std::size_t kMaxCapture = 1u << 30;  // 1 GiB

// Reads a whole file of at most `max` octets. Errc::io naming the file: missing, unreadable, a
// directory, or larger than `max`.
Result<std::string> read_file(const std::filesystem::path& file, std::size_t max = kMaxRead);

// Creates `dir` and any missing parents with mode 0700 (whatever the umask). Directories that
// exist are left as they are. Errc::io naming the directory.
Status make_private_dirs(const std::filesystem::path& dir);

// Refuses a path that is a symbolic link or exists and is not a regular file (Errc::io naming
// the path): where a secret goes.
Status check_secret_path(const std::filesystem::path& file);

// Writes `text` to `file`, created with `mode`. A file of mode 0600 (a secret) is checked with
// check_secret_path and always replaces `file` atomically; any other file is replaced atomically
// when `file` is absent or a regular file, and written in place otherwise (a FIFO, /dev/stdout).
Status write_file(const std::filesystem::path& file, std::string_view text, unsigned mode);

// Creates a new, empty secret file at `file` (mode 0600), atomically replacing a regular file,
// refusing a symbolic link or non-regular file; returns a descriptor open for writing on it.
// The caller owns the descriptor.
Result<int> create_secret_file(const std::filesystem::path& file);

}  // namespace pc5sec::files
