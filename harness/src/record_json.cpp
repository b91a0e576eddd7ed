#include "opsbench/harness/record_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "opsbench/core/error.h"
#include "record_json_detail.h"

namespace opsbench {
namespace json_detail {

using nlohmann::json;

namespace {

[[noreturn]] void type_error(const std::string& what_for, const char* key, const char* expected) {
  throw DataError(what_for + ": key '" + key + "' must be " + expected);
}

void require_object(const json& j, const std::string& what_for) {
  if (!j.is_object()) throw DataError(what_for + ": expected a JSON object, got " + j.type_name());
}

// Non-finite numbers have no JSON spelling; null keeps the document valid and reads back as NaN.
json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

}  // namespace

json parse(const std::string& text, const std::string& what_for) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw DataError(what_for + ": invalid JSON: " + e.what());
  }
}

std::string get_string(const json& j, const char* key, const std::string& what_for,
                       const std::string& fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) type_error(what_for, key, "a string");
  return it->get<std::string>();
}

double get_number(const json& j, const char* key, const std::string& what_for, double fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!it->is_number()) type_error(what_for, key, "a number");
  return it->get<double>();
}

bool get_bool(const json& j, const char* key, const std::string& what_for, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) type_error(what_for, key, "true or false");
  return it->get<bool>();
}

std::int64_t get_int(const json& j, const char* key, const std::string& what_for, std::int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) type_error(what_for, key, "an integer");
  return it->get<std::int64_t>();
}

std::string seed_to_text(std::uint64_t seed) { return std::to_string(seed); }

std::uint64_t seed_from_text(const std::string& text, const std::string& what_for) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw DataError(what_for + ": seed '" + text + "' is not a decimal unsigned integer");
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE) throw DataError(what_for + ": seed '" + text + "' does not fit in 64 bits");
  return static_cast<std::uint64_t>(value);
}

json metrics_to_json(const std::map<std::string, double>& metrics) {
  json j = json::object();
  for (const auto& [name, value] : metrics) j[name] = number_or_null(value);
  return j;
}

std::map<std::string, double> metrics_from_json(const json& j, const std::string& what_for) {
  std::map<std::string, double> out;
  if (j.is_null()) return out;
  require_object(j, what_for + " metrics");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_null()) {
      out[it.key()] = std::numeric_limits<double>::quiet_NaN();
    } else if (it->is_number()) {
      out[it.key()] = it->get<double>();
    } else {
      throw DataError(what_for + ": metric '" + it.key() + "' must be a number or null");
    }
  }
  return out;
}

json figure_to_json(const Figure& f) {
  return json{{"name", f.name},
              {"value", f.available ? number_or_null(f.value) : json(nullptr)},
              {"unit", f.unit},
              {"source", f.source},
              {"available", f.available},
              {"reason", f.reason}};
}

Figure figure_from_json(const json& j, const std::string& what_for) {
  require_object(j, what_for);
  Figure f;
  f.name = get_string(j, "name", what_for);
  if (f.name.empty()) throw DataError(what_for + ": figure without a name");
  f.available = get_bool(j, "available", what_for, true);
  f.value = get_number(j, "value", what_for, 0.0);
  if (!f.available) f.value = 0;  // the struct's "meaningless" value, not a NaN that leaks into sums
  f.unit = get_string(j, "unit", what_for);
  f.source = get_string(j, "source", what_for);
  f.reason = get_string(j, "reason", what_for);
  return f;
}

json figures_to_json(const std::vector<Figure>& figures) {
  json j = json::array();
  for (const Figure& f : figures) j.push_back(figure_to_json(f));
  return j;
}

std::vector<Figure> figures_from_json(const json& j, const std::string& what_for) {
  std::vector<Figure> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw DataError(what_for + ": figures must be a JSON array");
  for (std::size_t i = 0; i < j.size(); ++i) {
    out.push_back(figure_from_json(j[i], what_for + " figure " + std::to_string(i)));
  }
  return out;
}

json info_to_json(const std::map<std::string, std::string>& info) {
  json j = json::object();
  for (const auto& [key, value] : info) j[key] = value;
  return j;
}

