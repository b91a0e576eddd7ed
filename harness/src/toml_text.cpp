#include "toml_text.h"

#include "opsbench/core/error.h"
#include "opsbench/core/options.h"

namespace opsbench {

std::string toml_place(const std::string& origin, const toml::source_region& where) {
  if (!where.begin) return origin;
  return origin + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

std::string toml_value_text(const toml::node& node, const std::string& where, bool allow_arrays) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto b = node.value_exact<bool>()) return *b ? "true" : "false";
  if (auto i = node.value_exact<std::int64_t>()) return std::to_string(*i);
  if (auto d = node.value_exact<double>()) return format_double(*d);
  if (const toml::array* arr = node.as_array(); arr && allow_arrays) {
    std::string out;
    for (const auto& item : *arr) {
      if (!out.empty()) out += ";";
      out += toml_value_text(item, where, false);
    }
    return out;
  }
  throw ConfigError(where + (allow_arrays ? ": unsupported value (use a string, number, boolean or array)"
                                          : ": expected a string, number or boolean"));
}

}  // namespace opsbench
