// opsbench eval SPEC --train FILE --test FILE --label COL: one method on explicit CSV files, no
// suite file. Measured exactly as a suite cell (same preparation, phases and metrics).
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "opsbench/core/context.h"
#include "opsbench/core/error.h"
#include "opsbench/datasets/csv_dataset.h"
#include "opsbench/harness/cell.h"
#include "opsbench/harness/register_all.h"

namespace opsbench::cli {
namespace {

struct EvalArgs {
  std::string spec;
  std::string train;
  std::string test;
  std::string validation;
  std::string label;
  std::vector<std::string> positive;
  std::string group;
  std::string task = "detect";
  std::uint64_t seed = 0;
  int threads = 1;
  bool json = false;
  std::string threshold = "contamination";
  double threshold_value = 0.1;
  std::string scale = "none";
  std::vector<std::string> metrics;
};

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", bytes, units[u]);
}

void print_table(const RunRecord& r) {
  std::cout << "method:  " << r.method << "\n";
  std::cout << "rows:    train " << r.info.at("rows.train") << ", test " << r.info.at("rows.test") << ", features "
            << r.info.at("features") << "\n";
  if (r.info.count("threshold")) std::cout << "threshold: " << r.info.at("threshold") << "\n";
  std::cout << "\nmetric                      value\n";
  for (const auto& [name, value] : r.metrics) std::cout << fmt::format("{:<26} {:>8.4f}\n", name, value);
  std::cout << "\nphase      wall (s)     cpu (s)    peak RSS\n";
  for (const char* phase : {"fit", "score", "predict"}) {
    const Figure* wall = r.figure(std::string(phase) + ".wall");
    if (!wall) continue;
    const Figure* cpu = r.figure(std::string(phase) + ".cpu");
    const Figure* rss = r.figure(std::string(phase) + ".peak_rss");
    std::cout << fmt::format("{:<8} {:>10.4f} {:>11.4f} {:>11}\n", phase, wall->value, cpu ? cpu->value : 0.0,
                             rss && rss->available ? human_bytes(rss->value) : std::string("unavailable"));
  }
  if (const Figure* size = r.figure("model_size")) std::cout << "\nmodel size: " << human_bytes(size->value) << "\n";
}

nlohmann::json to_json(const RunRecord& r) {
  nlohmann::json j;
  j["method"] = r.method;
  j["seed"] = std::to_string(r.seed);
  j["metrics"] = r.metrics;
  j["info"] = r.info;
  j["figures"] = nlohmann::json::array();
  for (const auto& f : r.figures) {
    nlohmann::json fj = {{"name", f.name}, {"unit", f.unit}, {"source", f.source}, {"available", f.available}};
    if (f.available) {
      fj["value"] = f.value;
    } else {
      fj["reason"] = f.reason;
    }
    j["figures"].push_back(fj);
  }
  return j;
}

}  // namespace

void add_eval(CLI::App& app, Action& action) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Run one method on explicit train/test CSV files and print its metrics and timings");
  cmd->add_option("spec", a->spec, "Method spec, e.g. iforest:n_estimators=200")->required();
  cmd->add_option("--train", a->train, "Training CSV (gzip read transparently)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--test", a->test, "Test CSV, same columns")->required()->check(CLI::ExistingFile);
  cmd->add_option("--validation", a->validation, "Validation CSV (for threshold best_f1_validation)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--label", a->label, "Label column (detect: 0/1 or see --positive)")->required();
  cmd->add_option("--positive", a->positive, "Label values meaning anomalous (class 1); default: 0/1 labels");
  cmd->add_option("--group", a->group, "Group column (kept out of the features)");
  cmd->add_option("--task", a->task, "detect | classify")->check(CLI::IsMember({"detect", "classify"}))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Threads")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--threshold", a->threshold, "contamination | train_percentile | best_f1_validation | fixed")
      ->capture_default_str();
  cmd->add_option("--threshold-value", a->threshold_value, "The threshold policy's value")->capture_default_str();
  cmd->add_option("--scale", a->scale, "standard | minmax | none")->check(CLI::IsMember({"standard", "minmax", "none"}))
      ->capture_default_str();
  cmd->add_option("--metrics", a->metrics, "Metrics (default: roc_auc average_precision precision_at_k f1 for "
                                           "detect; accuracy f1_macro roc_auc_ovr_macro for classify)");
  cmd->add_flag("--json", a->json, "Print JSON instead of a table");
  cmd->callback([&action, a] {
    action = [a] {
      const Registry& registry = builtin_registry();
      const Task task = parse_task(a->task);
      const ResolvedMethod method = registry.resolve_method(a->spec);
      const MethodKind want = task == Task::kDetect ? MethodKind::kDetector : MethodKind::kClassifier;
      if (method.entry->kind != want) {
        throw ConfigError("method '" + method.entry->name + "' is a " + to_string(method.entry->kind) +
                          "; use --task " + (method.entry->kind == MethodKind::kDetector ? "detect" : "classify"));
      }
      CsvSchema schema;
      schema.label = a->label;
      schema.positive = a->positive;
      schema.group = a->group;
      const Dataset data = read_csv_dataset(schema, a->train, a->validation, a->test);

      SplitSpec split;  // unused: the files are the split
      PreprocessSpec pre;
      pre.scale = a->scale;
      const PreparedSplit parts = prepare_split(data, "eval", task, split, pre, a->seed);

      CellOptions options;
      options.task = task;
      options.threads = a->threads;
      options.threshold.policy = a->threshold;
      options.threshold.value = a->threshold_value;
      options.measure.latency = false;
      options.measure.energy = false;
      std::vector<std::string> metrics = a->metrics;
      if (metrics.empty()) {
        metrics = task == Task::kDetect
                      ? std::vector<std::string>{"roc_auc", "average_precision", "precision_at_k", "f1"}
                      : std::vector<std::string>{"accuracy", "f1_macro", "roc_auc_ovr_macro"};
      }
      for (const auto& m : metrics) options.metrics.push_back(&registry.metric(m));

      RunRecord record;
      record.suite = "eval";
      record.dataset = a->train;
      record.method = method.canonical_spec;
      record.method_name = method.entry->name;
      record.seed = a->seed;
      run_cell(method, parts, options, record);
      if (record.status == CellStatus::kFailed) {
        std::cerr << "opsbench eval: " << record.method << " failed: " << record.error << "\n";
        return 1;
      }
      if (a->json) {
        std::cout << to_json(record).dump(2) << "\n";
      } else {
        print_table(record);
      }
      return 0;
    };
  });
}

}  // namespace opsbench::cli
