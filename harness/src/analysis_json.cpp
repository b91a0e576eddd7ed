// analysis.json (analysis.h): the canonical form of an analysis run. Same conventions as the
// results exchange format (record_json.h): seeds as decimal strings, unmeasured figures null.
#include <cmath>

#include "analysis_internal.h"
#include "record_json_detail.h"

namespace opsbench {
namespace {

using nlohmann::json;
using namespace analysis_detail;

constexpr int kFormatVersion = 1;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json stat_json(const Stat& s) { return json{{"mean", number(s.mean)}, {"sd", number(s.sd)}, {"n", s.n}}; }

json quality_json(const Quality& q) {
  return json{{"rows", q.rows},
              {"accuracy", number(q.accuracy)},
              {"precision", number(q.precision)},
              {"recall", number(q.recall)},
              {"f1", number(q.f1)}};
}

json entry_json(const AnalysisEntry& e) {
  json j{{"role", e.role},
         {"dataset", e.dataset},
         {"train_rows", e.train_rows},
         {"repetition", e.repetition},
         {"seed", json_detail::seed_to_text(e.seed)},
         {"method", e.method},
         {"status", e.ok ? "ok" : "failed"},
         {"error", e.error},
         {"figures", json_detail::figures_to_json(e.figures)},
         {"info", json_detail::info_to_json(e.info)}};
  json quality = json::object();
  for (const auto& [on, q] : e.quality) quality[on] = quality_json(q);
  j["quality"] = quality;
  if (!e.empty_proba.empty()) j["empty_proba"] = e.empty_proba;
  if (!e.prefix_accuracy.empty()) {
    j["prefix_accuracy"] = e.prefix_accuracy;
    j["first_right"] = e.first_right;
    j["stable_from"] = e.stable_from;
  }
  return j;
}

json spec_json(const AnalysisSpec& s) {
  json j{{"name", s.name},
         {"kind", to_string(s.kind)},
         {"method", s.method},
         {"datasets", s.datasets},
         {"seeds", s.seeds},
         {"keep_models", s.keep_models},
         {"validation_limit", s.validation_limit},
         {"test_limit", s.test_limit}};
  switch (s.kind) {
    case AnalysisKind::kOnline:
      j["text_column"] = s.text_column;
      j["max_features"] = s.max_features;
      break;
    case AnalysisKind::kDebias:
      j["text_column"] = s.text_column;
      j["augment"] = s.augment;
      break;
    case AnalysisKind::kTransfer:
      j["source"] = s.source;
      j["target"] = s.target;
      j["target_rows"] = s.target_rows;
      break;
    case AnalysisKind::kForgetting:
      j["linear_method"] = s.linear_method;
      j["published_accuracy"] = s.published_accuracy;
      j["published_source"] = s.published_source;
      break;
  }
  return j;
}

// The aggregates the Markdown shows, so a reader of the JSON need not recompute them.
json summary_json(const AnalysisResult& r) {
  json j = json::object();
  switch (r.spec.kind) {
    case AnalysisKind::kOnline:
      for (const OnlineSummary& s : online_summaries(r)) {
        json accuracy = json::array();
        for (const Stat& a : s.accuracy) accuracy.push_back(stat_json(a));
        j[s.dataset] = {{"fits", s.seeds},
                        {"rows", s.rows},
                        {"accuracy_per_prefix", accuracy},
                        {"first_right_mean_count", s.first_right},
                        {"stable_from_mean_count", s.stable_from}};
      }
      break;
    case AnalysisKind::kDebias:
      for (const DebiasRow& row : debias_rows(r)) {
        json proba = json::object();
        for (std::size_t c = 0; c < row.empty_proba.size() && c < r.classes.size(); ++c)
          proba[r.classes[c]] = stat_json(row.empty_proba[c]);
        j[row.dataset][row.role] = {{"empty_proba", proba},
                                    {"test_f1", stat_json(row.f1)},
                                    {"test_accuracy", stat_json(row.accuracy)},
                                    {"train_rows", row.train_rows}};
      }
      break;
    case AnalysisKind::kTransfer: {
      for (const std::string& from : r.spec.datasets) {
        const auto fits = entries_of(r, "matrix", from);
        for (const std::string& on : r.spec.datasets) {
          j["matrix"][from][on] = {{"f1", stat_json(quality_stat(fits, on, &Quality::f1))},
                                   {"accuracy", stat_json(quality_stat(fits, on, &Quality::accuracy))}};
        }
      }
      json curve = json::array();
      for (const TransferCurvePoint& p : transfer_curve(r)) {
        curve.push_back({{"target_rows", p.rows},
                         {"fine_tune_f1", stat_json(p.fine_tune_f1)},
                         {"fine_tune_accuracy", stat_json(p.fine_tune_accuracy)},
                         {"scratch_f1", stat_json(p.scratch_f1)},
                         {"scratch_accuracy", stat_json(p.scratch_accuracy)}});
      }
      j["curve"] = curve;
      break;
    }
    case AnalysisKind::kForgetting:
      for (const char* role : {"d1", "full-d2", "linear-d2"}) {
        const auto fits = entries_of(r, role);
        json stage = json::object();
        for (const std::string& on : r.spec.datasets) {
          stage[on] = {{"accuracy", stat_json(quality_stat(fits, on, &Quality::accuracy))},
                       {"precision", stat_json(quality_stat(fits, on, &Quality::precision))},
                       {"recall", stat_json(quality_stat(fits, on, &Quality::recall))},
                       {"f1", stat_json(quality_stat(fits, on, &Quality::f1))}};
        }
        std::vector<double> seconds;
        for (const AnalysisEntry* e : fits) {
          if (const Figure* f = e->figure("fit.wall")) seconds.push_back(f->value);
        }
        stage["fit_seconds"] = stat_json(stat(seconds));
        j[role] = stage;
      }
      break;
  }
  return j;
}

}  // namespace

std::string analysis_to_json(const AnalysisResults& results) {
  json j{{"format", "opsbench-analysis"},
         {"version", kFormatVersion},
         {"name", results.name},
         {"description", results.description},
         {"file", results.path},
         {"seed", json_detail::seed_to_text(results.seed)},
         {"environment", json_detail::environment_to_json(results.environment)}};
  j["datasets"] = json::array();
  for (const AnalysisDataset& d : results.datasets) {
    json options = json::object();
    for (const auto& [k, v] : d.spec.options) options[k] = v;
    json files = json::array();
    for (const DataFile& f : d.files) files.push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
    j["datasets"].push_back(
        {{"name", d.spec.name},
         {"reader", d.spec.reader},
         {"options", options},
         {"description", d.description},
         {"synthetic", d.synthetic},
         {"rows", {{"train", d.train_rows}, {"validation", d.validation_rows}, {"test", d.test_rows}}},
         {"notes", d.notes},
         {"files", files},
         {"error", d.error}});
  }
  j["analyses"] = json::array();
  for (const AnalysisResult& r : results.analyses) {
    json a = spec_json(r.spec);
    a["method_canonical"] = r.method;
    if (!r.linear_method.empty()) a["linear_method_canonical"] = r.linear_method;
    a["status"] = r.failed() == 0 ? "ok" : (r.error.empty() ? "partial" : "failed");
    a["error"] = r.error;
    a["rules"] = r.rules;
    a["warnings"] = r.warnings;
    a["features"] = r.features;
    a["classes"] = r.classes;
    a["seconds"] = r.seconds;
    a["summary"] = summary_json(r);
    a["entries"] = json::array();
    for (const AnalysisEntry& e : r.entries) a["entries"].push_back(entry_json(e));
    j["analyses"].push_back(a);
  }
  j["failed"] = results.failed();
  return j.dump(2) + "\n";
}

}  // namespace opsbench
