#include "opsbench/harness/suite.h"

#include <toml++/toml.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/core/threshold.h"
#include "search_toml.h"
#include "shared_tables.h"
#include "toml_keys.h"
#include "toml_text.h"

namespace opsbench {
namespace {

void read_published(TomlKeys& top, Suite& suite) {
  const toml::array* arr = top.array("published");
  if (!arr) return;
  for (const auto& node : *arr) {
    const toml::table* t = node.as_table();
    if (!t) throw ConfigError(toml_place(top.origin(), node.source()) + ": published: expected a table");
    TomlKeys r(*t, top.origin(), "published");
    PublishedValue p;
    p.dataset = r.str("dataset", "");
    p.method = r.str("method", "");
    p.metric = r.str("metric", "");
    if (!r.has("value")) throw r.error("value", "missing");
    p.value = r.number("value", 0);
    p.tolerance = r.number("tolerance", 0.02);
    p.source = r.str("source", "");
    p.note = r.str("note", "");
    if (p.dataset.empty() || p.method.empty() || p.metric.empty() || p.source.empty()) {
      throw ConfigError(toml_place(top.origin(), node.source()) +
                        ": published: dataset, method, metric, value and source are required");
    }
    r.finish();
    suite.published.push_back(std::move(p));
  }
}

}  // namespace

const char* to_string(Task task) { return task == Task::kDetect ? "detect" : "classify"; }

Task parse_task(const std::string& text) {
  if (text == "detect") return Task::kDetect;
  if (text == "classify") return Task::kClassify;
  throw ConfigError("unknown task '" + text + "'; valid: detect, classify");
}

Suite parse_suite(const std::string& toml_text, const std::string& origin, const Registry& registry) {
  const toml::table root = parse_toml_file_text(toml_text, origin);
  Suite suite;
  suite.path = origin;
  TomlKeys top(root, origin, "");
  suite.name = read_file_name(top);
  suite.description = top.str("description", "");
  try {
    suite.task = parse_task(top.str("task", "detect"));
  } catch (const ConfigError& e) {
    throw top.error("task", e.what());
  }
  suite.repetitions = static_cast<int>(top.integer("repetitions", 3));
  if (suite.repetitions < 1 || suite.repetitions > 1000) throw top.error("repetitions", "must be in [1, 1000]");
  const std::int64_t seed = top.integer("seed", 0);
  if (seed < 0) throw top.error("seed", "must be >= 0");
  suite.seed = static_cast<std::uint64_t>(seed);
  suite.methods = top.strings("methods");
  if (suite.methods.empty()) throw top.error("methods", "a suite needs at least one method spec");
  suite.metrics = top.strings("metrics");
  if (suite.metrics.empty()) throw top.error("metrics", "a suite needs at least one metric");
  suite.primary_metric = top.str("primary_metric", suite.metrics.front());

  const SharedTableRules rules;  // a suite: train_contamination allowed
  read_split_table(top, suite.split, rules);
  read_preprocess_table(top, suite.preprocess);
  if (const toml::table* t = top.subtable("threshold")) {
    TomlKeys r(*t, origin, "threshold");
    suite.threshold.policy = r.str("policy", suite.threshold.policy);
    suite.threshold.value = r.number("value", suite.threshold.value);
    r.finish();
    try {
      ThresholdPolicy::parse(suite.threshold.policy, suite.threshold.value);
    } catch (const ConfigError& e) {
      throw r.error("policy", e.what());
    }
  }
  if (const toml::table* t = top.subtable("measure")) {
    TomlKeys r(*t, origin, "measure");
    auto& m = suite.measure;
    m.latency = r.boolean("latency", m.latency);
    if (const toml::array* sizes = r.array("latency_batch_sizes")) {
      m.latency_options.batch_sizes.clear();
      for (const auto& item : *sizes) {
        const auto v = item.value_exact<std::int64_t>();
        if (!v || *v < 1) throw r.error("latency_batch_sizes", "expected positive integers");
        m.latency_options.batch_sizes.push_back(static_cast<std::size_t>(*v));
      }
    }
    m.latency_options.warmup = static_cast<int>(r.integer("latency_warmup", m.latency_options.warmup));
    m.latency_options.repeats = static_cast<int>(r.integer("latency_repeats", m.latency_options.repeats));
    if (m.latency_options.warmup < 0) throw r.error("latency_warmup", "must be >= 0");
    if (m.latency_options.repeats < 1) throw r.error("latency_repeats", "must be >= 1");
    m.energy = r.boolean("energy", m.energy);
    m.idle_seconds = r.number("idle_seconds", m.idle_seconds);
    if (m.idle_seconds < 0) throw r.error("idle_seconds", "must be >= 0");
    r.finish();
  }
  if (const toml::table* t = top.subtable("resample")) suite.resample = parse_resample_table(*t, origin);
  if (const toml::table* t = top.subtable("search")) suite.search = parse_search_table(*t, origin);
  suite.datasets = read_dataset_tables(top, rules);
  read_published(top, suite);
  top.finish();
  validate_suite(suite, registry);
  for (const auto& s : suite.search) validate_search(s, registry, origin);
  return suite;
}

Suite load_suite(const std::string& path, const Registry& registry) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open suite file");
  std::ostringstream text;
  text << in.rdbuf();
  Suite suite = parse_suite(text.str(), path, registry);
  suite.base_dir = std::filesystem::absolute(path).parent_path().string();
  return suite;
}

