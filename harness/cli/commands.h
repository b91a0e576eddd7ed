// The opsbench command line: one file per subcommand, each adding itself to the CLI11 app and
// setting the action that main() runs after parsing. Actions return the process exit code:
//   0 every cell ok, 1 some cells failed (reports still written), 2 usage or configuration error
//   (ConfigError, DataError and CLI11 errors are mapped in main), 3 an unexpected internal error.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace opsbench::cli {

using Action = std::function<int()>;

void add_run(CLI::App& app, Action& action);
void add_list(CLI::App& app, Action& action);
void add_info(CLI::App& app, Action& action);
void add_report(CLI::App& app, Action& action);
void add_export(CLI::App& app, Action& action);
void add_eval(CLI::App& app, Action& action);
void add_analyse(CLI::App& app, Action& action);

// The process command line, as run (recorded with results).
const std::string& command_line();

// --data as given, else $OPSBENCH_DATA, else ""; ConfigError when it names an unreadable folder.
std::string resolve_data_root(const std::string& flag);

}  // namespace opsbench::cli
