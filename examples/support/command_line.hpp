// The examples' command line: options, flags and --help, parsed by CLI11.
//
// CLI11 is header-only and heavy: including <CLI/CLI.hpp> costs an example several
// seconds of parsing and more of code generation at -O2. So only command_line.cpp
// includes it, compiled once into a static library that every example links; this
// header names CLI11's types without including it. The messages, --help text and exit
// codes are CLI11's own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace xgan_examples {

// One option of a CommandLine, as add_option returns it; each call returns it again.
class Option {
public:
    // --help shows the variable's value at this call as the default: "--seed UINT=1".
    Option& show_default();
    // A value that is not an integer in [min, max] is an error: "Value 0 not in range 1 to 100".
    Option& check_range(std::uint64_t min, std::uint64_t max);
    // The value must name an existing file: "File does not exist: ...".
    Option& check_existing_file();
    // The value must be one of `choices`; --help lists them.
    Option& check_one_of(const std::vector<std::string>& choices);

private:
    friend class CommandLine;
    explicit Option(CLI::Option* option) : option_(option) {}
    CLI::Option* option_;
};

// A program's options. Each option writes into the variable it was given when parse
// finds it on the command line, and leaves the variable alone otherwise.
class CommandLine {
public:
    // description: the first line of --help.
    explicit CommandLine(const std::string& description);
    ~CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    // An option that takes a value: add_option("--steps", steps, "Training steps").
    // (unsigned int, long and long long cover std::uint64_t and std::size_t everywhere.)
    Option add_option(const std::string& name, unsigned int& value, const std::string& description);
    Option add_option(const std::string& name, unsigned long& value, const std::string& description);
    Option add_option(const std::string& name, unsigned long long& value, const std::string& description);
    Option add_option(const std::string& name, std::string& value, const std::string& description);
    // A flag: value becomes true when the flag is given.
    void add_flag(const std::string& name, bool& value, const std::string& description);

    // Parses the command line as CLI11_PARSE does. Empty: the options are set, go on.
    // Otherwise --help was asked for or the command line is wrong; the help or the error
    // has been printed, and main should return the value (0 after --help):
    //
    //     if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;
    [[nodiscard]] std::optional<int> parse(int argc, const char* const* argv);

private:
    std::unique_ptr<CLI::App> app_;
};

}  // namespace xgan_examples
