// Resampling specs and random hyper-parameter search: see search.h.
#include "opsbench/harness/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <set>

#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/datasets/split.h"
#include "search_toml.h"
#include "toml_text.h"

namespace opsbench {

const char* const kResampleBeforeSplitWarning =
    "resampled BEFORE the split (the thesis protocol): synthetic neighbours of test rows leak into "
    "training, so test metrics are optimistic; compare with protocol = \"train-only\"";

namespace {

// Candidate grid index -> option values (mixed radix over the space, first option slowest).
std::vector<std::pair<std::string, std::string>> candidate(const SearchSpec& spec, std::uint64_t index) {
  std::vector<std::pair<std::string, std::string>> out(spec.space.size());
  for (std::size_t i = spec.space.size(); i-- > 0;) {
    const auto& [key, values] = spec.space[i];
    out[i] = {key, values[index % values.size()]};
    index /= values.size();
  }
  return out;
}

ResolvedMethod with_options(const ResolvedMethod& base, const std::vector<std::pair<std::string, std::string>>& changes) {
  std::vector<std::pair<std::string, std::string>> values(base.options.values().begin(), base.options.values().end());
  for (const auto& [k, v] : changes) {
    auto it = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first == k; });
    if (it == values.end()) {
      values.emplace_back(k, v);
    } else {
      it->second = v;
    }
  }
  ResolvedMethod out;
  out.entry = base.entry;
  out.options = resolve(base.entry->options, values, "method " + base.entry->name);
  out.canonical_spec = canonical(base.entry->name, out.options);
  return out;
}

}  // namespace

ResampleSpec parse_resample_table(const toml::table& table, const std::string& origin) {
  ResampleSpec spec;
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    const std::string where = toml_place(origin, node.source()) + ": resample." + k;
    if (k == "method") {
      spec.method = toml_value_text(node, where, false);
      if (!std::set<std::string>{"none", "smote", "tomek", "smote-tomek"}.count(spec.method))
        throw ConfigError(where + ": '" + spec.method + "' is not valid; valid: none, smote, tomek, smote-tomek");
    } else if (k == "protocol") {
      spec.protocol = toml_value_text(node, where, false);
      if (spec.protocol != "train-only" && spec.protocol != "before-split")
        throw ConfigError(where + ": '" + spec.protocol + "' is not valid; valid: train-only, before-split");
    } else if (k == "k_neighbors") {
      const auto v = node.value_exact<std::int64_t>();
      if (!v || *v < 1 || *v > 1000) throw ConfigError(where + ": expected an integer in [1, 1000]");
      spec.k_neighbors = static_cast<int>(*v);
    } else {
      throw ConfigError(where + ": unknown key; valid keys here: method, protocol, k_neighbors");
    }
  }
  return spec;
}

std::vector<SearchSpec> parse_search_table(const toml::table& table, const std::string& origin) {
  std::vector<SearchSpec> out;
  for (const auto& [name, node] : table) {
    const std::string method(name.str());
    const toml::table* sub = node.as_table();
    if (!sub) throw ConfigError(toml_place(origin, node.source()) + ": search." + method + ": expected a table");
    SearchSpec spec;
    spec.method = method;
    for (const auto& [key, value] : *sub) {
      const std::string k(key.str());
      const std::string where = toml_place(origin, value.source()) + ": search." + method + "." + k;
      if (k == "n_iter" || k == "folds") {
        const auto v = value.value_exact<std::int64_t>();
        if (!v) throw ConfigError(where + ": expected an integer");
        (k == "n_iter" ? spec.n_iter : spec.folds) = static_cast<int>(*v);
      } else if (k == "metric") {
        spec.metric = toml_value_text(value, where, false);
      } else if (const toml::array* arr = value.as_array()) {
        std::vector<std::string> values;
        for (const auto& item : *arr) values.push_back(toml_value_text(item, where, false));
        if (values.empty()) throw ConfigError(where + ": the list of values is empty");
        spec.space.emplace_back(k, std::move(values));
      } else {
        throw ConfigError(where + ": expected a list of candidate values (or n_iter, folds, metric)");
      }
    }
    if (spec.n_iter < 1) throw ConfigError(origin + ": search." + method + ".n_iter must be >= 1");
    if (spec.folds < 2) throw ConfigError(origin + ": search." + method + ".folds must be >= 2");
    if (spec.space.empty()) throw ConfigError(origin + ": search." + method + " lists no option to search");
    out.push_back(std::move(spec));
  }
  return out;
}

void validate_search(const SearchSpec& spec, const Registry& registry, const std::string& where) {
  const MethodEntry& entry = registry.method(spec.method);
  if (entry.kind != MethodKind::kClassifier)
    throw ConfigError(where + ": search." + spec.method + ": random search applies to classifiers only");
  ResolvedMethod base;
  base.entry = &entry;
  base.options = resolve(entry.options, {}, "method " + entry.name);
  for (const auto& [key, values] : spec.space) {
    for (const auto& v : values) {
      try {
        with_options(base, {{key, v}});
      } catch (const ConfigError& e) {
        throw ConfigError(where + ": search." + spec.method + "." + key + ": " + e.what());
      }
    }
  }
}

