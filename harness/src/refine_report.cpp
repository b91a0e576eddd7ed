#include "refine_report.h"

#include <algorithm>
#include <cstdlib>

namespace opsbench {

std::vector<RefineSeries> refine_series(const ReportModel& model, const std::string& name) {
  std::vector<RefineSeries> out;
  const std::string prefix = "refine.iter.";
  const std::string suffix = "." + name;
  for (const DatasetSummary& ds : model.datasets) {
    for (const MethodSummary& m : ds.methods) {
      RefineSeries s{ds.name, m.method, {}};
      for (const FigureSummary& f : m.figures) {
        if (!f.available || f.name.rfind(prefix, 0) != 0 || f.name.size() <= prefix.size() + suffix.size() ||
            f.name.compare(f.name.size() - suffix.size(), suffix.size(), suffix) != 0) {
          continue;
        }
        const std::string middle = f.name.substr(prefix.size(), f.name.size() - prefix.size() - suffix.size());
        if (middle.empty() || middle.find_first_not_of("0123456789") != std::string::npos) continue;
        s.points.emplace_back(std::atoi(middle.c_str()), f.median);
      }
      if (s.points.empty()) continue;
      std::sort(s.points.begin(), s.points.end());
      out.push_back(std::move(s));
    }
  }
  return out;
}

bool has_refine_figures(const ReportModel& model) { return !refine_series(model, "samples_left").empty(); }

const std::vector<std::string>& refine_stages() {
  static const std::vector<std::string> stages = {"initial_training", "to_knee", "retraining", "inference"};
  return stages;
}

}  // namespace opsbench
