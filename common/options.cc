#include "common/options.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace chat {

void ExitWithUsageError(std::string_view program, std::string_view message) {
  std::cerr << program << ": " << message << " (see --help)\n";
  std::exit(kUsageExitCode);
}

cxxopts::ParseResult ParseOptionsOrExit(cxxopts::Options& options, int argc, char** argv) {
  try {
    auto result = options.parse(argc, argv);
    if (result.count("help")) {
      std::cout << options.help() << std::flush;
      std::exit(0);
    }
    if (!result.unmatched().empty()) {
      ExitWithUsageError(options.program(),
                         "unexpected argument '" + result.unmatched().front() + "'");
    }
    return result;
  } catch (const cxxopts::exceptions::exception& e) {
    ExitWithUsageError(options.program(), e.what());
  }
}

}  // namespace chat
