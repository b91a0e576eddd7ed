// opsbench: entry point. Parses the command line, runs the chosen subcommand and maps errors to
// exit codes; the only place that catches everything.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "opsbench/core/error.h"

namespace opsbench::cli {
namespace {
std::string g_command_line;
}
const std::string& command_line() { return g_command_line; }

std::string resolve_data_root(const std::string& flag) {
  std::string root = flag;
  if (root.empty()) {
    if (const char* env = std::getenv("OPSBENCH_DATA")) root = env;
  }
  if (!root.empty() && access(root.c_str(), R_OK) != 0)
    throw ConfigError("--data '" + root + "' does not exist or is not readable");
  return root;
}
}  // namespace opsbench::cli

int main(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    opsbench::cli::g_command_line += (i ? " " : "") + std::string(argv[i]);
  }
  CLI::App app{"opsbench: benchmark and reproducibility harness for ML on HPC operations data"};
  app.require_subcommand(1);
  opsbench::cli::Action action;
  opsbench::cli::add_run(app, action);
  opsbench::cli::add_list(app, action);
  opsbench::cli::add_info(app, action);
  opsbench::cli::add_report(app, action);
  opsbench::cli::add_export(app, action);
  opsbench::cli::add_eval(app, action);
  opsbench::cli::add_analyse(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return action();
  } catch (const opsbench::ConfigError& e) {
    std::cerr << "opsbench: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const opsbench::DataError& e) {
    std::cerr << "opsbench: data error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "opsbench: internal error: " << e.what() << "\n";
    return 3;
  }
}
