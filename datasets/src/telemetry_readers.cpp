// The telemetry readers of datasets/ (see readers.h): `ldms-hpas`, LDMS node telemetry with
// HPAS-injected anomalies turned into one row of tsfresh-style features per sample.
//
// Pipeline (every step declared by an option; docs/refine.md walks through it):
//  1. read every run (ldms.h: header policy, join on seconds, per-core metrics excluded);
//  2. drop metrics constant across all runs (no information, and constant features break chi2);
//  3. counters=diff: a metric that never decreases within any run and grows in at least one is a
//     cumulative counter (pgfault, context_switches, user jiffies) and is replaced by its per-second
//     difference (the first second of each run is then dropped);
//  4. samples: one per run (sample=run) or one per sliding window of `window` seconds every `stride`
//     seconds (sample=window); a run shorter than the window is a DataError (no silent drop);
//     label 1 when the sample overlaps an anomaly window by at least max(1, ceil(min_overlap *
//     length)) seconds; group = run, so a group split keeps a run's windows on one side;
//  5. features per (metric, sample) from the declared list (ts_features.h);
//  6. select_k > 0: chi-square top-k selection from a few labelled samples, `selection_per_class`
//     per anomaly-type class ("healthy", "CO", "CC+ML", ...: the paper's one per application x
//     anomaly-or-healthy pair), drawn with selection_seed; chi2 needs non-negative inputs, so the
//     features of those samples are min-max scaled over them first. With selection_holdout (default)
//     those samples are removed from the dataset, so their labels never reach a test part.
// MinMax scaling for the models is the suite's `[preprocess] scale = "minmax"`, fitted on train.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/datasets/ldms.h"
#include "opsbench/datasets/ts_features.h"
#include "readers.h"

