// opsbench analyse FILE.toml --out DIR: the analyses of Jin et al. (online detection, debiasing,
// transfer, catastrophic forgetting) declared in an analysis file; writes DIR/analysis.json (canonical)
// and DIR/analysis.md with plots. Exit code 1 when some fit failed (the outputs are still written).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "commands.h"
#include "opsbench/core/error.h"
#include "opsbench/harness/analysis.h"
#include "opsbench/harness/register_all.h"

namespace opsbench::cli {
namespace {

struct AnalyseArgs {
  std::string file;
  std::string out = "out/analyses";
  std::string data;
  int threads = 1;
};

}  // namespace

void add_analyse(CLI::App& app, Action& action) {
  auto args = std::make_shared<AnalyseArgs>();
  CLI::App* cmd = app.add_subcommand(
      "analyse", "Run the analyses of an analysis file (online detection, debiasing, transfer, forgetting)");
  cmd->add_option("file", args->file, "Analysis file (TOML, docs/analyses.md)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output directory: analysis.json, analysis.md, plots/")->capture_default_str();
  cmd->add_option("--data", args->data, "Root of the real datasets (default: $OPSBENCH_DATA)");
  cmd->add_option("--threads", args->threads, "Threads each method may use")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->callback([&action, args] {
    action = [args] {
      const Registry& registry = builtin_registry();
      const AnalysisFile file = load_analysis_file(args->file, registry);
      AnalysisRunOptions options;
      options.data_root = resolve_data_root(args->data);
      options.out_dir = args->out;
      options.threads = args->threads;
      options.command_line = command_line();
      options.on_progress = [](const std::string& line) { std::cerr << line << "\n"; };
      const AnalysisResults results = run_analyses(file, registry, options);
      const auto paths = write_analysis_outputs(results, args->out);
      std::cerr << results.analyses.size() << " analyses, " << results.failed() << " failed fits or analyses\n";
      for (const auto& path : paths) std::cout << path << "\n";
      return results.failed() > 0 ? 1 : 0;
    };
  });
}

}  // namespace opsbench::cli