ResolvedMethod random_search(const ResolvedMethod& base, const SearchSpec& spec, const Table& train,
                             const std::vector<const MetricEntry*>& metrics, const Context& ctx, RunRecord& record) {
  const auto start = std::chrono::steady_clock::now();
  const Labels& labels = train.label();
  const int k = labels.num_classes();
  std::string metric_name = spec.metric;
  if (metric_name.empty()) metric_name = k > 2 ? "roc_auc_ovr_macro" : "roc_auc";
  const MetricEntry* metric = nullptr;
  for (const MetricEntry* m : metrics)
    if (m->name == metric_name) metric = m;
  if (!metric && spec.metric.empty() && !metrics.empty()) metric = metrics.front();
  if (!metric) throw ConfigError("search." + spec.method + ": metric '" + metric_name + "' is not among the suite's metrics");

  // Draw n_iter distinct grid indices (partial Fisher-Yates over a virtual array when the grid is
  // small, rejection otherwise).
  std::uint64_t grid = 1;
  for (const auto& [key, values] : spec.space) grid = grid > (UINT64_MAX / values.size()) ? UINT64_MAX : grid * values.size();
  std::mt19937_64 rng = ctx.rng(0x5ea4c4ULL);
  std::vector<std::uint64_t> picks;
  const auto n = static_cast<std::uint64_t>(spec.n_iter);
  if (grid <= 1000000) {
    std::vector<std::uint64_t> all(grid);
    for (std::uint64_t i = 0; i < grid; ++i) all[i] = i;
    for (std::uint64_t i = 0; i < std::min(n, grid); ++i) {
      std::swap(all[i], all[i + uniform_below(rng, grid - i)]);
      picks.push_back(all[i]);
    }
  } else {
    std::set<std::uint64_t> seen;
    while (picks.size() < n) {
      const std::uint64_t v = uniform_below(rng, grid);
      if (seen.insert(v).second) picks.push_back(v);
    }
  }

  const auto folds = k_fold(train, SplitKind::kStratified, spec.folds, ctx.seed ^ 0xf01dULL);
  ResolvedMethod best = base;
  double best_score = -INFINITY;
  std::size_t failed = 0;
  std::string last_error;
  for (std::uint64_t index : picks) {
    const ResolvedMethod cand = with_options(base, candidate(spec, index));
    double sum = 0;
    try {
      for (std::size_t f = 0; f < folds.size(); ++f) {
        std::vector<std::uint8_t> held(train.num_rows(), 0);
        for (std::size_t r : folds[f]) held[r] = 1;
        std::vector<std::size_t> fit_rows;
        for (std::size_t r = 0; r < train.num_rows(); ++r)
          if (!held[r]) fit_rows.push_back(r);
        const Table fit_part = train.take(fit_rows);
        const Table val_part = train.take(folds[f]);
        auto model = cand.entry->make_classifier(cand.options);
        model->fit(fit_part, fit_part.label().values, k, ctx);
        MetricInput in;
        in.y_true = val_part.label().values;
        in.num_classes = k;
        in.proba = model->predict_proba(val_part, ctx);
        in.y_pred.resize(in.proba.rows);
        for (std::size_t r = 0; r < in.proba.rows; ++r) {
          const double* row = in.proba.row(r);
          in.y_pred[r] = static_cast<int>(std::max_element(row, row + in.proba.cols) - row);
        }
        if (k == 2) {
          in.scores.resize(in.proba.rows);
          for (std::size_t r = 0; r < in.proba.rows; ++r) in.scores[r] = in.proba(r, 1);
        }
        const double score = metric->compute(in);
        sum += metric->higher_is_better ? score : -score;
      }
    } catch (const Error& e) {
      ++failed;
      last_error = e.what();
      continue;
    }
    const double mean = sum / static_cast<double>(folds.size());
    if (mean > best_score) {
      best_score = mean;
      best = cand;
    }
  }
  if (!std::isfinite(best_score))
    throw ModelError("search." + spec.method + ": every candidate failed; last error: " + last_error);
  record.info["search.best"] = best.canonical_spec;
  record.info["search.cv_score"] = format_double(metric->higher_is_better ? best_score : -best_score);
  record.info["search.metric"] = metric->name;
  record.info["search.candidates"] = std::to_string(picks.size()) + " of " + std::to_string(grid) + ", " +
                                     std::to_string(spec.folds) + " stratified folds" +
                                     (failed ? ", " + std::to_string(failed) + " failed" : "");
  Figure wall;
  wall.name = "search.wall";
  wall.value = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  wall.unit = "s";
  wall.source = "steady_clock";
  record.figures.push_back(wall);
  return best;
}

}  // namespace opsbench
