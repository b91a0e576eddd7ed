#include "opsbench/core/options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  if (trim(text).empty()) return items;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ';')) items.push_back(trim(item));
  return items;
}

bool parse_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

std::string domain_hint(const OptionDecl& d) { return d.describe_domain(); }

// Checks and normalises one raw value; `where` names it in messages.
std::string normalise(const OptionDecl& d, const std::string& raw, const std::string& where) {
  const std::string value = trim(raw);
  auto fail = [&](const std::string& why) -> ConfigError {
    return ConfigError(where + ": " + why + " (expected " + domain_hint(d) + ")");
  };
  switch (d.type) {
    case OptionType::kInt: {
      std::int64_t v = 0;
      const auto res = std::from_chars(value.data(), value.data() + value.size(), v);
      if (res.ec != std::errc() || res.ptr != value.data() + value.size()) {
        throw fail("'" + value + "' is not an integer");
      }
      if ((d.min && v < *d.min) || (d.max && v > *d.max)) throw fail(value + " is out of bounds");
      return std::to_string(v);
    }
    case OptionType::kDouble: {
      double v = 0;
      if (!parse_number(value, v)) throw fail("'" + value + "' is not a finite number");
      if ((d.min && v < *d.min) || (d.max && v > *d.max)) throw fail(value + " is out of bounds");
      return format_double(v);
    }
    case OptionType::kBool: {
      if (value == "true" || value == "1" || value == "yes") return "true";
      if (value == "false" || value == "0" || value == "no") return "false";
      throw fail("'" + value + "' is not a boolean");
    }
    case OptionType::kChoice: {
      for (const auto& c : d.choices) {
        if (c == value) return value;
      }
      throw fail("'" + value + "' is not a valid choice");
    }
    case OptionType::kList:
      return join(split_list(value), ";");
    case OptionType::kString:
      return value;
  }
  return value;
}

}  // namespace

const char* to_string(OptionType type) {
  switch (type) {
    case OptionType::kInt: return "int";
    case OptionType::kDouble: return "double";
    case OptionType::kBool: return "bool";
    case OptionType::kString: return "string";
    case OptionType::kChoice: return "choice";
    case OptionType::kList: return "list";
  }
  return "?";
}

OptionDecl OptionDecl::integer(std::string name, std::int64_t def, std::optional<double> min,
                               std::optional<double> max, std::string description) {
  OptionDecl d;
  d.name = std::move(name);
  d.type = OptionType::kInt;
  d.default_value = std::to_string(def);
  d.min = min;
  d.max = max;
  d.description = std::move(description);
  return d;
}

OptionDecl OptionDecl::real(std::string name, double def, std::optional<double> min,
                            std::optional<double> max, std::string description) {
  OptionDecl d;
  d.name = std::move(name);
  d.type = OptionType::kDouble;
  d.default_value = format_double(def);
  d.min = min;
  d.max = max;
  d.description = std::move(description);
  return d;
}

OptionDecl OptionDecl::boolean(std::string name, bool def, std::string description) {
  OptionDecl d;
  d.name = std::move(name);
  d.type = OptionType::kBool;
  d.default_value = def ? "true" : "false";
  d.description = std::move(description);
  return d;
}

OptionDecl OptionDecl::string(std::string name, std::string def, std::string description) {
  OptionDecl d;
  d.name = std::move(name);
  d.type = OptionType::kString;
  d.default_value = std::move(def);
  d.description = std::move(description);
  return d;
}

OptionDecl OptionDecl::choice(std::string name, std::string def, std::vector<std::string> choices,
                              std::string description) {
  OptionDecl d;
  d.name = std::move(name);
  d.type = OptionType::kChoice;
  d.default_value = std::move(def);
  d.choices = std::move(choices);
  d.description = std::move(description);
  return d;
}

OptionDecl OptionDecl::list(std::string name, std::string def, std::string description) {
  OptionDecl d;
  d.name = std::move(name);
  d.type = OptionType::kList;
  d.default_value = std::move(def);
  d.description = std::move(description);
  return d;
}

std::string OptionDecl::describe_domain() const {
  auto bound = [](const std::optional<double>& b, const char* inf) {
    return b ? format_double(*b) : std::string(inf);
  };
  switch (type) {
    case OptionType::kInt:
    case OptionType::kDouble:
      if (!min && !max) return to_string(type);
      return std::string(to_string(type)) + " in [" + bound(min, "-inf") + ", " + bound(max, "inf") + "]";
    case OptionType::kBool: return "bool (true/false)";
    case OptionType::kChoice: return "one of {" + join(choices, ", ") + "}";
    case OptionType::kList: return "list (items separated by ';')";
    case OptionType::kString: return "string";
  }
  return "?";
}

Spec parse_spec(const std::string& text) {
  Spec spec;
  const auto colon = text.find(':');
  spec.name = trim(text.substr(0, colon));
  if (spec.name.empty()) throw ConfigError("spec '" + text + "': missing method name before ':'");
  if (colon == std::string::npos) return spec;
  const std::string rest = text.substr(colon + 1);
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= rest.size()) {
    const auto comma = rest.find(',', start);
    const std::string pair = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? rest.size() + 1 : comma + 1;
    if (trim(pair).empty()) {
      if (rest.empty() || comma == std::string::npos) break;
      throw ConfigError("spec '" + text + "': empty option between commas");
    }
    const auto eq = pair.find('=');
    if (eq == std::string::npos) {
      throw ConfigError("spec '" + text + "': option '" + trim(pair) + "' has no '=value'");
    }
    const std::string key = trim(pair.substr(0, eq));
    if (key.empty()) throw ConfigError("spec '" + text + "': option with an empty name");
    if (!seen.insert(key).second) throw ConfigError("spec '" + text + "': option '" + key + "' given twice");
    spec.values.emplace_back(key, trim(pair.substr(eq + 1)));
  }
  return spec;
}

const std::string& Options::raw(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("option '" + key + "' was not declared");
  return it->second;
}

std::int64_t Options::get_int(const std::string& key) const { return std::stoll(raw(key)); }

double Options::get_double(const std::string& key) const { return std::strtod(raw(key).c_str(), nullptr); }

bool Options::get_bool(const std::string& key) const { return raw(key) == "true"; }

const std::string& Options::get_string(const std::string& key) const { return raw(key); }

std::vector<std::string> Options::get_list(const std::string& key) const { return split_list(raw(key)); }

Options resolve(const std::vector<OptionDecl>& decls,
                const std::vector<std::pair<std::string, std::string>>& values, const std::string& what) {
  Options options;
  for (const auto& d : decls) options.set(d.name, d.default_value);
  for (const auto& [key, value] : values) {
    const OptionDecl* decl = nullptr;
    for (const auto& d : decls) {
      if (d.name == key) decl = &d;
    }
    if (!decl) {
      std::vector<std::string> names;
      for (const auto& d : decls) names.push_back(d.name);
      throw ConfigError(what + ": unknown option '" + key + "'; valid options: " +
                        (names.empty() ? std::string("(none)") : join(names, ", ")));
    }
    options.set(key, normalise(*decl, value, what + ": option '" + key + "'"));
  }
  return options;
}

std::string canonical(const std::string& name, const Options& options) {
  std::string out = name;
  char sep = ':';
  for (const auto& [key, value] : options.values()) {
    out += sep;
    out += key + "=" + value;
    sep = ',';
  }
  return out;
}

std::string format_double(double value) {
  // Whole numbers print as integers ("100000", not "1e+05"): specs and reports read better.
  if (std::isfinite(value) && value == std::floor(value) && std::abs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, res.ptr);
}

}  // namespace opsbench
