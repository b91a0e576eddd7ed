#include "opsbench/harness/cell.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

#include "opsbench/core/error.h"
#include "opsbench/core/threshold.h"
#include "opsbench/datasets/resample.h"
#include "opsbench/datasets/split.h"
#include "opsbench/datasets/tfidf.h"
#include "opsbench/datasets/transforms.h"
#include "opsbench/harness/store.h"

namespace opsbench {
namespace {

std::string class_summary(const Table& table) {
  const Labels& labels = table.label();
  const auto counts = labels.class_counts();
  std::string out;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (!out.empty()) out += ", ";
    out += labels.classes[c] + ": " + std::to_string(counts[c]);
  }
  return out;
}

void require_usable(const Table& part, const std::string& part_name, const std::string& dataset, Task task,
                    bool need_two_classes) {
  if (part.num_rows() == 0) throw DataError("dataset '" + dataset + "': the " + part_name + " part is empty");
  if (!need_two_classes) return;
  if (!part.has_labels()) throw DataError("dataset '" + dataset + "' has no label column: metrics need labels");
  const auto counts = part.label().class_counts();
  const auto present = std::count_if(counts.begin(), counts.end(), [](std::size_t c) { return c > 0; });
  if (present < 2) {
    throw DataError("dataset '" + dataset + "': the " + part_name + " part holds a single class (" +
                    class_summary(part) + "); " + (task == Task::kDetect ? "detection" : "classification") +
                    " metrics need both normal and anomalous rows: change the split or the data");
  }
}

std::vector<std::unique_ptr<Transform>> make_pipeline(const PreprocessSpec& p) {
  std::vector<std::unique_ptr<Transform>> steps;
  if (p.impute != "none") steps.push_back(make_imputer(p.impute));
  if (p.encode == "onehot") steps.push_back(make_onehot_encoder());
  if (p.encode == "ordinal") steps.push_back(make_ordinal_encoder());
  steps.push_back(make_drop_non_numeric(p.text == "keep"));
  if (p.weight == "tfidf") steps.push_back(make_tfidf_transform());
  if (p.scale == "standard") steps.push_back(make_standard_scaler());
  if (p.scale == "minmax") steps.push_back(make_minmax_scaler());
  return steps;
}

// Row ranges of the latency loop are fixed by (rows, options); slicing them ahead keeps Table::take
// out of the timed calls.
std::map<std::pair<std::size_t, std::size_t>, Table> slice_batches(const Table& rows, const LatencyOptions& options) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  measure_latency([&](std::size_t begin, std::size_t count) { ranges.emplace_back(begin, count); }, rows.num_rows(),
                  options);
  std::map<std::pair<std::size_t, std::size_t>, Table> batches;
  for (const auto& r : ranges) {
    if (batches.count(r)) continue;
    std::vector<std::size_t> idx(r.second);
    std::iota(idx.begin(), idx.end(), r.first);
    batches.emplace(r, rows.take(idx));
  }
  return batches;
}

Figure unavailable(const std::string& name, const std::string& unit, const std::string& reason) {
  Figure f;
  f.name = name;
  f.unit = unit;
  f.available = false;
  f.reason = reason;
  return f;
}

void append(std::vector<Figure>& to, std::vector<Figure> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

void check_finite(const std::vector<double>& scores, const std::string& method) {
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw ModelError(method + " produced a non-finite score (" + std::to_string(scores[i]) + ") for row " +
                       std::to_string(i));
    }
  }
}

// Times one phase (wall, CPU, peak RSS) and its energy.
template <typename Fn>
void metered(const std::string& phase, const CellOptions& options, RunRecord& record, Fn&& fn) {
  PhaseMeter meter(phase);
  if (options.energy) options.energy->start();
  meter.start();
  fn();
  append(record.figures, meter.stop());
  if (options.energy) {
    append(record.figures, options.energy->stop(phase));
  } else {
    record.figures.push_back(unavailable("energy." + phase, "J", "energy measurement not requested"));
  }
}

// What every fitted method adds to its record: the latency distribution of its scoring call on
// test batches, its model size and its own diagnostics.
template <typename Method, typename ScoreBatch>
void record_after_fit(const Method& method, const char* family, const Table& test, const CellOptions& options,
                      ScoreBatch&& score_batch, RunRecord& record) {
  if (options.measure.latency) {
    const auto batches = slice_batches(test, options.measure.latency_options);
    append(record.figures,
           measure_latency([&](std::size_t begin, std::size_t count) { score_batch(batches.at({begin, count})); },
                           test.num_rows(), options.measure.latency_options));
  }
  Figure size;
  size.name = "model_size";
  size.value = static_cast<double>(method.model_size_bytes());
  size.unit = "bytes";
  size.source = std::string(family) + "::model_size_bytes (fitted state)";
  record.figures.push_back(size);
  append(record.figures, method.diagnostics());
  for (auto& [key, value] : method.diagnostic_info()) record.info[key] = value;
}

