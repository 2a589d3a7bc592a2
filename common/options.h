#pragma once

#include <cxxopts.hpp>
#include <string_view>

namespace chat {

// Exit code for a bad command line (as BSD sysexits' EX_USAGE is too rare to know).
inline constexpr int kUsageExitCode = 2;

// Prints "PROGRAM: MESSAGE (see --help)" on stderr and exits with kUsageExitCode.
[[noreturn]] void ExitWithUsageError(std::string_view program, std::string_view message);

// Parses argv; prints help and exits 0 for --help; exits 2 with one line on a
// bad option. `options` must define a "help" flag.
cxxopts::ParseResult ParseOptionsOrExit(cxxopts::Options& options, int argc, char** argv);

}  // namespace chat