void validate_suite(const Suite& suite, const Registry& registry) {
  const std::string where = suite.path.empty() ? std::string("suite") : suite.path;
  auto wrap = [&](const std::string& what, auto&& check) {
    try {
      check();
    } catch (const ConfigError& e) {
      throw ConfigError(where + ": " + what + ": " + e.what());
    }
  };
  for (const auto& d : suite.datasets) {
    wrap("dataset '" + d.name + "'", [&] {
      const ReaderEntry& reader = registry.reader(d.reader);
      resolve(reader.options, d.options, "reader " + d.reader);
    });
  }
  std::set<std::string> canonical_specs;
  for (const auto& m : suite.methods) {
    wrap("methods", [&] {
      const ResolvedMethod rm = registry.resolve_method(m);
      // Detectors may join a classify suite (scored and thresholded as in detection, class 1 =
      // anomalous), so that supervised methods meet the unsupervised baselines on the same split.
      if (suite.task == Task::kDetect && rm.entry->kind != MethodKind::kDetector) {
        throw ConfigError("method '" + rm.entry->name + "' is a " + to_string(rm.entry->kind) +
                          " but the suite's task is '" + to_string(suite.task) + "'");
      }
      if (!canonical_specs.insert(rm.canonical_spec).second) {
        throw ConfigError("'" + m + "' names the same configuration as an earlier entry (" + rm.canonical_spec + ")");
      }
    });
  }
  for (const auto& m : suite.metrics) wrap("metrics", [&] { registry.metric(m); });
  wrap("primary_metric", [&] { registry.metric(suite.primary_metric); });
  for (const auto& p : suite.published) wrap("published", [&] { registry.metric(p.metric); });
  const auto& r = suite.split.ratios;
  if (r.train <= 0 || r.test <= 0 || r.validation < 0 || std::abs(r.train + r.validation + r.test - 1.0) > 1e-9) {
    throw ConfigError(where + ": split: train and test must be > 0, validation >= 0, and the three sum to 1 (got " +
                      format_double(r.train) + " + " + format_double(r.validation) + " + " + format_double(r.test) +
                      ")");
  }
  if (suite.split.train_contamination >= 1.0) {
    throw ConfigError(where + ": split.train_contamination must be in [0, 1)");
  }
}

