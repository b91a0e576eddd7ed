// Reader "flowbench": Flow-Bench per-job traces (Jin et al.; PoSeiDon-Workflows/FlowGAD data).
//
// Layout under the root: <condition>/<workflow>-runNNNN.csv(.gz), condition in {normal, cpu_2,
// cpu_3, cpu_4, hdd_5, hdd_10}; one row per job, 45 columns, the per-job label in `anomaly_type`
// ("None" for jobs on unaffected nodes: a real value, never a missing one). Every run of the chosen
// workflow and conditions goes into one Table, group = "<condition>/<file stem>", so group splits
// keep a DAG run whole. Runs are taken in sorted file order within each condition, conditions in the
// canonical order above (a condition folder that does not exist contributes no runs: cpu_4 is not
// in the public data). Missing cells stay missing; the suite imputes.
//
// Features: "paper" = the nine columns of the Flow-Bench LLM template, in its order; "all" = every
// numeric column except the job name, the label, timestamps and string columns, minus columns that
// are missing in every row read (nothing to learn from, and imputers reject them).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "readers.h"

namespace opsbench {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kConditions = {"normal", "cpu_2", "cpu_3", "cpu_4", "hdd_5", "hdd_10"};

const std::vector<std::string> kPaperFeatures = {
    "wms_delay",         "queue_delay",     "runtime",
    "post_script_delay", "stage_in_delay",  "stage_out_delay",
    "stage_in_bytes",    "stage_out_bytes", "kickstart_executables_cpu_time"};

// Never features under "all": identifiers, the label, strings, and absolute times (which only say
// when a run happened, and would let a model tell runs apart rather than jobs).
const std::set<std::string> kNotFeatures = {"",
                                            "anomaly_type",
                                            "type",
                                            "kickstart_user",
                                            "kickstart_site",
                                            "kickstart_hostname",
                                            "kickstart_transformations",
                                            "kickstart_executables",
                                            "kickstart_executables_argv",
                                            "ready",
                                            "pre_script_start",
                                            "pre_script_end",
                                            "submit",
                                            "stage_in_start",
                                            "stage_in_end",
                                            "execute_start",
                                            "execute_end",
                                            "stage_out_start",
                                            "stage_out_end",
                                            "post_script_start",
                                            "post_script_end"};

struct RunFile {
  std::string condition;
  fs::path path;
  std::string group;  // condition/stem
};

std::string file_stem(const fs::path& path) {
  std::string name = path.filename().string();
  for (const char* ext : {".csv.gz", ".csv"}) {
    std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
      return name.substr(0, name.size() - e.size());
    }
  }
  return name;
}

std::vector<RunFile> list_runs(const fs::path& root, const std::string& prefix,
                               const std::vector<std::string>& conditions, std::int64_t max_runs) {
  std::vector<RunFile> runs;
  for (const auto& condition : kConditions) {
    if (std::find(conditions.begin(), conditions.end(), condition) == conditions.end()) continue;
    std::error_code ec;
    fs::path dir = root / condition;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      std::string stem = file_stem(entry.path());
      if (stem == name) continue;  // not a .csv / .csv.gz file
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (max_runs > 0 && files.size() > static_cast<std::size_t>(max_runs))
      files.resize(static_cast<std::size_t>(max_runs));
    for (auto& path : files) runs.push_back(RunFile{condition, path, condition + "/" + file_stem(path)});
  }
  return runs;
}

