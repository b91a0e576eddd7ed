// opsbench run SUITE.toml: runs every cell, stores results as it goes, writes the report.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <unistd.h>

#include <fmt/format.h>

#include "commands.h"
#include "opsbench/core/error.h"
#include "opsbench/harness/register_all.h"
#include "opsbench/harness/report_job.h"
#include "opsbench/harness/runner.h"

namespace opsbench::cli {
namespace {

struct RunArgs {
  std::string suite;
  std::string data;
  std::string out = "out";
  std::string filter;
  int seeds = 0;
  int threads = 1;
};

std::string format_eta(double seconds) {
  if (seconds < 0) return "?";
  if (seconds < 90) return fmt::format("{:.0f}s", seconds);
  return fmt::format("{:.0f}m{:02.0f}s", seconds / 60, std::fmod(seconds, 60.0));
}

// A single rewritten line on a terminal; one plain line per cell otherwise (logs, CI).
void print_progress(const ProgressEvent& ev, bool tty) {
  const RunRecord& r = *ev.record;
  const char* state = ev.skipped ? "skipped (stored)" : (r.status == CellStatus::kOk ? "ok" : "FAILED");
  std::string line = fmt::format("[{}/{}] {} / {} / rep {}: {}  ETA {}", ev.done, ev.total, r.dataset, r.method,
                                 r.repetition, state, format_eta(ev.eta_seconds));
  if (tty) {
    std::cerr << "\r\033[2K" << line << (ev.done == ev.total ? "\n" : "") << std::flush;
    if (r.status == CellStatus::kFailed && !ev.skipped) std::cerr << "\n  error: " << r.error << "\n";
  } else {
    std::cerr << line << "\n";
    if (r.status == CellStatus::kFailed && !ev.skipped) std::cerr << "  error: " << r.error << "\n";
  }
}

}  // namespace

void add_run(CLI::App& app, Action& action) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run every cell (dataset x method x seed) of a suite and write its report");
  cmd->add_option("suite", args->suite, "Suite file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--data", args->data, "Root of the real datasets (default: $OPSBENCH_DATA)");
  cmd->add_option("--out", args->out, "Output directory: <out>/<suite>/results.db and report.md")
      ->capture_default_str();
  cmd->add_option("--filter", args->filter, "Only cells whose '<dataset>/<method spec>/<rep>' matches this regex");
  cmd->add_option("--seeds", args->seeds, "Repetitions (seeds) per cell, overriding the suite's")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--threads", args->threads, "Threads each method may use")->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->callback([&action, args] {
    action = [args] {
      const Registry& registry = builtin_registry();
      const Suite suite = load_suite(args->suite, registry);
      RunOptions options;
      options.data_root = resolve_data_root(args->data);
      options.out_dir = args->out;
      options.filter = args->filter;
      options.repetitions = args->seeds;
      options.threads = args->threads;
      options.command_line = command_line();
      const bool tty = isatty(fileno(stderr));
      options.on_progress = [tty](const ProgressEvent& ev) { print_progress(ev, tty); };

      const RunSummary summary = run_suite(suite, registry, options);
      const std::string report_dir = (std::filesystem::path(args->out) / suite.name).string();
      const auto reports = write_reports_from_store(summary.store_path, report_dir);
      std::cerr << fmt::format("{} cells: {} ran, {} skipped (already stored), {} failed\n", summary.total,
                               summary.ran, summary.skipped, summary.failed);
      std::cerr << "results: " << summary.store_path << "\n";
      for (const auto& path : reports) std::cout << path << "\n";
      return summary.failed > 0 ? 1 : 0;
    };
  });
}

}  // namespace opsbench::cli
