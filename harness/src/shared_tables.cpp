// The tables suite and analysis files share (see shared_tables.h).
#include "shared_tables.h"

#include <set>

namespace opsbench {

namespace {

void check_choice(TomlKeys& keys, const std::string& key, const std::string& value,
                  const std::set<std::string>& valid) {
  if (valid.count(value)) return;
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  throw keys.error(key, "'" + value + "' is not valid; valid: " + list);
}

}  // namespace

std::vector<DatasetSpec> read_dataset_tables(TomlKeys& top, const SharedTableRules& rules) {
  const toml::array* arr = top.array("datasets");
  if (!arr || arr->empty()) throw top.error("datasets", rules.file_kind + " needs at least one [[datasets]] entry");
  std::vector<DatasetSpec> out;
  std::set<std::string> names;
  for (const auto& node : *arr) {
    const toml::table* t = node.as_table();
    if (!t) throw ConfigError(toml_place(top.origin(), node.source()) + ": datasets: expected a table");
    TomlKeys r(*t, top.origin(), "datasets");
    DatasetSpec d;
    d.reader = r.str("reader", "");
    if (d.reader.empty()) throw r.error("reader", "missing (e.g. reader = \"" + rules.reader_example + "\")");
    d.name = r.str("name", d.reader);
    if (rules.train_contamination) {
      d.train_contamination = r.number("train_contamination", -1);
      if (d.train_contamination >= 1.0) throw r.error("train_contamination", "must be in [0, 1)");
    }
    if (!names.insert(d.name).second) throw r.error("name", "dataset name '" + d.name + "' used twice");
    if (const toml::table* opts = r.subtable("options")) {
      for (const auto& [key, value] : *opts) {
        d.options.emplace_back(std::string(key.str()),
                               toml_value_text(value, toml_place(top.origin(), value.source()), true));
      }
    }
    r.finish();
    out.push_back(std::move(d));
  }
  return out;
}

void read_split_table(TomlKeys& top, SplitSpec& split, const SharedTableRules& rules) {
  const toml::table* t = top.subtable("split");
  if (t == nullptr) return;
  TomlKeys r(*t, top.origin(), "split");
  try {
    split.kind = parse_split_kind(r.str("kind", to_string(split.kind)));
  } catch (const ConfigError& e) {
    throw r.error("kind", e.what());
  }
  split.ratios.train = r.number("train", split.ratios.train);
  split.ratios.validation = r.number("validation", split.ratios.validation);
  split.ratios.test = r.number("test", split.ratios.test);
  if (rules.train_contamination) split.train_contamination = r.number("train_contamination", -1);
  r.finish();
}

void read_preprocess_table(TomlKeys& top, PreprocessSpec& p) {
  const toml::table* t = top.subtable("preprocess");
  if (t == nullptr) return;
  TomlKeys r(*t, top.origin(), "preprocess");
  p.impute = r.str("impute", p.impute);
  p.encode = r.str("encode", p.encode);
  p.scale = r.str("scale", p.scale);
  p.weight = r.str("weight", p.weight);
  p.text = r.str("text", p.text);
  r.finish();
  check_choice(r, "impute", p.impute, {"mean", "median", "zero", "none"});
  check_choice(r, "encode", p.encode, {"onehot", "ordinal", "drop"});
  check_choice(r, "scale", p.scale, {"standard", "minmax", "none"});
  check_choice(r, "weight", p.weight, {"tfidf", "none"});
  check_choice(r, "text", p.text, {"drop", "keep"});
}

}  // namespace opsbench
