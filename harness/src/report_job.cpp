#include "opsbench/harness/report_job.h"

#include <filesystem>
#include <map>
#include <set>

#include "opsbench/core/error.h"
#include "opsbench/harness/report_markdown.h"
#include "opsbench/harness/report_model.h"
#include "opsbench/harness/store.h"
#include "opsbench/harness/suite.h"

namespace opsbench {
namespace {

// The report input of one suite: its records, the latest run's environment and suite definition.
ReportInput input_for(const std::string& suite_name, const std::vector<StoredRun>& runs,
                      std::vector<RunRecord> records) {
  ReportInput input;
  input.suite = suite_name;
  const StoredRun* latest = nullptr;
  std::set<std::string> commits;
  for (const auto& run : runs) {
    if (run.suite != suite_name) continue;
    latest = &run;
  }
  // Cells may come from several runs (resume); say so when their builds differ.
  for (const auto& run : runs) {
    if (run.suite != suite_name) continue;
    if (const std::string* commit = run.environment.find("git.commit")) commits.insert(*commit);
  }
  if (commits.size() > 1) {
    input.extra_warnings.push_back("cells of this report come from runs of " + std::to_string(commits.size()) +
                                   " different commits; compare with care");
  }
  if (latest) {
    input.environment = latest->environment;
    try {
      const Suite suite = suite_from_json(latest->suite_json);
      input.description = suite.description;
      input.published = suite.published;
      input.primary_metric = suite.primary_metric;
      for (const auto& d : suite.datasets) input.datasets.push_back({d.name, "reader " + d.reader, false});
    } catch (const std::exception& e) {
      input.extra_warnings.push_back(std::string("the stored suite definition could not be read: ") + e.what());
    }
  }
  // Generators mark their cells; carry that to the dataset notes.
  for (auto& note : input.datasets) {
    for (const auto& r : records) {
      const auto it = r.info.find("data");
      if (r.dataset == note.name && it != r.info.end() && it->second.rfind("synthetic", 0) == 0) {
        note.synthetic = true;
        note.description = it->second;
        break;
      }
    }
  }
  input.records = std::move(records);
  return input;
}

}  // namespace

std::vector<std::string> write_reports_from_store(const std::string& store_path, const std::string& out_dir) {
  if (!std::filesystem::exists(store_path)) throw ConfigError("results store '" + store_path + "' does not exist");
  ResultsStore store(store_path);
  const std::vector<StoredRun> runs = store.runs();
  std::map<std::string, std::vector<RunRecord>> by_suite;
  for (auto& record : store.cells()) by_suite[record.suite].push_back(std::move(record));
  if (by_suite.empty()) throw ConfigError("results store '" + store_path + "' holds no cells");

  std::vector<std::string> written;
  for (auto& [suite, records] : by_suite) {
    const std::string dir =
        by_suite.size() == 1 ? out_dir : (std::filesystem::path(out_dir) / suite).string();
    const ReportModel model = build_report_model(input_for(suite, runs, std::move(records)));
    written.push_back(write_report(model, dir));
  }
  return written;
}

}  // namespace opsbench
