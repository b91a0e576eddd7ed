// Analysis files (analysis.h): strict TOML reading, in the manner of suite files (suite.cpp).
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/harness/analysis.h"
#include "shared_tables.h"
#include "toml_keys.h"
#include "toml_text.h"

namespace opsbench {
namespace {

SharedTableRules analysis_rules() {
  SharedTableRules rules;
  rules.file_kind = "an analysis file";
  rules.reader_example = "flowbench-text";
  rules.train_contamination = false;
  return rules;
}

void read_split_and_preprocess(TomlKeys& top, AnalysisFile& file) {
  read_split_table(top, file.split, analysis_rules());
  const auto& q = file.split.ratios;
  if (q.train <= 0 || q.test <= 0 || q.validation < 0 || std::abs(q.train + q.validation + q.test - 1.0) > 1e-9) {
    throw top.error("split", "train and test must be > 0, validation >= 0, and the three sum to 1");
  }
  file.preprocess.text = "keep";
  read_preprocess_table(top, file.preprocess);
}

// [[datasets]], each reader's options resolved now so that a typo fails before anything runs.
void read_datasets(TomlKeys& top, AnalysisFile& file, const Registry& registry) {
  file.datasets = read_dataset_tables(top, analysis_rules());
  const toml::array* arr = top.array("datasets");
  for (std::size_t i = 0; i < file.datasets.size(); ++i) {
    const DatasetSpec& d = file.datasets[i];
    try {
      resolve(registry.reader(d.reader).options, d.options, "reader " + d.reader);
    } catch (const ConfigError& e) {
      throw ConfigError(toml_place(top.origin(), (*arr)[i].source()) + ": dataset '" + d.name + "': " + e.what());
    }
  }
}

// A classifier spec, resolved now so that a typo fails before anything runs.
void check_classifier(TomlKeys& r, const std::string& key, const std::string& spec, const Registry& registry) {
  if (spec.empty()) throw r.error(key, "missing (a classifier spec string, e.g. \"bert-full:epochs=2\")");
  try {
    const ResolvedMethod m = registry.resolve_method(spec);
    if (m.entry->kind != MethodKind::kClassifier)
      throw ConfigError("'" + m.entry->name + "' is a " + to_string(m.entry->kind) + "; analyses need a classifier");
  } catch (const ConfigError& e) {
    throw r.error(key, e.what());
  }
}

AnalysisSpec read_analysis(const toml::table& t, const AnalysisFile& file, const Registry& registry,
                           const std::string& origin) {
  TomlKeys r(t, origin, "analyses");
  AnalysisSpec a;
  const std::string kind = r.str("kind", "");
  if (kind.empty()) throw r.error("kind", "missing (online, debias, transfer or forgetting)");
  try {
    a.kind = parse_analysis_kind(kind);
  } catch (const ConfigError& e) {
    throw r.error("kind", e.what());
  }
  a.name = r.str("name", "");
  for (char c : a.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      throw r.error("name", "'" + a.name + "' may contain only letters, digits, '-', '_' and '.'");
  }
  a.method = r.str("method", "");
  check_classifier(r, "method", a.method, registry);
  a.datasets = r.list<std::string>("datasets", "dataset names");
  if (a.datasets.empty()) throw r.error("datasets", "missing (names of [[datasets]] entries)");
  for (const auto& d : a.datasets) {
    const bool declared =
        std::any_of(file.datasets.begin(), file.datasets.end(), [&](const DatasetSpec& s) { return s.name == d; });
    if (!declared) throw r.error("datasets", "'" + d + "' is not declared in [[datasets]]");
  }
  if (std::set<std::string>(a.datasets.begin(), a.datasets.end()).size() != a.datasets.size())
    throw r.error("datasets", "a dataset is listed twice");
  a.seeds = static_cast<int>(r.integer("seeds", a.kind == AnalysisKind::kDebias ? 10 : 1, 1, 1000));
  a.keep_models = r.boolean("keep_models", false);
  a.validation_limit = static_cast<std::size_t>(r.integer("validation_limit", 0, 0, INT64_MAX));
  a.test_limit = static_cast<std::size_t>(r.integer("test_limit", 0, 0, INT64_MAX));

  switch (a.kind) {
    case AnalysisKind::kOnline:
      a.text_column = r.str("text_column", "");
      a.max_features = static_cast<int>(r.integer("max_features", 0, 0, 10000));
      break;
    case AnalysisKind::kDebias:
      a.text_column = r.str("text_column", "");
      a.augment = static_cast<int>(r.integer("augment", 0, 0, 100000000));
      break;
    case AnalysisKind::kTransfer: {
      a.source = r.str("source", a.datasets.front());
      a.target = r.str("target", a.datasets.size() > 1 ? a.datasets[1] : std::string());
      for (const auto& [key, value] :
           {std::pair<const char*, const std::string*>{"source", &a.source}, {"target", &a.target}}) {
        if (std::find(a.datasets.begin(), a.datasets.end(), *value) == a.datasets.end())
          throw r.error(key, "'" + *value + "' must be one of the analysis' datasets");
      }
      if (a.source == a.target) throw r.error("target", "must differ from source");
      for (std::int64_t n : r.list<std::int64_t>("target_rows", "positive integers")) {
        if (n < 1) throw r.error("target_rows", "amounts must be >= 1");
        if (!a.target_rows.empty() && static_cast<std::size_t>(n) <= a.target_rows.back())
          throw r.error("target_rows", "amounts must grow strictly");
        a.target_rows.push_back(static_cast<std::size_t>(n));
      }
      if (a.target_rows.empty()) throw r.error("target_rows", "missing (e.g. [50, 200, 1000])");
      break;
    }
    case AnalysisKind::kForgetting:
      if (a.datasets.size() != 2) throw r.error("datasets", "forgetting needs exactly two datasets: [D1, D2]");
      a.linear_method = r.str("linear_method", "");
      check_classifier(r, "linear_method", a.linear_method, registry);
      a.published_accuracy = r.numbers("published_accuracy");
      a.published_source = r.str("published_source", "");
      if (!a.published_accuracy.empty()) {
        if (a.published_accuracy.size() != 3)
          throw r.error("published_accuracy",
                        "three values: D1 test accuracy after D1, after all-parameter SFT on "
                        "D2, after linear-only SFT on D2");
        for (double v : a.published_accuracy) {
          if (!(v >= 0 && v <= 1)) throw r.error("published_accuracy", "values must be in [0, 1]");
        }
        if (a.published_source.empty()) throw r.error("published_source", "missing (where the values come from)");
      }
      break;
  }
  r.finish();
  return a;
}

}  // namespace

const char* to_string(AnalysisKind kind) {
  switch (kind) {
    case AnalysisKind::kOnline:
      return "online";
    case AnalysisKind::kDebias:
      return "debias";
    case AnalysisKind::kTransfer:
      return "transfer";
    case AnalysisKind::kForgetting:
      return "forgetting";
  }
  return "online";
}

AnalysisKind parse_analysis_kind(const std::string& text) {
  for (AnalysisKind k :
       {AnalysisKind::kOnline, AnalysisKind::kDebias, AnalysisKind::kTransfer, AnalysisKind::kForgetting}) {
    if (text == to_string(k)) return k;
  }
  throw ConfigError("unknown analysis kind '" + text + "'; valid: online, debias, transfer, forgetting");
}

AnalysisFile parse_analysis_file(const std::string& toml_text, const std::string& origin, const Registry& registry) {
  const toml::table root = parse_toml_file_text(toml_text, origin);
  AnalysisFile file;
  file.path = origin;
  TomlKeys top(root, origin, "");
  file.name = read_file_name(top);
  file.description = top.str("description", "");
  file.seed = static_cast<std::uint64_t>(top.integer("seed", 0, 0, INT64_MAX));
  read_split_and_preprocess(top, file);
  read_datasets(top, file, registry);

  const toml::array* arr = top.array("analyses");
  if (!arr || arr->empty()) throw top.error("analyses", "an analysis file needs at least one [[analyses]] entry");
  std::set<std::string> names;
  std::map<AnalysisKind, int> per_kind;
  for (const auto& node : *arr) {
    const toml::table* t = node.as_table();
    if (!t) throw ConfigError(toml_place(origin, node.source()) + ": analyses: expected a table");
    AnalysisSpec a = read_analysis(*t, file, registry, origin);
    if (a.name.empty()) {
      const int n = ++per_kind[a.kind];
      a.name = std::string(to_string(a.kind)) + (n > 1 ? "-" + std::to_string(n) : "");
    }
    if (!names.insert(a.name).second) {
      throw ConfigError(toml_place(origin, t->source()) + ": analyses: name '" + a.name +
                        "' used twice (give each analysis of one kind a name)");
    }
    file.analyses.push_back(std::move(a));
  }
  top.finish();
  return file;
}

AnalysisFile load_analysis_file(const std::string& path, const Registry& registry) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open analysis file");
  std::ostringstream text;
  text << in.rdbuf();
  AnalysisFile file = parse_analysis_file(text.str(), path, registry);
  file.base_dir = std::filesystem::absolute(path).parent_path().string();
  return file;
}

}  // namespace opsbench