std::map<std::string, std::string> info_from_json(const json& j, const std::string& what_for) {
  std::map<std::string, std::string> out;
  if (j.is_null()) return out;
  require_object(j, what_for + " info");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_string()) throw DataError(what_for + ": info '" + it.key() + "' must be a string");
    out[it.key()] = it->get<std::string>();
  }
  return out;
}

// Facts are an ordered list of [key, value] pairs: the order is the order the report prints.
json environment_to_json(const Environment& environment) {
  json facts = json::array();
  for (const auto& [key, value] : environment.facts) facts.push_back(json::array({key, value}));
  json warnings = json::array();
  for (const std::string& w : environment.warnings) warnings.push_back(w);
  return json{{"facts", facts}, {"warnings", warnings}};
}

Environment environment_from_json(const json& j, const std::string& what_for) {
  Environment env;
  if (j.is_null()) return env;
  require_object(j, what_for);
  if (auto it = j.find("facts"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw DataError(what_for + ": 'facts' must be an array of [key, value]");
    for (const json& pair : *it) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        throw DataError(what_for + ": each fact must be a [key, value] pair of strings");
      }
      env.facts.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  if (auto it = j.find("warnings"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw DataError(what_for + ": 'warnings' must be an array of strings");
    for (const json& w : *it) {
      if (!w.is_string()) throw DataError(what_for + ": each warning must be a string");
      env.warnings.push_back(w.get<std::string>());
    }
  }
  return env;
}

json record_to_json(const RunRecord& r) {
  return json{{"key", r.key()},
              {"suite", r.suite},
              {"dataset", r.dataset},
              {"method", r.method},
              {"method_name", r.method_name},
              {"repetition", r.repetition},
              {"seed", seed_to_text(r.seed)},
              {"status", to_string(r.status)},
              {"error", r.error},
              {"started_at", r.started_at},
              {"metrics", metrics_to_json(r.metrics)},
              {"figures", figures_to_json(r.figures)},
              {"info", info_to_json(r.info)}};
}

RunRecord record_from_json(const json& j, const std::string& what_for) {
  require_object(j, what_for);
  RunRecord r;
  r.suite = get_string(j, "suite", what_for);
  r.dataset = get_string(j, "dataset", what_for);
  r.method = get_string(j, "method", what_for);
  r.method_name = get_string(j, "method_name", what_for);
  r.repetition = static_cast<int>(get_int(j, "repetition", what_for, 0));
  r.seed = seed_from_text(get_string(j, "seed", what_for, "0"), what_for);
  r.status = parse_cell_status(get_string(j, "status", what_for, "ok"));
  r.error = get_string(j, "error", what_for);
  r.started_at = get_string(j, "started_at", what_for);
  auto part = [&](const char* key) { auto it = j.find(key); return it == j.end() ? json() : *it; };
  r.metrics = metrics_from_json(part("metrics"), what_for);
  r.figures = figures_from_json(part("figures"), what_for);
  r.info = info_from_json(part("info"), what_for);
  return r;
}

}  // namespace json_detail

CellStatus parse_cell_status(const std::string& text) {
  if (text == to_string(CellStatus::kOk)) return CellStatus::kOk;
  if (text == to_string(CellStatus::kFailed)) return CellStatus::kFailed;
  throw DataError("unknown cell status '" + text + "'; valid: ok, failed");
}

std::string to_json_text(const RunRecord& record, int indent) {
  return json_detail::record_to_json(record).dump(indent);
}
std::string to_json_text(const Environment& environment, int indent) {
  return json_detail::environment_to_json(environment).dump(indent);
}
std::string to_json_text(const Figure& figure, int indent) {
  return json_detail::figure_to_json(figure).dump(indent);
}

RunRecord record_from_json_text(const std::string& text, const std::string& what_for) {
  return json_detail::record_from_json(json_detail::parse(text, what_for), what_for);
}
Environment environment_from_json_text(const std::string& text, const std::string& what_for) {
  return json_detail::environment_from_json(json_detail::parse(text, what_for), what_for);
}
Figure figure_from_json_text(const std::string& text, const std::string& what_for) {
  return json_detail::figure_from_json(json_detail::parse(text, what_for), what_for);
}

}  // namespace opsbench
