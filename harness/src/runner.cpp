#include "opsbench/harness/runner.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>

#include "opsbench/core/context.h"
#include "opsbench/core/environment.h"
#include "opsbench/core/error.h"
#include "opsbench/harness/cell.h"
#include "opsbench/harness/store.h"

namespace opsbench {
namespace {

struct Cell {
  const DatasetSpec* dataset;
  const ResolvedMethod* method;
  int repetition;
  RunRecord record;  // identity filled in
};

using Clock = std::chrono::steady_clock;

}  // namespace

std::string store_path_for(const std::string& out_dir, const std::string& suite_name) {
  return (std::filesystem::path(out_dir) / suite_name / "results.db").string();
}

RunSummary run_suite(const Suite& suite, const Registry& registry, const RunOptions& options) {
  std::optional<std::regex> filter;
  if (!options.filter.empty()) {
    try {
      filter.emplace(options.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw ConfigError("--filter '" + options.filter + "' is not a valid regular expression: " + e.what());
    }
  }
  const int repetitions = options.repetitions > 0 ? options.repetitions : suite.repetitions;

  std::vector<ResolvedMethod> methods;
  for (const auto& spec : suite.methods) methods.push_back(registry.resolve_method(spec));
  std::vector<const MetricEntry*> metrics;
  for (const auto& name : suite.metrics) metrics.push_back(&registry.metric(name));

  // Expand and filter the cells up front so progress knows the total.
  std::vector<Cell> cells;
  for (const auto& dataset : suite.datasets) {
    for (int rep = 0; rep < repetitions; ++rep) {
      for (const auto& method : methods) {
        const std::string id = dataset.name + "/" + method.canonical_spec + "/" + std::to_string(rep);
        if (filter && !std::regex_search(id, *filter)) continue;
        Cell cell{&dataset, &method, rep, {}};
        cell.record.suite = suite.name;
        cell.record.dataset = dataset.name;
        cell.record.method = method.canonical_spec;
        cell.record.method_name = method.entry->name;
        cell.record.repetition = rep;
        cell.record.seed = derive_seed(suite.seed, suite.name, dataset.name, method.canonical_spec, rep);
        cells.push_back(std::move(cell));
      }
    }
  }

  if (cells.empty()) {
    throw ConfigError("--filter '" + options.filter + "' matches none of the suite's cells (they are named " +
                      "<dataset>/<canonical spec>/<repetition>, e.g. " + suite.datasets.front().name + "/" +
                      methods.front().canonical_spec + "/0)");
  }
  RunSummary summary;
  summary.total = cells.size();
  summary.store_path = store_path_for(options.out_dir, suite.name);
  ResultsStore store(summary.store_path);
  const Environment env = capture_environment(options.command_line);
  const std::int64_t run_id = store.begin_run(suite.name, options.command_line, env, suite.to_json(), {});

  std::unique_ptr<EnergyMonitor> energy;
  if (suite.measure.energy) energy = std::make_unique<EnergyMonitor>(suite.measure.idle_seconds);

  CellOptions cell_options;
  cell_options.task = suite.task;
  cell_options.metrics = metrics;
  cell_options.threshold = suite.threshold;
  cell_options.measure = suite.measure;
  cell_options.energy = energy.get();
  cell_options.threads = options.threads;
  cell_options.search = suite.search;

  const auto start = Clock::now();
  std::size_t done = 0;
  double busy_seconds = 0;  // time spent in cells that ran, for the ETA
  auto report = [&](const RunRecord& record, bool skipped) {
    ++done;
    if (!options.on_progress) return;
    ProgressEvent ev;
    ev.done = done;
    ev.total = summary.total;
    ev.skipped = skipped;
    ev.record = &record;
    ev.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (summary.ran > 0) ev.eta_seconds = busy_seconds / summary.ran * (summary.total - done);
    options.on_progress(ev);
  };

  // Datasets are read once; splits once per (dataset, repetition) and shared by its methods.
  const DatasetSpec* loaded_for = nullptr;
  std::optional<Dataset> dataset;
  std::string dataset_error;
  int prepared_rep = -1;
  std::optional<PreparedSplit> parts;
  std::string split_error;

  for (auto& cell : cells) {
    if (store.has_ok_cell(cell.record.key())) {
      ++summary.skipped;
      report(cell.record, true);
      continue;
    }
    const auto cell_start = Clock::now();
    if (loaded_for != cell.dataset) {
      loaded_for = cell.dataset;
      dataset.reset();
      dataset_error.clear();
      prepared_rep = -1;
      try {
        const ReaderEntry& reader = registry.reader(cell.dataset->reader);
        const Options reader_options = resolve(reader.options, cell.dataset->options, "reader " + reader.name);
        ReadContext rc;
        rc.data_root = options.data_root;
        rc.base_dir = suite.base_dir;
        rc.seed = derive_seed(suite.seed, suite.name, cell.dataset->name, "data", 0);
        dataset = reader.read(reader_options, rc);
        store.add_data_files(run_id, dataset->files);
      } catch (const std::exception& e) {
        dataset_error = "reading dataset '" + cell.dataset->name + "' failed: " + e.what();
      }
    }
    if (dataset && prepared_rep != cell.repetition) {
      prepared_rep = cell.repetition;
      parts.reset();
      split_error.clear();
      try {
        SplitSpec split = suite.split;
        if (cell.dataset->train_contamination >= 0) split.train_contamination = cell.dataset->train_contamination;
        parts = prepare_split(*dataset, cell.dataset->name, suite.task, split, suite.preprocess,
                              derive_seed(suite.seed, suite.name, cell.dataset->name, "split", cell.repetition),
                              suite.resample);
      } catch (const std::exception& e) {
        split_error = "preparing repetition " + std::to_string(cell.repetition) + " of dataset '" +
                      cell.dataset->name + "' failed: " + e.what();
      }
    }
    RunRecord& record = cell.record;
    if (!dataset || !parts) {
      record.started_at = utc_now_iso8601();
      record.status = CellStatus::kFailed;
      record.error = dataset ? split_error : dataset_error;
    } else {
      run_cell(*cell.method, *parts, cell_options, record);
    }
    if (dataset) {
      record.info["dataset.synthetic"] = dataset->synthetic ? "true" : "false";
      record.info["dataset.description"] = dataset->description;
    }
    store.put_cell(run_id, record);
    ++summary.ran;
    if (record.status == CellStatus::kFailed) ++summary.failed;
    busy_seconds += std::chrono::duration<double>(Clock::now() - cell_start).count();
    report(record, false);
  }
  store.finish_run(run_id);
  return summary;
}

}  // namespace opsbench