void evaluate_detector(const ResolvedMethod& method, const PreparedSplit& parts, const CellOptions& options,
                       const Context& ctx, RunRecord& record) {
  std::unique_ptr<Detector> detector = method.entry->make_detector(method.options);
  detector->set_evaluation_rows(parts.test);
  metered("fit", options, record, [&] { detector->fit(parts.train, ctx); });
  std::vector<double> test_scores;
  metered("score", options, record, [&] { test_scores = detector->score(parts.test, ctx); });
  check_finite(test_scores, method.canonical_spec);
  if (test_scores.size() != parts.test.num_rows()) {
    throw ModelError(method.canonical_spec + " returned " + std::to_string(test_scores.size()) + " scores for " +
                     std::to_string(parts.test.num_rows()) + " rows");
  }

  const ThresholdPolicy policy = ThresholdPolicy::parse(options.threshold.policy, options.threshold.value);
  std::vector<double> train_scores = detector->score(parts.train, ctx);
  check_finite(train_scores, method.canonical_spec);
  std::vector<double> validation_scores;
  std::vector<int> validation_labels;
  if (parts.validation.num_rows() > 0) {
    validation_scores = detector->score(parts.validation, ctx);
    check_finite(validation_scores, method.canonical_spec);
    if (parts.validation.has_labels()) validation_labels = parts.validation.label().values;
  }
  const double threshold = compute_threshold(policy, train_scores, validation_scores, validation_labels);
  record.info["threshold"] = policy.canonical() + " -> " + format_double(threshold);

  record_after_fit(
      *detector, "Detector", parts.test, options,
      [&](const Table& batch) {
        if (detector->score(batch, ctx).empty()) throw ModelError("empty score batch");
      },
      record);

  MetricInput input;
  input.y_true = parts.test.label().values;
  input.scores = std::move(test_scores);
  input.y_pred = apply_threshold(input.scores, threshold);
  input.num_classes = 2;
  for (const MetricEntry* metric : options.metrics) record.metrics[metric->name] = metric->compute(input);
}

void evaluate_classifier(const ResolvedMethod& method, const PreparedSplit& parts, const CellOptions& options,
                         const Context& ctx, RunRecord& record) {
  std::unique_ptr<Classifier> classifier = method.entry->make_classifier(method.options);
  const Labels& labels = parts.train.label();
  if (parts.validation.num_rows() > 0 && parts.validation.has_labels())
    classifier->set_validation_rows(parts.validation, parts.validation.label().values);
  metered("fit", options, record, [&] { classifier->fit(parts.train, labels.values, labels.num_classes(), ctx); });
  Matrix proba;
  metered("predict", options, record, [&] { proba = classifier->predict_proba(parts.test, ctx); });
  if (proba.rows != parts.test.num_rows() || proba.cols != static_cast<std::size_t>(labels.num_classes())) {
    throw ModelError(method.canonical_spec + " returned a probability matrix of the wrong shape");
  }
  check_finite(proba.data, method.canonical_spec);
  record_after_fit(
      *classifier, "Classifier", parts.test, options, [&](const Table& batch) { classifier->predict_proba(batch, ctx); },
      record);

  MetricInput input;
  input.y_true = parts.test.label().values;
  input.num_classes = labels.num_classes();
  input.y_pred.resize(proba.rows);
  for (std::size_t r = 0; r < proba.rows; ++r) {
    const double* row = proba.row(r);
    input.y_pred[r] = static_cast<int>(std::max_element(row, row + proba.cols) - row);
  }
  if (proba.cols == 2) {
    input.scores.resize(proba.rows);
    for (std::size_t r = 0; r < proba.rows; ++r) input.scores[r] = proba(r, 1);
  }
  input.proba = std::move(proba);
  for (const MetricEntry* metric : options.metrics) record.metrics[metric->name] = metric->compute(input);
}

}  // namespace

