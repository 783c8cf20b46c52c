// The pc5sec command's subcommands. Each registers itself on the app; a subcommand's callback
// throws CommandError for bad input, which main() prints on stderr and exits with.
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "pc5sec/error.hpp"

namespace pc5sec::cli {

// Exit codes: 0 success, 1 a check failed (bad MAC, failed link), 2 bad input or usage.
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitBadInput = 2;

class CommandError : public std::runtime_error {
  public:
    CommandError(int exit_code, const std::string& message)
        : std::runtime_error(message), exit_code_(exit_code) {}
    explicit CommandError(const Error& e)
        : std::runtime_error(e.describe()),
          exit_code_(e.code == Errc::verification_failed ? kExitCheckFailed : kExitBadInput) {}
    int exit_code() const noexcept { return exit_code_; }

  private:
    int exit_code_;
};

// Unwraps a Result or throws CommandError naming its field.
template <class T>
T take(Result<T> r) {
    if (!r) throw CommandError(r.error());
    return std::move(r).value();
}
inline void take(Status s) {
    if (!s) throw CommandError(s.error());
}

// Each cmd_*.cpp defines one `const CommandRegistrar` at namespace scope; main() adds the
// subcommands in `order` (the order `pc5sec --help` lists them).
using RegisterFn = void (*)(CLI::App&);
struct CommandRegistrar {
    CommandRegistrar(int order, RegisterFn fn);
};
void register_all(CLI::App& app);

}  // namespace pc5sec::cli