namespace opsbench {
namespace {

std::vector<double> parse_doubles(const std::vector<std::string>& items, const std::string& what) {
  std::vector<double> out;
  for (const auto& s : items) {
    double v = 0;
    if (!parse_double(s, v)) throw ConfigError("ldms-hpas: " + what + " item '" + s + "' is not a number");
    out.push_back(v);
  }
  return out;
}

std::vector<int> parse_ints(const std::vector<std::string>& items, const std::string& what) {
  std::vector<int> out;
  for (double v : parse_doubles(items, what)) out.push_back(static_cast<int>(v));
  return out;
}

struct Sample {
  std::size_t run = 0;
  std::size_t begin = 0;  // row range in the run's matrix
  std::size_t end = 0;
  int label = 0;
  std::string type;
};

Dataset read_ldms_hpas(const Options& options, const ReadContext& ctx) {
  const std::string root = resolve_data_path(options.get_string("root"), ctx);
  const TruncatedTail tail = options.get_string("truncated_tail") == "error" ? TruncatedTail::kError : TruncatedTail::kDrop;
  const bool per_run = options.get_string("sample") == "run";
  const std::int64_t window = options.get_int("window");
  const std::int64_t stride = options.get_int("stride");
  const double min_overlap = options.get_double("min_overlap");
  const std::int64_t max_runs = options.get_int("max_runs");
  const TsFeatureSet features(options.get_list("features"), parse_doubles(options.get_list("quantiles"), "quantiles"),
                              parse_ints(options.get_list("lags"), "lags"),
                              parse_ints(options.get_list("peak_supports"), "peak_supports"));

  Dataset ds;
  std::vector<std::string> run_ids = find_ldms_runs(root);
  if (max_runs > 0 && static_cast<std::size_t>(max_runs) < run_ids.size()) run_ids.resize(static_cast<std::size_t>(max_runs));
  std::vector<LdmsRun> runs;
  std::size_t dropped_tails = 0;
  for (const auto& id : run_ids) {
    runs.push_back(read_ldms_run(root, id, tail));
    for (auto& f : runs.back().files) ds.files.push_back(f);
    for (const auto& note : runs.back().notes) dropped_tails += note.find("cut-short") != std::string::npos ? 1 : 0;
    if (runs.back().metrics != runs.front().metrics) {
      throw DataError(runs.back().files.front().path, 1, 0,
                      "run '" + id + "' has other metrics than run '" + runs.front().info.id +
                          "' (the LDMS headers differ); all runs of one dataset must share them");
    }
  }
  // 2-3: constant metrics out, counters differenced.
  const std::size_t m_all = runs.front().metrics.size();
  std::vector<std::size_t> keep;
  std::vector<bool> counter;
  const bool diff = options.get_string("counters") == "diff";
  for (std::size_t m = 0; m < m_all; ++m) {
    const double first = runs.front().values(0, m);
    bool constant = true, monotone = true, grows = false;
    for (const auto& run : runs) {
      for (std::size_t r = 0; r < run.values.rows; ++r) {
        const double v = run.values(r, m);
        constant = constant && v == first;
        if (r > 0) {
          monotone = monotone && v >= run.values(r - 1, m);
          grows = grows || v > run.values(r - 1, m);
        }
      }
    }
    if (constant) continue;
    keep.push_back(m);
    counter.push_back(diff && monotone && grows);
  }
  if (keep.empty()) throw DataError(root, 0, 0, "every metric is constant across the runs read");
  const std::size_t skip = diff ? 1 : 0;  // differenced series start at the second row

  // 4: samples.
  std::vector<Sample> samples;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& run = runs[i];
    const std::size_t rows = run.values.rows > skip ? run.values.rows - skip : 0;
    if (per_run) {
      if (rows < 2) throw DataError(run.files.front().path, 0, 0, "run '" + run.info.id + "' holds fewer than 2 joined seconds");
      const std::int64_t b = run.seconds[skip], e = run.seconds.back() + 1;
      samples.push_back({i, skip, run.values.rows, window_label(run.info, b, e, 1), window_type_label(run.info, b, e, 1)});
      continue;
    }
    if (static_cast<std::int64_t>(rows) < window) {
      throw DataError(run.files.front().path, 0, 0,
                      "window of " + std::to_string(window) + " s is longer than run '" + run.info.id + "' (" +
                          std::to_string(rows) + " usable seconds); lower `window` or use sample=run");
    }
    const std::int64_t need = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(min_overlap * static_cast<double>(window))));
    for (std::size_t b = skip; b + static_cast<std::size_t>(window) <= run.values.rows; b += static_cast<std::size_t>(stride)) {
      const std::size_t e = b + static_cast<std::size_t>(window);
      // Labels by time, not row count: a join gap makes a window span more seconds than rows.
      const std::int64_t tb = run.seconds[b], te = run.seconds[e - 1] + 1;
      samples.push_back({i, b, e, window_label(run.info, tb, te, need), window_type_label(run.info, tb, te, need)});
    }
  }

  // 5: features.
  const std::size_t f_per = features.size();
  Matrix x(samples.size(), keep.size() * f_per);
  std::vector<double> series;
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const Sample& smp = samples[s];
    const Matrix& v = runs[smp.run].values;
    for (std::size_t k = 0; k < keep.size(); ++k) {
      series.clear();
      for (std::size_t r = smp.begin; r < smp.end; ++r) {
        series.push_back(counter[k] ? v(r, keep[k]) - v(r - 1, keep[k]) : v(r, keep[k]));
      }
      features.compute(series.data(), series.size(), x.row(s) + k * f_per);
    }
  }
  std::vector<std::string> names;
  for (std::size_t k = 0; k < keep.size(); ++k) {
    for (const auto& f : features.names()) {
      names.push_back(runs.front().metrics[keep[k]] + (counter[k] ? ".rate." : ".") + f);
    }
  }

  // 6: chi-square selection from a few labelled samples.
  std::vector<std::size_t> columns(names.size());
  for (std::size_t j = 0; j < columns.size(); ++j) columns[j] = j;
  std::set<std::size_t> held_out;
  const std::int64_t select_k = options.get_int("select_k");
  std::string selection_note = "no feature selection";
  if (select_k > 0 && static_cast<std::size_t>(select_k) < names.size()) {
    std::map<std::string, std::vector<std::size_t>> by_type;
    for (std::size_t s = 0; s < samples.size(); ++s) by_type[samples[s].type].push_back(s);
    if (by_type.size() < 2) throw DataError(root, 0, 0, "chi-square selection needs at least two sample classes");
    std::mt19937_64 rng(static_cast<std::uint64_t>(options.get_int("selection_seed")));
    std::vector<std::size_t> chosen;
    std::vector<int> classes;
    int c = 0;
    const std::size_t per_class = static_cast<std::size_t>(options.get_int("selection_per_class"));
    for (auto& [type, members] : by_type) {
      // Partial Fisher-Yates with the portable bounded draw: the same picks with any standard library.
      for (std::size_t i = 0; i < std::min(per_class, members.size()); ++i) {
        std::swap(members[i], members[i + static_cast<std::size_t>(uniform_below(rng, members.size() - i))]);
        chosen.push_back(members[i]);
        classes.push_back(c);
      }
      ++c;
    }
    Matrix sel(chosen.size(), names.size());
    for (std::size_t j = 0; j < names.size(); ++j) {
      double lo = x(chosen[0], j), hi = lo;
      for (std::size_t s : chosen) lo = std::min(lo, x(s, j)), hi = std::max(hi, x(s, j));
      for (std::size_t i = 0; i < chosen.size(); ++i) sel(i, j) = hi > lo ? (x(chosen[i], j) - lo) / (hi - lo) : 0.0;
    }
    columns = top_k(chi2_scores(sel, classes, c), static_cast<std::size_t>(select_k));
    if (options.get_bool("selection_holdout")) held_out.insert(chosen.begin(), chosen.end());
    selection_note = "chi2 top " + std::to_string(columns.size()) + " of " + std::to_string(names.size()) + " features from " +
                     std::to_string(chosen.size()) + " labelled samples (" + std::to_string(by_type.size()) + " classes" +
                     (held_out.empty() ? "" : ", held out of the dataset") + ")";
  }

  std::vector<std::size_t> rows;
  for (std::size_t s = 0; s < samples.size(); ++s) {
    if (!held_out.count(s)) rows.push_back(s);
  }
  Table& t = ds.table;
  for (std::size_t j : columns) {
    std::vector<double> col(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) col[i] = x(rows[i], j);
    t.add_column(Column::numeric(names[j], std::move(col)));
  }
  Labels label{"anomalous", {}, {"normal", "anomalous"}};
  std::vector<std::string> type_names;
  std::map<std::string, int> type_index;
  for (const auto& s : samples) type_index.emplace(s.type, 0);
  for (auto& [name, idx] : type_index) {
    idx = static_cast<int>(type_names.size());
    type_names.push_back(name);
  }
  Labels types{"anomaly_type", {}, type_names};
  std::vector<int> groups;
  std::vector<std::string> group_names;
  for (const auto& run : runs) group_names.push_back(run.info.id);
  for (std::size_t s : rows) {
    label.values.push_back(samples[s].label);
    types.values.push_back(type_index.at(samples[s].type));
    groups.push_back(static_cast<int>(samples[s].run));
  }
  t.add_labels(std::move(label));
  t.add_labels(std::move(types));
  t.set_groups(std::move(groups), std::move(group_names));

  std::size_t anomalous = 0;
  for (const auto& v : t.label().values) anomalous += static_cast<std::size_t>(v);
  ds.description = "LDMS telemetry (" + runs.front().info.application + ", " + std::to_string(runs.size()) + " runs, " +
                   (per_run ? std::string("one sample per run") : std::to_string(window) + " s windows every " + std::to_string(stride) + " s") +
                   "): " + std::to_string(rows.size()) + " samples, " + std::to_string(anomalous) + " anomalous; " +
                   std::to_string(keep.size()) + " non-constant metrics x " + std::to_string(f_per) + " features; " +
                   selection_note + "; cut-short last rows dropped in " + std::to_string(dropped_tails) + " files";
  return ds;
}

}  // namespace

