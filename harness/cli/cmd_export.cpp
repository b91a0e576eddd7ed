// opsbench export RESULTS --json|--csv: the store's runs and cells in an exchange format.
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "opsbench/core/error.h"
#include "opsbench/harness/export.h"
#include "opsbench/harness/store.h"

namespace opsbench::cli {

void add_export(CLI::App& app, Action& action) {
  struct Args {
    std::string store;
    bool json = false;
    bool csv = false;
    std::string out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("export", "Export a results store as JSON (canonical) or CSV");
  cmd->add_option("results", args->store, "Results store (results.db)")->required()->check(CLI::ExistingFile);
  auto* json = cmd->add_flag("--json", args->json, "JSON: runs with their environment, and cells");
  auto* csv = cmd->add_flag("--csv", args->csv, "CSV: one row per cell and metric or figure");
  json->excludes(csv);
  cmd->add_option("-o,--output", args->out, "Write to this file instead of standard output");
  cmd->callback([&action, args] {
    action = [args] {
      if (!args->json && !args->csv) throw ConfigError("export: choose --json or --csv");
      ResultsStore store(args->store);
      std::ofstream file;
      if (!args->out.empty()) {
        file.open(args->out, std::ios::binary);
        if (!file) throw ConfigError("export: cannot write '" + args->out + "'");
      }
      std::ostream& out = args->out.empty() ? std::cout : file;
      if (args->json) {
        export_json(store, out);
      } else {
        export_csv(store, out);
      }
      return 0;
    };
  });
}

}  // namespace opsbench::cli
