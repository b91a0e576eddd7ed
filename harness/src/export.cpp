#include "opsbench/harness/export.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <istream>
#include <iterator>
#include <ostream>
#include <set>

#include "opsbench/core/error.h"
#include "record_json_detail.h"

namespace opsbench {

namespace {

namespace jd = json_detail;
using nlohmann::json;

// Shortest text that reads back to the same double (17 significant digits at most).
std::string number_text(double value) {
  char buffer[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

json run_to_json(const StoredRun& run) {
  json files = json::array();
  for (const DataFile& f : run.files) {
    files.push_back(json{{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  }
  // The suite definition is embedded as JSON when it is JSON, so readers need not parse twice;
  // anything else (or nothing) is kept verbatim as a string.
  json suite = run.suite_json;
  if (!run.suite_json.empty() && json::accept(run.suite_json)) suite = json::parse(run.suite_json);
  return json{{"run_id", run.run_id},
              {"suite", run.suite},
              {"started_at", run.started_at},
              {"finished_at", run.finished_at},
              {"command_line", run.command_line},
              {"environment", jd::environment_to_json(run.environment)},
              {"suite_definition", suite},
              {"data_files", files}};
}

StoredRun run_from_json(const json& j, const std::string& what_for) {
  if (!j.is_object()) throw DataError(what_for + ": each run must be an object");
  StoredRun run;
  run.run_id = jd::get_int(j, "run_id", what_for, 0);
  run.suite = jd::get_string(j, "suite", what_for);
  run.started_at = jd::get_string(j, "started_at", what_for);
  run.finished_at = jd::get_string(j, "finished_at", what_for);
  run.command_line = jd::get_string(j, "command_line", what_for);
  if (auto it = j.find("environment"); it != j.end()) run.environment = jd::environment_from_json(*it, what_for);
  if (auto it = j.find("suite_definition"); it != j.end() && !it->is_null()) {
    run.suite_json = it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (auto it = j.find("data_files"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw DataError(what_for + ": 'data_files' must be an array");
    for (const json& f : *it) {
      if (!f.is_object()) throw DataError(what_for + ": each data file must be an object");
      DataFile file;
      file.path = jd::get_string(f, "path", what_for);
      file.bytes = static_cast<std::uint64_t>(jd::get_int(f, "bytes", what_for, 0));
      file.sha256 = jd::get_string(f, "sha256", what_for);
      run.files.push_back(file);
    }
  }
  return run;
}

}  // namespace

ResultsSnapshot snapshot(const ResultsStore& store, const std::string& suite) {
  ResultsSnapshot s;
  s.cells = store.stored_cells(suite);
  std::set<std::int64_t> referenced;
  for (const StoredCell& c : s.cells) referenced.insert(c.run_id);
  for (StoredRun& run : store.runs()) {
    if (suite.empty() || run.suite == suite || referenced.count(run.run_id) != 0) {
      s.runs.push_back(std::move(run));
    }
  }
  return s;
}

void export_json(const ResultsSnapshot& results, std::ostream& out) {
  json runs = json::array();
  for (const StoredRun& run : results.runs) runs.push_back(run_to_json(run));
  json cells = json::array();
  for (const StoredCell& cell : results.cells) {
    json j = jd::record_to_json(cell.record);
    j["run_id"] = cell.run_id;
    cells.push_back(std::move(j));
  }
  json doc{{"schema_version", results.schema_version}, {"runs", runs}, {"cells", cells}};
  out << doc.dump(2) << '\n';
}

void export_json(const ResultsStore& store, std::ostream& out) { export_json(snapshot(store), out); }

ResultsSnapshot read_results_json(std::istream& in, const std::string& what_for) {
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json doc = jd::parse(text, what_for);
  if (!doc.is_object()) throw DataError(what_for + ": expected an object with schema_version, runs, cells");
  std::int64_t version = jd::get_int(doc, "schema_version", what_for, -1);
  if (version != kSchemaVersion) {
    throw ConfigError(what_for + " has schema version " +
                      (version < 0 ? std::string("(none)") : std::to_string(version)) +
                      "; this build of opsbench reads schema version " + std::to_string(kSchemaVersion));
  }
  ResultsSnapshot s;
  s.schema_version = static_cast<int>(version);
  auto array = [&](const char* key) {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_array()) throw DataError(what_for + ": '" + key + "' must be an array");
    return *it;
  };
  const json runs = array("runs");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    s.runs.push_back(run_from_json(runs[i], what_for + " run " + std::to_string(i)));
  }
  const json cells = array("cells");
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const std::string where = what_for + " cell " + std::to_string(i);
    StoredCell cell;
    cell.record = jd::record_from_json(cells[i], where);
    cell.run_id = jd::get_int(cells[i], "run_id", where, 0);
    s.cells.push_back(std::move(cell));
  }
  return s;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void export_csv(const ResultsSnapshot& results, std::ostream& out) {
  const char* kEol = "\r\n";  // RFC 4180 line end
  out << "suite,dataset,method,repetition,seed,status,kind,name,value,unit,source,available,reason" << kEol;
  for (const StoredCell& cell : results.cells) {
    const RunRecord& r = cell.record;
    const std::string prefix = csv_field(r.suite) + ',' + csv_field(r.dataset) + ',' + csv_field(r.method) +
                               ',' + std::to_string(r.repetition) + ',' + std::to_string(r.seed) + ',' +
                               to_string(r.status) + ',';
    for (const auto& [name, value] : r.metrics) {
      out << prefix << "metric," << csv_field(name) << ',' << (std::isfinite(value) ? number_text(value) : "")
          << ",,,true," << kEol;
    }
    for (const Figure& f : r.figures) {
      out << prefix << "figure," << csv_field(f.name) << ','
          << (f.available && std::isfinite(f.value) ? number_text(f.value) : "") << ',' << csv_field(f.unit)
          << ',' << csv_field(f.source) << ',' << (f.available ? "true" : "false") << ','
          << csv_field(f.reason) << kEol;
    }
    if (r.metrics.empty() && r.figures.empty()) {
      out << prefix << "cell,,,,,," << csv_field(r.error) << kEol;
    }
  }
}

void export_csv(const ResultsStore& store, std::ostream& out) { export_csv(snapshot(store), out); }

}  // namespace opsbench
