// The one translation unit of the examples that includes CLI11 (see command_line.hpp).
#include "command_line.hpp"

#include <CLI/CLI.hpp>

namespace xgan_examples {

Option& Option::show_default() {
    option_->capture_default_str();
    return *this;
}

Option& Option::check_range(std::uint64_t min, std::uint64_t max) {
    option_->check(CLI::Range(min, max));
    return *this;
}

Option& Option::check_existing_file() {
    option_->check(CLI::ExistingFile);
    return *this;
}

Option& Option::check_one_of(const std::vector<std::string>& choices) {
    option_->check(CLI::IsMember(choices));
    return *this;
}

CommandLine::CommandLine(const std::string& description) : app_(std::make_unique<CLI::App>(description)) {}

CommandLine::~CommandLine() = default;

Option CommandLine::add_option(const std::string& name, unsigned int& value, const std::string& description) {
    return Option(app_->add_option(name, value, description));
}

Option CommandLine::add_option(const std::string& name, unsigned long& value, const std::string& description) {
    return Option(app_->add_option(name, value, description));
}

Option CommandLine::add_option(const std::string& name, unsigned long long& value, const std::string& description) {
    return Option(app_->add_option(name, value, description));
}

Option CommandLine::add_option(const std::string& name, std::string& value, const std::string& description) {
    return Option(app_->add_option(name, value, description));
}

void CommandLine::add_flag(const std::string& name, bool& value, const std::string& description) {
    app_->add_flag(name, value, description);
}

std::optional<int> CommandLine::parse(int argc, const char* const* argv) {
    try {
        app_->parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app_->exit(e);
    }
    return std::nullopt;
}

}  // namespace xgan_examples
