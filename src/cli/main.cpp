// pc5sec: 5G ProSe UE-to-UE relay PC5 link security (TR 33.740 Key Issue #2).
#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "pc5sec/log.hpp"

namespace pc5sec::cli {
namespace {
std::vector<std::pair<int, RegisterFn>>& registry() {
    static std::vector<std::pair<int, RegisterFn>> r;
    return r;
}
}  // namespace
CommandRegistrar::CommandRegistrar(int order, RegisterFn fn) {
    registry().emplace_back(order, fn);
}
void register_all(CLI::App& app) {
    auto& r = registry();
    std::stable_sort(r.begin(), r.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [order, fn] : r)
        fn(app);
}
}  // namespace pc5sec::cli

int main(int argc, char** argv) {
    CLI::App app{
        "pc5sec: 5G ProSe UE-to-UE relay PC5 link security.\n"
        "Runs, measures, captures and attacks the two TR 33.740 KI#2 solutions.",
        "pc5sec"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "pc5sec 0.1.0");
    // The library writes nothing itself (pc5sec/log.hpp): the program gives it stderr, at the
    // level asked for. A UE's lines carry their own time, role and name.
    pc5sec::log::set_sink(
        [](pc5sec::log::Level, std::string_view component, std::string_view line) {
            if (component == "ue")
                std::cerr << line << std::endl;
            else
                std::cerr << component << ": " << line << std::endl;
        });
    app.add_option_function<std::string>(
           "--log-level",
           [](const std::string& text) {
               auto level = pc5sec::log::parse_level(text, "--log-level");
               if (!level) throw CLI::ValidationError("--log-level", level.error().message);
               pc5sec::log::set_level(*level);
           },
           "what the library reports on stderr: error, warning, info (default) or debug")
        ->type_name("LEVEL");
    pc5sec::cli::register_all(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : pc5sec::cli::kExitBadInput;
    } catch (const pc5sec::cli::CommandError& e) {
        std::cerr << "pc5sec: error: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << "pc5sec: internal error: " << e.what() << "\n";
        return 70;
    }
    return 0;
}
