// Declared options and spec strings.
//
// Every configurable thing (method, reader) declares its options once: name, type, default,
// bounds or choices, and a description. A spec string names a configuration faiss-style:
//     iforest:n_estimators=100,max_samples=256
// resolve() checks it against the declarations: an unknown key, a malformed value or a value out of
// bounds is a ConfigError that lists what is valid. canonical() is the reverse: name, then every
// option (defaults included) sorted by key, values in a normalised form. The canonical string is a
// method's identity in results, so two spellings of one configuration compare equal.
// List values are written with ';' between items (a;b;c).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace opsbench {

enum class OptionType { kInt, kDouble, kBool, kString, kChoice, kList };

const char* to_string(OptionType type);

struct OptionDecl {
  std::string name;
  OptionType type = OptionType::kString;
  std::string default_value;          // in spec-string form; "" for an empty string or list
  std::optional<double> min;          // inclusive bounds for kInt / kDouble
  std::optional<double> max;
  std::vector<std::string> choices;   // kChoice
  std::string description;

  static OptionDecl integer(std::string name, std::int64_t def, std::optional<double> min,
                            std::optional<double> max, std::string description);
  static OptionDecl real(std::string name, double def, std::optional<double> min,
                         std::optional<double> max, std::string description);
  static OptionDecl boolean(std::string name, bool def, std::string description);
  static OptionDecl string(std::string name, std::string def, std::string description);
  static OptionDecl choice(std::string name, std::string def, std::vector<std::string> choices,
                           std::string description);
  static OptionDecl list(std::string name, std::string def, std::string description);

  // "int in [1, 10000]", "choice of {a, b}", ...
  std::string describe_domain() const;
};

// A parsed spec string before validation: name and raw key=value pairs in the order written.
struct Spec {
  std::string name;
  std::vector<std::pair<std::string, std::string>> values;
};

// Splits "name:k=v,k2=v2". Throws ConfigError on an empty name, a pair without '=', or a key
// given twice.
Spec parse_spec(const std::string& text);

// Resolved, validated option values of one configuration.
class Options {
 public:
  Options() = default;

  std::int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;  // kString and kChoice
  std::vector<std::string> get_list(const std::string& key) const;
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  // Normalised spec-string form of every value, sorted by key.
  const std::map<std::string, std::string>& values() const { return values_; }

  // Used by resolve(); values must already be normalised.
  void set(const std::string& key, std::string normalised) { values_[key] = std::move(normalised); }

 private:
  const std::string& raw(const std::string& key) const;
  std::map<std::string, std::string> values_;
};

// Validates `values` against `decls` (what = "method iforest" for messages) and fills defaults.
Options resolve(const std::vector<OptionDecl>& decls, const std::vector<std::pair<std::string, std::string>>& values,
                const std::string& what);

// "name:key=value,..." with every declared option, sorted; just "name" when there are none.
std::string canonical(const std::string& name, const Options& options);

// Normalised text of a double: shortest form that reads back to the same value ("0.1", "100").
std::string format_double(double value);

}  // namespace opsbench