int find_column(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

Dataset read_flowbench(const Options& options, const ReadContext& ctx) {
  const std::string root_text = resolve_data_path(options.get_string("root"), ctx);
  const fs::path root(root_text);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw ConfigError("reader flowbench: root '" + root_text + "' is not a directory");
  }
  const std::string workflow = options.get_string("workflow");
  const std::string prefix = (workflow == "1000genome" ? "1000-genome" : workflow) + "-run";
  const bool binary = options.get_string("label") == "binary";
  const bool paper = options.get_string("features") == "paper";
  std::vector<std::string> conditions = options.get_list("conditions");
  for (const auto& c : conditions) {
    if (std::find(kConditions.begin(), kConditions.end(), c) == kConditions.end()) {
      throw ConfigError("reader flowbench: unknown condition '" + c +
                        "'; valid: normal, cpu_2, cpu_3, cpu_4, hdd_5, hdd_10");
    }
  }
  if (conditions.empty()) conditions = kConditions;
  const std::vector<RunFile> runs = list_runs(root, prefix, conditions, options.get_int("max_runs"));
  if (runs.empty()) {
    throw DataError(
        root_text, 0, 0,
        "no runs of workflow '" + workflow + "' (files " + prefix + "NNNN.csv.gz) under the chosen conditions");
  }

  std::vector<std::string> features;
  std::vector<std::vector<double>> values;
  std::vector<int> label_codes;  // index into kConditions with 0 meaning "None"
  std::vector<int> groups;
  std::vector<std::string> group_names;
  Dataset dataset;
  const double nan = std::numeric_limits<double>::quiet_NaN();

  std::vector<std::string> fields;
  std::vector<int> columns;
  for (const auto& run : runs) {
    const std::string path = run.path.string();
    CsvReader reader(path);
    const auto& header = reader.header();
    if (features.empty()) {
      if (paper) {
        features = kPaperFeatures;
      } else {
        for (const auto& name : header) {
          if (kNotFeatures.count(name) == 0) features.push_back(name);
        }
      }
      values.resize(features.size());
    }
    const int label_col = find_column(header, "anomaly_type");
    if (label_col < 0) throw DataError(path, 1, 0, "no column 'anomaly_type' (the per-job label)");
    columns.assign(features.size(), -1);
    for (std::size_t f = 0; f < features.size(); ++f) {
      columns[f] = find_column(header, features[f]);
      if (columns[f] < 0) throw DataError(path, 1, 0, "no column '" + features[f] + "'");
    }
    const int group = static_cast<int>(group_names.size());
    group_names.push_back(run.group);
    while (reader.next(fields)) {
      const std::string& type = fields[static_cast<std::size_t>(label_col)];
      int code = 0;
      if (type != "None") {
        auto it = std::find(kConditions.begin() + 1, kConditions.end(), type);
        if (it == kConditions.end()) {
          throw DataError(path, reader.line(), label_col + 1,
                          "anomaly_type '" + type + "' is none of None, cpu_2, cpu_3, cpu_4, hdd_5, hdd_10");
        }
        code = static_cast<int>(it - kConditions.begin());
      }
      label_codes.push_back(code);
      groups.push_back(group);
      for (std::size_t f = 0; f < features.size(); ++f) {
        const std::string& cell = fields[static_cast<std::size_t>(columns[f])];
        double v = nan;
        if (!is_missing_token(cell) && !parse_double(cell, v)) {
          throw DataError(path, reader.line(), columns[f] + 1,
                          "column '" + features[f] + "': '" + cell + "' is not a number");
        }
        values[f].push_back(v);
      }
    }
    FileDigest digest = digest_file(path);
    dataset.files.push_back(DataFile{path, digest.bytes, digest.sha256});
  }

  for (std::size_t f = 0; f < features.size(); ++f) {
    const bool all_missing = std::all_of(values[f].begin(), values[f].end(), [](double v) { return std::isnan(v); });
    if (all_missing && !paper) continue;
    dataset.table.add_column(Column::numeric(features[f], std::move(values[f])));
  }

  Labels labels;
  labels.name = "anomaly_type";
  std::size_t anomalous = 0;
  for (int code : label_codes) anomalous += code != 0 ? 1 : 0;
  if (binary) {
    labels.classes = {"normal", "anomalous"};
    labels.values.reserve(label_codes.size());
    for (int code : label_codes) labels.values.push_back(code != 0 ? 1 : 0);
  } else {
    // "None" first, then the anomaly types present, in the canonical order.
    std::vector<int> present(kConditions.size(), 0);
    for (int code : label_codes) present[static_cast<std::size_t>(code)] = 1;
    std::vector<int> class_of(kConditions.size(), -1);
    labels.classes = {"None"};
    class_of[0] = 0;
    for (std::size_t k = 1; k < kConditions.size(); ++k) {
      if (!present[k]) continue;
      class_of[k] = static_cast<int>(labels.classes.size());
      labels.classes.push_back(kConditions[k]);
    }
    labels.values.reserve(label_codes.size());
    for (int code : label_codes) labels.values.push_back(class_of[static_cast<std::size_t>(code)]);
  }
  dataset.table.add_labels(std::move(labels));
  dataset.table.set_groups(std::move(groups), std::move(group_names));

  const double share = label_codes.empty() ? 0.0 : 100.0 * static_cast<double>(anomalous) / label_codes.size();
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f", share);
  dataset.description = "Flow-Bench " + workflow + " jobs: " + std::to_string(runs.size()) + " runs, " +
                        std::to_string(label_codes.size()) + " jobs, " + pct + "% anomalous; features " +
                        (paper ? "paper (9)" : "all numeric (" + std::to_string(dataset.table.num_columns()) + ")");
  return dataset;
}

}  // namespace

ReaderEntry flowbench_reader_entry() {
  ReaderEntry entry;
  entry.name = "flowbench";
  entry.description =
      "Flow-Bench per-job workflow traces (1000 Genome, Montage) with CPU/disk anomalies injected on some "
      "workers; all runs of one workflow, group = run";
  entry.options = {
      OptionDecl::string("root", "data:flowbench", "folder with <condition>/<workflow>-runNNNN.csv.gz"),
      OptionDecl::choice("workflow", "1000genome", {"1000genome", "montage"}, "which workflow's runs"),
      OptionDecl::choice("label", "binary", {"binary", "multiclass"},
                         "binary: anomaly_type != None is class 1; multiclass: None and each anomaly type"),
      OptionDecl::choice("features", "paper", {"paper", "all"},
                         "paper: the nine delay/bytes/cpu-time columns of the Flow-Bench template; all: every "
                         "numeric column except timestamps and ids"),
      OptionDecl::list("conditions", "normal;cpu_2;cpu_3;cpu_4;hdd_5;hdd_10", "run conditions to read"),
      OptionDecl::integer("max_runs", 0, 0, std::nullopt, "first N runs per condition in file order; 0 = all"),
  };
  entry.read = read_flowbench;
  return entry;
}

}  // namespace opsbench
