// Private to harness/src/analysis*.cpp: the shared machinery of the four analyses (reading and
// preparing datasets once, fitting and evaluating through the Classifier interface) and the
// summaries that both the JSON and the Markdown writers print, so the two never disagree.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "opsbench/core/context.h"
#include "opsbench/core/method.h"
#include "opsbench/core/registry.h"
#include "opsbench/harness/analysis.h"
#include "opsbench/harness/cell.h"

namespace opsbench {
namespace analysis_detail {

// A dataset read and split once for every analysis of the file.
struct PreparedData {
  std::size_t index = 0;  // into AnalysisResults::datasets
  std::optional<PreparedSplit> parts;
  Table raw_test;  // the test rows as read (before preprocessing), in the order of parts->test
  std::string error;
};

// The parts one analysis uses: the prepared parts with its validation_limit and test_limit
// applied, and the raw test rows that match the test part row for row.
struct DataView {
  Table train;
  Table validation;
  Table test;
  Table raw_test;
};

class Session {
 public:
  Session(const AnalysisFile& file, const Registry& registry, const AnalysisRunOptions& options,
          AnalysisResults& results)
      : file_(file), registry_(registry), options_(options), results_(results) {}

  // Reads and prepares `name` on first use; later calls return the same object. Never throws: a
  // failure is in error and in the dataset's record.
  const PreparedData& data(const std::string& name);
  // data(name) with the analysis' limits applied (call only when data(name) has no error).
  DataView view(const AnalysisSpec& spec, const std::string& name);
  std::uint64_t seed(const AnalysisSpec& spec, const std::string& dataset, const std::string& role,
                     int repetition) const;
  // <out>/models/<analysis>: where the analysis saves models that later stages continue from.
  std::string models_root(const AnalysisSpec& spec) const;
  // models_root/<leaf>, created empty.
  std::string model_dir(const AnalysisSpec& spec, const std::string& leaf) const;
  void progress(const std::string& line) const;

  const Registry& registry() const { return registry_; }
  int threads() const { return options_.threads; }

 private:
  const AnalysisFile& file_;
  const Registry& registry_;
  const AnalysisRunOptions& options_;
  AnalysisResults& results_;
  std::map<std::string, PreparedData> data_;
};

// The spec with `overrides` replacing or adding keys (the continued-training options save and
// weights). ConfigError when the method does not declare one of them: it cannot save or reload.
ResolvedMethod with_overrides(const Registry& registry, const std::string& spec,
                              const std::vector<std::pair<std::string, std::string>>& overrides);

// The text column and the labels only (the analyses that read sentences). DataError naming the
// dataset when there is no text column or several and none chosen.
Table text_view(const Table& table, const std::string& column, const std::string& dataset);
const Column& text_column_of(const Table& table, const std::string& column, const std::string& dataset);

// One fit, timed with PhaseMeter into entry.figures, with the method's diagnostics. The entry's
// seed is the fit's seed. Throws what the method throws.
std::unique_ptr<Classifier> fit(const ResolvedMethod& method, const Table& train, const Table* validation,
                                int num_classes, int threads, AnalysisEntry& entry);
// Class probabilities, checked for shape and finiteness.
Matrix predict(const Classifier& classifier, const Table& rows, int num_classes, const Context& ctx);
std::vector<int> argmax(const Matrix& proba);
Quality quality(const std::vector<int>& truth, const std::vector<int>& predicted, int num_classes);
// Predicts `test` and fills entry.quality[dataset].
void evaluate(const Classifier& classifier, const Table& test, const std::string& dataset, int num_classes,
              const Context& ctx, AnalysisEntry& entry);
Context context_for(const AnalysisEntry& entry, int threads);

// Runs `body` on a fresh entry; an exception marks it failed with the message. Appends it.
template <typename Body>
AnalysisEntry& record(AnalysisResult& result, AnalysisEntry entry, Body&& body) {
  try {
    body(entry);
  } catch (const std::exception& e) {
    entry.ok = false;
    entry.error = e.what();
  }
  result.entries.push_back(std::move(entry));
  return result.entries.back();
}

void run_online(Session& session, AnalysisResult& result);
void run_debias(Session& session, AnalysisResult& result);
void run_transfer(Session& session, AnalysisResult& result);
void run_forgetting(Session& session, AnalysisResult& result);

// ---- summaries shared by analysis_json.cpp and analysis_markdown.cpp ----

struct Stat {
  double mean = 0;
  double sd = 0;  // sample standard deviation; 0 for one value
  std::size_t n = 0;
};
Stat stat(const std::vector<double>& values);

// The ok entries of one role (and dataset, "" = any), in order.
std::vector<const AnalysisEntry*> entries_of(const AnalysisResult& result, const std::string& role,
                                             const std::string& dataset = "");
// A quality field over entries, evaluated on `on`; entries without it are skipped.
Stat quality_stat(const std::vector<const AnalysisEntry*>& entries, const std::string& on, double Quality::*field);

struct OnlineSummary {
  std::string dataset;
  std::size_t seeds = 0;            // ok fits
  std::vector<Stat> accuracy;       // [p - 1]
  std::vector<double> first_right;  // mean count over seeds; back() = never
  std::vector<double> stable_from;  // mean count over seeds; back() = not at P
  std::size_t rows = 0;
};
std::vector<OnlineSummary> online_summaries(const AnalysisResult& result);

struct DebiasRow {
  std::string dataset;
  std::string role;  // before | after
  std::vector<Stat> empty_proba;
  Stat f1, accuracy;
  std::size_t train_rows = 0;
};
std::vector<DebiasRow> debias_rows(const AnalysisResult& result);

struct TransferCurvePoint {
  std::size_t rows = 0;
  Stat fine_tune_f1, scratch_f1, fine_tune_accuracy, scratch_accuracy;
};
std::vector<TransferCurvePoint> transfer_curve(const AnalysisResult& result);

}  // namespace analysis_detail
}  // namespace opsbench