void add_telemetry_readers(Registry& registry) {
  ReaderEntry entry;
  entry.name = "ldms-hpas";
  entry.description =
      "LDMS 1 Hz node telemetry (meminfo, vmstat, procstat) with HPAS-injected anomalies (cpuoccupy, memleak, "
      "cachecopy); tsfresh-style features per run or sliding window, chi-square top-k selection; group = run";
  entry.options = {
      OptionDecl::string("root", "data:telemetry/ldms-hpas", "folder holding <App>[_A1[_A2]]/.../data/ run folders"),
      OptionDecl::choice("sample", "window", {"window", "run"}, "one sample per sliding window, or per run (the paper's unit)"),
      OptionDecl::integer("window", 60, 2, 100000, "window length in seconds (sample=window)"),
      OptionDecl::integer("stride", 30, 1, 100000, "seconds between window starts (sample=window)"),
      OptionDecl::real("min_overlap", 0.0, 0.0, 1.0,
                       "a window is anomalous when it overlaps an anomaly window by at least max(1, ceil(min_overlap * "
                       "window)) seconds; 0 = any overlap"),
      OptionDecl::choice("counters", "diff", {"diff", "raw"},
                         "diff: metrics that never decrease within a run (and grow somewhere) become per-second rates"),
      OptionDecl::choice("truncated_tail", "drop", {"drop", "error"},
                         "a file's last record cut short (fewer fields than the header): drop it, or fail"),
      OptionDecl::list("features", [] {
        std::string all;
        for (const auto& f : TsFeatureSet::available()) all += (all.empty() ? "" : ";") + f;
        return all;
      }(), "time-series features per metric and sample (see ts_features.h)"),
      OptionDecl::list("quantiles", "0.1;0.25;0.75;0.9", "quantiles for the quantile feature"),
      OptionDecl::list("lags", "1;2;5;10", "lags for the autocorrelation feature"),
      OptionDecl::list("peak_supports", "1;3", "supports for the number_peaks feature"),
      OptionDecl::integer("select_k", 2000, 0, 1000000, "chi-square top-k features; 0 = keep every feature"),
      OptionDecl::integer("selection_per_class", 1, 1, 1000, "labelled samples per anomaly-type class for chi2"),
      OptionDecl::integer("selection_seed", 0, 0, 1e15, "seed of the draw of the labelled selection samples"),
      OptionDecl::boolean("selection_holdout", true, "remove the labelled selection samples from the dataset"),
      OptionDecl::integer("max_runs", 0, 0, 100000, "first N run folders in sorted order; 0 = all (tests)"),
  };
  entry.read = read_ldms_hpas;
  registry.add(std::move(entry));
}

}  // namespace opsbench
