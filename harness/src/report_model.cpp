#include "opsbench/harness/report_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "opsbench/core/error.h"
#include "opsbench/harness/export.h"

namespace opsbench {

namespace {

// Preferred primary metrics when the suite names none: the headline numbers of the papers followed.
const char* const kPrimaryPreference[] = {"f1", "roc_auc", "average_precision", "accuracy"};

template <typename T, typename Key>
T* find_by(std::vector<T>& items, const Key& key, std::string T::*member) {
  for (T& item : items) {
    if (item.*member == key) return &item;
  }
  return nullptr;
}

std::string choose_primary(const std::string& requested, const std::vector<std::string>& names) {
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  if (!requested.empty() && has(requested)) return requested;
  for (const char* candidate : kPrimaryPreference) {
    if (has(candidate)) return candidate;
  }
  return names.empty() ? std::string() : names.front();
}

bool info_true(const RunRecord& r, const char* key) {
  auto it = r.info.find(key);
  return it != r.info.end() && (it->second == "true" || it->second == "1");
}

struct FigureValues {
  std::vector<double> values;
  std::string unit;
  std::string source;
  std::string reason;
};

MethodSummary summarise_method(const std::string& method, const std::vector<const RunRecord*>& cells,
                               double level, std::vector<std::string>& metric_order) {
  MethodSummary m;
  m.method = method;
  std::map<std::string, std::vector<double>> metric_values;
  std::vector<std::string> figure_order;
  std::map<std::string, FigureValues> figure_values;
  for (const RunRecord* r : cells) {
    if (m.method_name.empty()) m.method_name = r->method_name;
    if (r->status != CellStatus::kOk) {
      ++m.n_failed;
      continue;
    }
    ++m.n_ok;
    for (const auto& [name, value] : r->metrics) {
      if (!std::isfinite(value)) continue;  // a stored NaN is "not measured", never averaged in
      if (std::find(metric_order.begin(), metric_order.end(), name) == metric_order.end()) {
        metric_order.push_back(name);
      }
      metric_values[name].push_back(value);
    }
    for (const Figure& f : r->figures) {
      auto [it, inserted] = figure_values.try_emplace(f.name);
      if (inserted) figure_order.push_back(f.name);
      FigureValues& fv = it->second;
      if (f.available && std::isfinite(f.value)) {
        fv.values.push_back(f.value);
        if (fv.unit.empty()) fv.unit = f.unit;
        if (fv.source.empty()) fv.source = f.source;
      } else if (fv.reason.empty()) {
        fv.reason = f.reason.empty() ? "not measured" : f.reason;
        if (fv.unit.empty()) fv.unit = f.unit;
      }
    }
  }
  for (const auto& [name, values] : metric_values) m.metrics.push_back({name, mean_ci(values, level)});
  for (const std::string& name : figure_order) {
    const FigureValues& fv = figure_values[name];
    FigureSummary s;
    s.name = name;
    s.unit = fv.unit;
    s.n = fv.values.size();
    s.available = !fv.values.empty();
    if (s.available) {
      s.median = median(fv.values);
      s.source = fv.source;
    } else {
      s.reason = fv.reason;
    }
    m.figures.push_back(std::move(s));
  }
  return m;
}

void add_replication(DatasetSummary& ds, const std::vector<PublishedValue>& published) {
  for (const PublishedValue& p : published) {
    if (p.dataset != ds.name) continue;
    bool matched = false;
    for (const MethodSummary& m : ds.methods) {
      if (!published_method_matches(p.method, m.method_name, m.method)) continue;
      const MetricSummary* ours = m.metric(p.metric);
      if (ours == nullptr || ours->stats.n == 0) continue;
      matched = true;
      ReplicationRow row;
      row.published = p;
      row.method = m.method;
      row.ours = ours->stats;
      row.delta = ours->stats.mean - p.value;
      // A tiny slack so that a delta printed as equal to the tolerance is not called "differs"
      // because of binary rounding (0.83 - 0.81 > 0.02 in doubles).
      row.verdict = std::fabs(row.delta) <= p.tolerance + 1e-12 ? "reproduced" : "differs";
      ds.replication.push_back(std::move(row));
    }
    if (!matched) {
      ReplicationRow row;
      row.published = p;
      row.verdict = "not run";
      ds.replication.push_back(std::move(row));
    }
  }
}

}  // namespace

const MetricSummary* MethodSummary::metric(const std::string& name) const {
  for (const MetricSummary& m : metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const FigureSummary* MethodSummary::figure(const std::string& name) const {
  for (const FigureSummary& f : figures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool published_method_matches(const std::string& published_method, const std::string& method_name,
                              const std::string& canonical_spec) {
  if (published_method.empty()) return false;
  if (published_method == method_name || published_method == canonical_spec) return true;
  return canonical_spec.compare(0, published_method.size(), published_method) == 0;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

ReportModel build_report_model(const ReportInput& input) {
  ReportModel model;
  model.suite = input.suite;
  model.title = input.title.empty() ? "opsbench report: " + input.suite : input.title;
  model.description = input.description;
  model.ci_level = input.ci_level;
  model.environment = input.environment;
  model.data_files = input.data_files;

  // Datasets: the suite's order first, then any others in order of appearance.
  for (const DatasetNote& note : input.datasets) {
    if (find_by(model.datasets, note.name, &DatasetSummary::name) != nullptr) continue;
    DatasetSummary ds;
    ds.name = note.name;
    ds.description = note.description;
    ds.synthetic = note.synthetic;
    model.datasets.push_back(std::move(ds));
  }
  for (const RunRecord& r : input.records) {
    DatasetSummary* ds = find_by(model.datasets, r.dataset, &DatasetSummary::name);
    if (ds == nullptr) {
      model.datasets.push_back(DatasetSummary{});
      ds = &model.datasets.back();
      ds->name = r.dataset;
    }
    if (info_true(r, "dataset.synthetic")) ds->synthetic = true;
    if (ds->description.empty()) {
      if (auto it = r.info.find("dataset.description"); it != r.info.end()) ds->description = it->second;
    }
  }

  bool any_energy_available = false;
  std::vector<std::string> energy_reasons;
  for (DatasetSummary& ds : model.datasets) {
    std::vector<std::string> method_order;
    std::map<std::string, std::vector<const RunRecord*>> by_method;
    for (const std::string& m : input.methods) {
      for (const RunRecord& r : input.records) {
        if (r.dataset == ds.name && r.method == m) {
          method_order.push_back(m);
          break;
        }
      }
    }
    for (const RunRecord& r : input.records) {
      if (r.dataset != ds.name) continue;
      if (std::find(method_order.begin(), method_order.end(), r.method) == method_order.end()) {
        method_order.push_back(r.method);
      }
      by_method[r.method].push_back(&r);
      ++model.n_cells;
      if (r.status != CellStatus::kOk) {
        ++model.n_failed;
        ds.failed.push_back({r.method, r.repetition, r.seed, r.error});
        continue;
      }
      for (const Figure& f : r.figures) {
        if (f.name.rfind("energy.", 0) != 0 && f.name != "energy") continue;
        if (f.available) {
          any_energy_available = true;
        } else if (!f.reason.empty() &&
                   std::find(energy_reasons.begin(), energy_reasons.end(), f.reason) == energy_reasons.end()) {
          energy_reasons.push_back(f.reason);
        }
      }
    }
    std::vector<std::string> metric_order;
    for (const std::string& m : method_order) {
      ds.methods.push_back(summarise_method(m, by_method[m], input.ci_level, metric_order));
    }
    ds.primary_metric = choose_primary(input.primary_metric, metric_order);
    std::sort(metric_order.begin(), metric_order.end());
    if (!ds.primary_metric.empty()) {
      metric_order.erase(std::find(metric_order.begin(), metric_order.end(), ds.primary_metric));
      metric_order.insert(metric_order.begin(), ds.primary_metric);
    }
    ds.metric_names = metric_order;
    for (MethodSummary& m : ds.methods) {
      std::vector<MetricSummary> ordered;
      for (const std::string& name : ds.metric_names) {
        if (const MetricSummary* s = m.metric(name)) ordered.push_back(*s);
      }
      m.metrics = std::move(ordered);
    }
    add_replication(ds, input.published);
  }

  model.energy_available = any_energy_available;
  for (const std::string& reason : energy_reasons) {
    model.energy_reason += (model.energy_reason.empty() ? "" : "; ") + reason;
  }

  model.warnings = input.environment.warnings;
  model.warnings.insert(model.warnings.end(), input.extra_warnings.begin(), input.extra_warnings.end());
  // Cells may carry a warning of their own (info "warning": e.g. a protocol that leaks test rows
  // into training); each distinct one is shown once, with where it came from.
  std::set<std::string> cell_warnings;
  for (const RunRecord& r : input.records) {
    const auto it = r.info.find("warning");
    if (it == r.info.end()) continue;
    const std::string text = "dataset '" + r.dataset + "', " + r.method_name + ": " + it->second;
    if (cell_warnings.insert(text).second) model.warnings.push_back(text);
  }
  for (const DatasetSummary& ds : model.datasets) {
    if (ds.synthetic) {
      model.warnings.push_back("dataset '" + ds.name + "' is synthetic (generated look-alike data): its "
                               "numbers show that the pipeline works, not how methods do on real data");
    }
  }
  if (!model.energy_available && model.n_cells > model.n_failed) {
    model.warnings.push_back("energy was not measured on this machine" +
                             (model.energy_reason.empty() ? std::string() : ": " + model.energy_reason));
  }
  if (model.n_failed > 0) {
    model.warnings.push_back(std::to_string(model.n_failed) + " of " + std::to_string(model.n_cells) +
                             " cells failed; their messages are listed under each dataset");
  }
  return model;
}

namespace {

// Reads the few keys a report needs from a suite definition (Suite::to_json()). Lenient on purpose:
// a report of old results must render even when the definition format has grown or is damaged.
void read_suite_definition(const std::string& text, ReportInput& input) {
  using nlohmann::json;
  if (text.empty() || !json::accept(text)) return;
  const json j = json::parse(text);
  if (!j.is_object()) return;
  auto str = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  input.description = str(j, "description");
  input.primary_metric = str(j, "primary_metric");
  if (auto it = j.find("datasets"); it != j.end() && it->is_array()) {
    for (const json& d : *it) {
      if (!d.is_object()) continue;
      DatasetNote note;
      note.name = str(d, "name");
      note.description = str(d, "description");
      if (auto s = d.find("synthetic"); s != d.end() && s->is_boolean()) note.synthetic = s->get<bool>();
      if (!note.name.empty()) input.datasets.push_back(note);
    }
  }
  if (auto it = j.find("published"); it != j.end() && it->is_array()) {
    for (const json& p : *it) {
      if (!p.is_object()) continue;
      PublishedValue v;
      v.dataset = str(p, "dataset");
      v.method = str(p, "method");
      v.metric = str(p, "metric");
      v.value = num(p, "value");
      v.tolerance = num(p, "tolerance");
      v.source = str(p, "source");
      v.note = str(p, "note");
      input.published.push_back(v);
    }
  }
}

// Facts that legitimately differ between the runs of one suite (resumed runs).
bool volatile_fact(const std::string& key) {
  for (const char* word : {"time", "date", "command", "started", "pid", "host"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

ReportInput report_input_from(const ResultsSnapshot& results, const std::string& suite_name) {
  std::string suite = suite_name;
  if (suite.empty()) {
    std::set<std::string> suites;
    for (const StoredCell& c : results.cells) suites.insert(c.record.suite);
    for (const StoredRun& r : results.runs) suites.insert(r.suite);
    if (suites.size() != 1) {
      std::string names;
      for (const std::string& s : suites) names += (names.empty() ? "" : ", ") + s;
      throw ConfigError(suites.empty() ? "the results hold no suite"
                                       : "the results hold several suites (" + names + "); name one");
    }
    suite = *suites.begin();
  }
  ReportInput input;
  input.suite = suite;
  std::set<std::int64_t> cell_runs;
  for (const StoredCell& c : results.cells) {
    if (c.record.suite != suite) continue;
    input.records.push_back(c.record);
    cell_runs.insert(c.run_id);
  }
  const StoredRun* latest = nullptr;
  for (const StoredRun& r : results.runs) {
    if (r.suite == suite && (latest == nullptr || r.run_id > latest->run_id)) latest = &r;
  }
  if (latest == nullptr) return input;
  std::set<std::string> seen_files;
  for (const StoredRun& r : results.runs) {
    if (cell_runs.count(r.run_id) == 0 && r.run_id != latest->run_id) continue;
    for (const DataFile& f : r.files) {
      if (seen_files.insert(f.path + "|" + f.sha256).second) input.data_files.push_back(f);
    }
  }
  input.environment = latest->environment;
  read_suite_definition(latest->suite_json, input);
  std::vector<std::string> differing;
  for (const StoredRun& r : results.runs) {
    if (r.run_id == latest->run_id || cell_runs.count(r.run_id) == 0) continue;
    for (const auto& [key, value] : latest->environment.facts) {
      if (volatile_fact(key)) continue;
      const std::string* other = r.environment.find(key);
      if (other != nullptr && *other != value &&
          std::find(differing.begin(), differing.end(), key) == differing.end()) {
        differing.push_back(key);
      }
    }
  }
  if (!differing.empty()) {
    std::string keys;
    for (const std::string& k : differing) keys += (keys.empty() ? "" : ", ") + k;
    input.extra_warnings.push_back("cells come from runs whose environments differ in: " + keys +
                                   "; the environment shown is the latest run's");
  }
  return input;
}

}  // namespace opsbench
