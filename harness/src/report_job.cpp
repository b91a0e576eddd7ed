#include "opsbench/harness/report_job.h"

#include <filesystem>
#include <set>

#include "opsbench/core/error.h"
#include "opsbench/harness/export.h"
#include "opsbench/harness/report_markdown.h"
#include "opsbench/harness/report_model.h"
#include "opsbench/harness/store.h"

namespace opsbench {

std::vector<std::string> write_reports_from_store(const std::string& store_path, const std::string& out_dir) {
  // Opening would create an empty store: a missing file is a usage error instead.
  if (!std::filesystem::exists(store_path)) throw ConfigError("results store '" + store_path + "' does not exist");
  const ResultsStore store(store_path);
  const ResultsSnapshot results = snapshot(store);
  std::set<std::string> suites;
  for (const auto& cell : results.cells) suites.insert(cell.record.suite);
  if (suites.empty()) throw ConfigError("results store '" + store_path + "' holds no cells");

  std::vector<std::string> written;
  for (const auto& suite : suites) {
    const std::string dir = suites.size() == 1 ? out_dir : (std::filesystem::path(out_dir) / suite).string();
    written.push_back(write_report(build_report_model(report_input_from(results, suite)), dir));
  }
  return written;
}

}  // namespace opsbench