PreparedSplit prepare_split(const Dataset& dataset, const std::string& dataset_name, Task task,
                            const SplitSpec& split, const PreprocessSpec& preprocess, std::uint64_t seed,
                            const ResampleSpec& resample) {
  PreparedSplit out;
  Table resampled_whole;
  const bool before_split = resample.method != "none" && resample.protocol == "before-split";
  if (before_split) {
    if (dataset.given_split) throw ConfigError("dataset '" + dataset_name + "': resampling before the split needs a suite split, not the dataset's own");
    std::string note;
    resampled_whole = resample_table(dataset.table, resample.method, resample.k_neighbors, seed ^ 0x2e5a3ULL, 1, &note);
    out.notes.push_back("resample=" + note + " (before the split)");
    out.notes.push_back(std::string("warning=") + kResampleBeforeSplitWarning);
  }
  const Table& table = before_split ? resampled_whole : dataset.table;
  SplitIndices idx;
  if (dataset.given_split) {
    const auto& parts = *dataset.given_split;
    for (std::size_t r = 0; r < parts.size(); ++r) {
      (parts[r] == Part::kTrain ? idx.train : parts[r] == Part::kValidation ? idx.validation : idx.test).push_back(r);
    }
    out.notes.push_back("split=given by the dataset's files");
  } else {
    if (split.kind == SplitKind::kGroup && !table.has_groups()) {
      throw DataError("dataset '" + dataset_name + "' has no groups; split kind 'group' needs a group column");
    }
    idx = split_rows(table, split.kind, split.ratios, seed);
    out.notes.push_back(std::string("split=") + to_string(split.kind) + " " + format_double(split.ratios.train) +
                        "/" + format_double(split.ratios.validation) + "/" + format_double(split.ratios.test));
  }
  if (split.train_contamination >= 0) {
    if (!table.has_labels()) throw DataError("dataset '" + dataset_name + "': train_contamination needs labels");
    idx.train = control_contamination(table, idx.train, split.train_contamination, seed ^ 0x5bd1e995ULL);
    out.notes.push_back("train_contamination=" + format_double(split.train_contamination));
  }
  Table train = table.take(idx.train);
  Table validation = table.take(idx.validation);
  Table test = table.take(idx.test);
  require_usable(train, "train", dataset_name, task, task == Task::kClassify);
  require_usable(test, "test", dataset_name, task, true);

  for (auto& step : make_pipeline(preprocess)) {
    step->fit(train);
    train = step->transform(train);
    validation = step->transform(validation);
    test = step->transform(test);
  }
  out.notes.push_back("preprocess=impute:" + preprocess.impute + ",encode:" + preprocess.encode +
                      ",scale:" + preprocess.scale +
                      (preprocess.weight != "none" ? ",weight:" + preprocess.weight : ""));
  if (resample.method != "none" && !before_split) {
    std::string note;
    train = resample_table(train, resample.method, resample.k_neighbors, seed ^ 0x2e5a3ULL, 1, &note);
    out.notes.push_back("resample=" + note + " (training part only)");
  }
  out.train = std::move(train);
  out.validation = std::move(validation);
  out.test = std::move(test);
  return out;
}

void run_cell(const ResolvedMethod& method, const PreparedSplit& parts, const CellOptions& options,
              RunRecord& record) {
  record.started_at = utc_now_iso8601();
  record.status = CellStatus::kOk;
  record.info["rows.train"] = std::to_string(parts.train.num_rows());
  record.info["rows.validation"] = std::to_string(parts.validation.num_rows());
  record.info["rows.test"] = std::to_string(parts.test.num_rows());
  record.info["features"] = std::to_string(parts.train.num_columns());
  record.info["threads"] = std::to_string(options.threads);
  for (const auto& note : parts.notes) {
    const auto eq = note.find('=');
    record.info[note.substr(0, eq)] = note.substr(eq + 1);
  }
  try {
    Context ctx;
    ctx.seed = record.seed;
    ctx.threads = options.threads;
    ctx.apply();
    if (options.task == Task::kDetect || method.entry->kind == MethodKind::kDetector) {
      if (options.task == Task::kClassify && parts.test.label().num_classes() != 2)
        throw DataError("detector " + method.canonical_spec + " in a classify suite needs two classes (1 = anomalous), not " +
                        std::to_string(parts.test.label().num_classes()));
      evaluate_detector(method, parts, options, ctx, record);
    } else {
      const auto search = std::find_if(options.search.begin(), options.search.end(),
                                       [&](const SearchSpec& s) { return s.method == method.entry->name; });
      if (search == options.search.end()) {
        evaluate_classifier(method, parts, options, ctx, record);
      } else {
        evaluate_classifier(random_search(method, *search, parts.train, options.metrics, ctx, record), parts, options,
                            ctx, record);
      }
    }
    for (const auto& [name, value] : record.metrics) {
      if (!std::isfinite(value)) throw ModelError("metric " + name + " is not finite");
    }
  } catch (const std::exception& e) {
    record.status = CellStatus::kFailed;
    record.error = e.what();
    record.metrics.clear();
  }
}

}  // namespace opsbench
