// Private to harness/src: typed reads from one TOML table of a suite or analysis file, with every
// message naming the place (file:line:column) and the key's full path. finish() rejects every key
// that was not asked for, listing the valid ones.
#pragma once

#include <toml++/toml.h>

#include <cctype>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "toml_text.h"

namespace opsbench {

class TomlKeys {
 public:
  TomlKeys(const toml::table& table, std::string origin, std::string prefix)
      : table_(table), origin_(std::move(origin)), prefix_(std::move(prefix)) {}

  ConfigError error(const std::string& key, const std::string& message) const {
    const toml::node* node = table_.get(key);
    return ConfigError(toml_place(origin_, node ? node->source() : table_.source()) + ": " + full(key) + ": " +
                       message);
  }

  bool has(const std::string& key) {
    seen_.insert(key);
    return table_.contains(key);
  }

  std::string str(const std::string& key, const std::string& fallback) {
    if (!has(key)) return fallback;
    const auto v = table_.get(key)->value_exact<std::string>();
    if (!v) throw error(key, "expected a string");
    return *v;
  }

  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
    if (!has(key)) return fallback;
    const auto v = table_.get(key)->value_exact<std::int64_t>();
    if (!v) throw error(key, "expected an integer");
    if (*v < lo || *v > hi) throw error(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return *v;
  }

  std::int64_t integer(const std::string& key, std::int64_t fallback) {
    return integer(key, fallback, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
  }

  std::vector<std::string> strings(const std::string& key) { return list<std::string>(key, "strings"); }

  bool boolean(const std::string& key, bool fallback) {
    if (!has(key)) return fallback;
    const auto v = table_.get(key)->value_exact<bool>();
    if (!v) throw error(key, "expected true or false");
    return *v;
  }

  double number(const std::string& key, double fallback) {
    if (!has(key)) return fallback;
    const auto v = table_.get(key)->value<double>();
    if (!v) throw error(key, "expected a number");
    return *v;
  }

  // Each item through `item` (which returns false for a wrong type).
  template <typename T>
  std::vector<T> list(const std::string& key, const char* expected) {
    std::vector<T> out;
    if (!has(key)) return out;
    const toml::array* arr = table_.get(key)->as_array();
    if (!arr) throw error(key, std::string("expected an array of ") + expected);
    for (const auto& node : *arr) {
      const auto v = node.value_exact<T>();
      if (!v) throw ConfigError(toml_place(origin_, node.source()) + ": " + full(key) + ": expected " + expected);
      out.push_back(*v);
    }
    return out;
  }

  std::vector<double> numbers(const std::string& key) {
    std::vector<double> out;
    if (!has(key)) return out;
    const toml::array* arr = table_.get(key)->as_array();
    if (!arr) throw error(key, "expected an array of numbers");
    for (const auto& node : *arr) {
      const auto v = node.value<double>();
      if (!v) throw ConfigError(toml_place(origin_, node.source()) + ": " + full(key) + ": expected numbers");
      out.push_back(*v);
    }
    return out;
  }

  const toml::table* subtable(const std::string& key) {
    if (!has(key)) return nullptr;
    const toml::table* t = table_.get(key)->as_table();
    if (!t) throw error(key, "expected a table");
    return t;
  }

  const toml::array* array(const std::string& key) {
    if (!has(key)) return nullptr;
    const toml::array* a = table_.get(key)->as_array();
    if (!a) throw error(key, "expected an array of tables ([[" + full(key) + "]])");
    return a;
  }

  void finish() const {
    for (const auto& [key, node] : table_) {
      const std::string k(key.str());
      if (seen_.count(k)) continue;
      std::string valid;
      for (const auto& s : seen_) valid += (valid.empty() ? "" : ", ") + s;
      throw ConfigError(toml_place(origin_, node.source()) + ": unknown key '" + full(k) +
                        "'; valid keys here: " + valid);
    }
  }

  const std::string& origin() const { return origin_; }
  const toml::table& table() const { return table_; }

 private:
  std::string full(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  const toml::table& table_;
  std::string origin_;
  std::string prefix_;
  std::set<std::string> seen_;
};

// The whole file parsed, or a ConfigError at the parser's place.
inline toml::table parse_toml_file_text(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw ConfigError(toml_place(origin, e.source()) + ": " + std::string(e.description()));
  }
}

// The top-level `name` (required): letters, digits, '-', '_' and '.' only, since it names files.
inline std::string read_file_name(TomlKeys& top) {
  const std::string name = top.str("name", "");
  if (name.empty()) throw top.error("name", "missing (name = \"...\")");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      throw top.error("name", "'" + name + "' may contain only letters, digits, '-', '_' and '.'");
  }
  return name;
}

}  // namespace opsbench