std::string Suite::to_json() const {
  nlohmann::json j;
  j["name"] = name;
  j["description"] = description;
  j["path"] = path;
  j["task"] = to_string(task);
  j["repetitions"] = repetitions;
  j["seed"] = std::to_string(seed);
  j["methods"] = methods;
  j["metrics"] = metrics;
  j["primary_metric"] = primary_metric;
  for (const auto& d : datasets) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, v] : d.options) o[k] = v;
    j["datasets"].push_back(
        {{"name", d.name}, {"reader", d.reader}, {"options", o}, {"train_contamination", d.train_contamination}});
  }
  j["split"] = {{"kind", to_string(split.kind)},
                {"train", split.ratios.train},
                {"validation", split.ratios.validation},
                {"test", split.ratios.test},
                {"train_contamination", split.train_contamination}};
  j["preprocess"] = {{"impute", preprocess.impute},
                     {"encode", preprocess.encode},
                     {"scale", preprocess.scale},
                     {"weight", preprocess.weight}};
  // Written only when not the default, so that existing suites keep their identity.
  if (preprocess.text != "drop") j["preprocess"]["text"] = preprocess.text;
  j["threshold"] = {{"policy", threshold.policy}, {"value", threshold.value}};
  j["resample"] = {{"method", resample.method}, {"protocol", resample.protocol}, {"k_neighbors", resample.k_neighbors}};
  for (const auto& s : search) {
    nlohmann::json space = nlohmann::json::object();
    for (const auto& [k, v] : s.space) space[k] = v;
    j["search"][s.method] = {{"space", space}, {"n_iter", s.n_iter}, {"folds", s.folds}, {"metric", s.metric}};
  }
  j["measure"] = {{"latency", measure.latency},
                  {"latency_batch_sizes", measure.latency_options.batch_sizes},
                  {"latency_warmup", measure.latency_options.warmup},
                  {"latency_repeats", measure.latency_options.repeats},
                  {"energy", measure.energy},
                  {"idle_seconds", measure.idle_seconds}};
  j["published"] = nlohmann::json::array();
  for (const auto& p : published) {
    j["published"].push_back({{"dataset", p.dataset},
                              {"method", p.method},
                              {"metric", p.metric},
                              {"value", p.value},
                              {"tolerance", p.tolerance},
                              {"source", p.source},
                              {"note", p.note}});
  }
  return j.dump(2);
}

Suite suite_from_json(const std::string& json_text) {
  const nlohmann::json j = nlohmann::json::parse(json_text);
  Suite s;
  s.name = j.value("name", "");
  s.description = j.value("description", "");
  s.path = j.value("path", "");
  s.task = parse_task(j.value("task", "detect"));
  s.repetitions = j.value("repetitions", 1);
  s.seed = std::stoull(j.value("seed", std::string("0")));
  s.methods = j.value("methods", std::vector<std::string>{});
  s.metrics = j.value("metrics", std::vector<std::string>{});
  s.primary_metric = j.value("primary_metric", s.metrics.empty() ? std::string() : s.metrics.front());
  if (j.contains("datasets")) {
    for (const auto& d : j["datasets"]) {
      DatasetSpec ds;
      ds.name = d.value("name", "");
      ds.reader = d.value("reader", "");
      ds.train_contamination = d.value("train_contamination", -1.0);
      const nlohmann::json options = d.value("options", nlohmann::json::object());
      for (const auto& [k, v] : options.items()) ds.options.emplace_back(k, v.get<std::string>());
      s.datasets.push_back(ds);
    }
  }
  if (j.contains("threshold")) {
    s.threshold.policy = j["threshold"].value("policy", s.threshold.policy);
    s.threshold.value = j["threshold"].value("value", s.threshold.value);
  }
  for (const auto& p : j.value("published", nlohmann::json::array())) {
    PublishedValue v;
    v.dataset = p.value("dataset", "");
    v.method = p.value("method", "");
    v.metric = p.value("metric", "");
    v.value = p.value("value", 0.0);
    v.tolerance = p.value("tolerance", 0.0);
    v.source = p.value("source", "");
    v.note = p.value("note", "");
    s.published.push_back(v);
  }
  return s;
}

}  // namespace opsbench
