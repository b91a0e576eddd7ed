// nlohmann::json forms of the harness records, shared by the store, the exporter and the importer.
// Private to harness/src: public headers expose text only (record_json.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "opsbench/core/environment.h"
#include "opsbench/core/record.h"

namespace opsbench {
namespace json_detail {

nlohmann::json metrics_to_json(const std::map<std::string, double>& metrics);
std::map<std::string, double> metrics_from_json(const nlohmann::json& j, const std::string& what_for);

nlohmann::json figure_to_json(const Figure& figure);
Figure figure_from_json(const nlohmann::json& j, const std::string& what_for);
nlohmann::json figures_to_json(const std::vector<Figure>& figures);
std::vector<Figure> figures_from_json(const nlohmann::json& j, const std::string& what_for);

nlohmann::json info_to_json(const std::map<std::string, std::string>& info);
std::map<std::string, std::string> info_from_json(const nlohmann::json& j, const std::string& what_for);

nlohmann::json environment_to_json(const Environment& environment);
Environment environment_from_json(const nlohmann::json& j, const std::string& what_for);

nlohmann::json record_to_json(const RunRecord& record);
RunRecord record_from_json(const nlohmann::json& j, const std::string& what_for);

// Parses text, turning nlohmann's parse_error into a DataError that names `what_for`.
nlohmann::json parse(const std::string& text, const std::string& what_for);

// Typed field access: absent -> fallback; present with the wrong type -> DataError naming the key.
std::string get_string(const nlohmann::json& j, const char* key, const std::string& what_for,
                       const std::string& fallback = "");
double get_number(const nlohmann::json& j, const char* key, const std::string& what_for, double fallback);
bool get_bool(const nlohmann::json& j, const char* key, const std::string& what_for, bool fallback);
std::int64_t get_int(const nlohmann::json& j, const char* key, const std::string& what_for,
                     std::int64_t fallback);

std::string seed_to_text(std::uint64_t seed);
std::uint64_t seed_from_text(const std::string& text, const std::string& what_for);

}  // namespace json_detail
}  // namespace opsbench
