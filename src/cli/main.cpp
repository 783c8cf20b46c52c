// pc5sec: 5G ProSe UE-to-UE relay PC5 link security (TR 33.740 Key Issue #2).
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{
        "pc5sec: 5G ProSe UE-to-UE relay PC5 link security.\n"
        "Runs, measures, captures and attacks the two TR 33.740 KI#2 solutions.",
        "pc5sec"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "pc5sec 0.1.0");
    pc5sec::cli::register_demo(app);
    pc5sec::cli::register_crypto(app);
    pc5sec::cli::register_bench(app);
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
