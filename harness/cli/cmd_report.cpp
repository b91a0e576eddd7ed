// opsbench report RESULTS: re-renders reports from a results store without re-running anything.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "opsbench/harness/report_job.h"

namespace opsbench::cli {

void add_report(CLI::App& app, Action& action) {
  struct Args {
    std::string store;
    std::string out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("report", "Re-render the Markdown report and plots from a results store");
  cmd->add_option("results", args->store, "Results store (results.db)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output directory (default: the store's directory)");
  cmd->callback([&action, args] {
    action = [args] {
      std::string out = args->out;
      if (out.empty()) out = std::filesystem::path(args->store).parent_path().string();
      if (out.empty()) out = ".";
      for (const auto& path : write_reports_from_store(args->store, out)) std::cout << path << "\n";
      return 0;
    };
  });
}

}  // namespace opsbench::cli
