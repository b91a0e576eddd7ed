// Running an analysis file (analysis.h): datasets read and prepared once, fits and evaluations
// through the Classifier interface, and the summaries shared by the writers.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "analysis_internal.h"
#include "opsbench/core/error.h"
#include "opsbench/core/measure.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/datasets/split.h"

namespace opsbench {
namespace analysis_detail {

namespace fs = std::filesystem;

namespace {

// `limit` rows of `table` (0 or more than it has: all), label-stratified: each class keeps its
// share rounded to nearest (at least one row of every class present), drawn from `seed`, returned in
// table order.
std::vector<std::size_t> stratified_rows(const Table& table, std::size_t limit, std::uint64_t seed) {
  std::vector<std::size_t> all(table.num_rows());
  for (std::size_t r = 0; r < all.size(); ++r) all[r] = r;
  if (limit == 0 || limit >= all.size()) return all;
  const Labels& labels = table.label();
  std::vector<std::vector<std::size_t>> by_class(labels.classes.size());
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (labels.values[r] >= 0) by_class[static_cast<std::size_t>(labels.values[r])].push_back(r);
  }
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> kept;
  for (auto& rows : by_class) {
    if (rows.empty()) continue;
    const double share = static_cast<double>(rows.size()) / static_cast<double>(all.size());
    const auto take =
        std::min(rows.size(),
                 std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(share * static_cast<double>(limit)))));
    portable_shuffle(rows, rng);
    kept.insert(kept.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(take));
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace

DataView Session::view(const AnalysisSpec& spec, const std::string& name) {
  const PreparedData& d = data(name);
  DataView v;
  v.train = d.parts->train;
  const auto validation_rows =
      stratified_rows(d.parts->validation, spec.validation_limit, seed(spec, name, "validation_limit", 0));
  const auto test_rows = stratified_rows(d.parts->test, spec.test_limit, seed(spec, name, "test_limit", 0));
  v.validation = d.parts->validation.take(validation_rows);
  v.test = d.parts->test.take(test_rows);
  v.raw_test = d.raw_test.take(test_rows);
  return v;
}

const PreparedData& Session::data(const std::string& name) {
  if (auto it = data_.find(name); it != data_.end()) return it->second;
  PreparedData& d = data_[name];
  const auto spec =
      std::find_if(file_.datasets.begin(), file_.datasets.end(), [&](const DatasetSpec& s) { return s.name == name; });
  AnalysisDataset record;
  record.spec = *spec;
  d.index = results_.datasets.size();
  try {
    const ReaderEntry& reader = registry_.reader(spec->reader);
    ReadContext rc;
    rc.data_root = options_.data_root;
    rc.base_dir = file_.base_dir;
    rc.seed = derive_seed(file_.seed, file_.name, name, "data", 0);
    progress("reading dataset '" + name + "' (" + spec->reader + ")");
    const Dataset dataset = reader.read(resolve(reader.options, spec->options, "reader " + reader.name), rc);
    record.description = dataset.description;
    record.synthetic = dataset.synthetic;
    record.files = dataset.files;
    // One split per dataset, shared by every analysis and seed: the analyses vary the fit, not the data.
    const std::uint64_t split_seed = derive_seed(file_.seed, file_.name, name, "split", 0);
    d.parts = prepare_split(dataset, name, Task::kClassify, file_.split, file_.preprocess, split_seed);
    std::vector<std::size_t> test_rows;
    if (dataset.given_split) {
      for (std::size_t r = 0; r < dataset.given_split->size(); ++r) {
        if ((*dataset.given_split)[r] == Part::kTest) test_rows.push_back(r);
      }
    } else {
      test_rows = split_rows(dataset.table, file_.split.kind, file_.split.ratios, split_seed).test;
    }
    d.raw_test = dataset.table.take(test_rows);
    if (d.raw_test.num_rows() != d.parts->test.num_rows())
      throw std::logic_error("raw and prepared test parts differ in rows");
    record.train_rows = d.parts->train.num_rows();
    record.validation_rows = d.parts->validation.num_rows();
    record.test_rows = d.parts->test.num_rows();
    record.notes = d.parts->notes;
  } catch (const std::exception& e) {
    d.parts.reset();
    d.error = "dataset '" + name + "': " + e.what();
    record.error = e.what();
  }
  results_.datasets.push_back(std::move(record));
  return d;
}

std::uint64_t Session::seed(const AnalysisSpec& spec, const std::string& dataset, const std::string& role,
                            int repetition) const {
  return derive_seed(file_.seed, file_.name, dataset, spec.name + "/" + role, repetition);
}

std::string Session::models_root(const AnalysisSpec& spec) const {
  const fs::path root = options_.out_dir.empty()
                            ? fs::temp_directory_path() / ("opsbench-analysis-" + std::to_string(::getpid()))
                            : fs::path(options_.out_dir);
  return fs::absolute(root / "models" / spec.name).string();
}

std::string Session::model_dir(const AnalysisSpec& spec, const std::string& leaf) const {
  const fs::path dir = fs::path(models_root(spec)) / leaf;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void Session::progress(const std::string& line) const {
  if (options_.on_progress) options_.on_progress(line);
}

ResolvedMethod with_overrides(const Registry& registry, const std::string& spec,
                              const std::vector<std::pair<std::string, std::string>>& overrides) {
  Spec parsed = parse_spec(spec);
  const MethodEntry& entry = registry.method(parsed.name);
  for (const auto& [key, value] : overrides) {
    const bool declared =
        std::any_of(entry.options.begin(), entry.options.end(), [&](const OptionDecl& d) { return d.name == key; });
    if (!declared) {
      throw ConfigError("method '" + entry.name + "' declares no '" + key +
                        "' option: it cannot save a fitted model and continue training from it (the bert-* "
                        "classifiers can)");
    }
    if (value.find_first_of(",=") != std::string::npos)
      throw ConfigError("path '" + value + "' contains ',' or '=', which a spec string cannot hold");
    auto it = std::find_if(parsed.values.begin(), parsed.values.end(), [&](const auto& kv) { return kv.first == key; });
    if (it != parsed.values.end()) {
      it->second = value;
    } else {
      parsed.values.emplace_back(key, value);
    }
  }
  std::string text = parsed.name;
  for (std::size_t i = 0; i < parsed.values.size(); ++i) {
    text += (i == 0 ? ":" : ",") + parsed.values[i].first + "=" + parsed.values[i].second;
  }
  return registry.resolve_method(text);
}

const Column& text_column_of(const Table& table, const std::string& column, const std::string& dataset) {
  const Column* found = nullptr;
  for (const Column& c : table.columns()) {
    if (c.type() != ColumnType::kText || (!column.empty() && c.name() != column)) continue;
    if (found) {
      throw DataError("dataset '" + dataset + "' has several text columns ('" + found->name() + "', '" + c.name() +
                      "'): choose one with text_column");
    }
    found = &c;
  }
  if (found) return *found;
  throw DataError("dataset '" + dataset + "' has no text column" + (column.empty() ? "" : " '" + column + "'") +
                  " after preprocessing: this analysis classifies sentences; use a text reader (flowbench-text, "
                  "hdfs-text) and keep [preprocess] text = \"keep\"");
}

Table text_view(const Table& table, const std::string& column, const std::string& dataset) {
  Table view;
  view.add_column(text_column_of(table, column, dataset));
  for (const Labels& l : table.labels()) view.add_labels(l);
  return view;
}

Context context_for(const AnalysisEntry& entry, int threads) {
  Context ctx;
  ctx.seed = entry.seed;
  ctx.threads = threads;
  return ctx;
}

std::unique_ptr<Classifier> fit(const ResolvedMethod& method, const Table& train, const Table* validation,
                                int num_classes, int threads, AnalysisEntry& entry) {
  std::unique_ptr<Classifier> classifier = method.entry->make_classifier(method.options);
  if (validation != nullptr && validation->num_rows() > 0 && validation->has_labels())
    classifier->set_validation_rows(*validation, validation->label().values);
  entry.train_rows = train.num_rows();
  const Context ctx = context_for(entry, threads);
  ctx.apply();
  PhaseMeter meter("fit");
  meter.start();
  classifier->fit(train, train.label().values, num_classes, ctx);
  for (Figure& f : meter.stop()) entry.figures.push_back(std::move(f));
  for (Figure& f : classifier->diagnostics()) entry.figures.push_back(std::move(f));
  for (auto& [key, value] : classifier->diagnostic_info()) entry.info[key] = value;
  return classifier;
}

Matrix predict(const Classifier& classifier, const Table& rows, int num_classes, const Context& ctx) {
  Matrix proba = classifier.predict_proba(rows, ctx);
  if (proba.rows != rows.num_rows() || proba.cols != static_cast<std::size_t>(num_classes))
    throw ModelError("the classifier returned a " + std::to_string(proba.rows) + " x " + std::to_string(proba.cols) +
                     " probability matrix for " + std::to_string(rows.num_rows()) + " rows and " +
                     std::to_string(num_classes) + " classes");
  for (double v : proba.data) {
    if (!std::isfinite(v)) throw ModelError("the classifier returned a non-finite probability");
  }
  return proba;
}

std::vector<int> argmax(const Matrix& proba) {
  std::vector<int> out(proba.rows);
  for (std::size_t r = 0; r < proba.rows; ++r) {
    const double* row = proba.row(r);
    out[r] = static_cast<int>(std::max_element(row, row + proba.cols) - row);
  }
  return out;
}

Quality quality(const std::vector<int>& truth, const std::vector<int>& predicted, int num_classes) {
  Quality q;
  q.rows = truth.size();
  const Average average = num_classes == 2 ? Average::kBinary : Average::kMacro;
  q.accuracy = accuracy(truth, predicted);
  q.precision = precision(truth, predicted, average, num_classes);
  q.recall = recall(truth, predicted, average, num_classes);
  q.f1 = f1(truth, predicted, average, num_classes);
  return q;
}

void evaluate(const Classifier& classifier, const Table& test, const std::string& dataset, int num_classes,
              const Context& ctx, AnalysisEntry& entry) {
  entry.quality[dataset] =
      quality(test.label().values, argmax(predict(classifier, test, num_classes, ctx)), num_classes);
}

Stat stat(const std::vector<double>& values) {
  Stat s;
  s.n = values.size();
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
  }
  return s;
}

std::vector<const AnalysisEntry*> entries_of(const AnalysisResult& result, const std::string& role,
                                             const std::string& dataset) {
  std::vector<const AnalysisEntry*> out;
  for (const AnalysisEntry& e : result.entries) {
    if (e.ok && e.role == role && (dataset.empty() || e.dataset == dataset)) out.push_back(&e);
  }
  return out;
}

Stat quality_stat(const std::vector<const AnalysisEntry*>& entries, const std::string& on, double Quality::*field) {
  std::vector<double> values;
  for (const AnalysisEntry* e : entries) {
    if (auto it = e->quality.find(on); it != e->quality.end()) values.push_back(it->second.*field);
  }
  return stat(values);
}

std::vector<OnlineSummary> online_summaries(const AnalysisResult& result) {
  std::vector<OnlineSummary> out;
  for (const std::string& dataset : result.spec.datasets) {
    OnlineSummary s;
    s.dataset = dataset;
    const auto fits = entries_of(result, "fit", dataset);
    if (fits.empty()) continue;
    const std::size_t p_max = fits.front()->prefix_accuracy.size();
    s.accuracy.resize(p_max);
    s.first_right.assign(p_max + 1, 0.0);
    s.stable_from.assign(p_max + 1, 0.0);
    for (std::size_t p = 0; p < p_max; ++p) {
      std::vector<double> values;
      for (const AnalysisEntry* e : fits) values.push_back(e->prefix_accuracy[p]);
      s.accuracy[p] = stat(values);
    }
    for (const AnalysisEntry* e : fits) {
      for (std::size_t p = 0; p <= p_max; ++p) {
        s.first_right[p] += static_cast<double>(e->first_right[p]) / static_cast<double>(fits.size());
        s.stable_from[p] += static_cast<double>(e->stable_from[p]) / static_cast<double>(fits.size());
      }
    }
    s.seeds = fits.size();
    auto q = fits.front()->quality.find(dataset);
    s.rows = q == fits.front()->quality.end() ? 0 : q->second.rows;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<DebiasRow> debias_rows(const AnalysisResult& result) {
  std::vector<DebiasRow> out;
  for (const std::string& dataset : result.spec.datasets) {
    for (const char* role : {"before", "after"}) {
      const auto fits = entries_of(result, role, dataset);
      DebiasRow row;
      row.dataset = dataset;
      row.role = role;
      for (std::size_t c = 0; c < result.classes.size(); ++c) {
        std::vector<double> values;
        for (const AnalysisEntry* e : fits) {
          if (c < e->empty_proba.size()) values.push_back(e->empty_proba[c]);
        }
        row.empty_proba.push_back(stat(values));
      }
      row.f1 = quality_stat(fits, dataset, &Quality::f1);
      row.accuracy = quality_stat(fits, dataset, &Quality::accuracy);
      row.train_rows = fits.empty() ? 0 : fits.front()->train_rows;
      out.push_back(std::move(row));
    }
  }
  return out;
}

std::vector<TransferCurvePoint> transfer_curve(const AnalysisResult& result) {
  std::vector<TransferCurvePoint> out;
  const std::string& target = result.spec.target;
  TransferCurvePoint zero;  // the source model before any target row
  const auto source = entries_of(result, "matrix", result.spec.source);
  zero.fine_tune_f1 = quality_stat(source, target, &Quality::f1);
  zero.fine_tune_accuracy = quality_stat(source, target, &Quality::accuracy);
  out.push_back(zero);
  for (std::size_t n : result.spec.target_rows) {
    TransferCurvePoint p;
    p.rows = n;
    std::vector<const AnalysisEntry*> fine, scratch;
    for (const AnalysisEntry* e : entries_of(result, "fine-tune", target)) {
      if (e->info.count("target_rows.asked") && e->info.at("target_rows.asked") == std::to_string(n)) fine.push_back(e);
    }
    for (const AnalysisEntry* e : entries_of(result, "scratch", target)) {
      if (e->info.count("target_rows.asked") && e->info.at("target_rows.asked") == std::to_string(n))
        scratch.push_back(e);
    }
    p.fine_tune_f1 = quality_stat(fine, target, &Quality::f1);
    p.fine_tune_accuracy = quality_stat(fine, target, &Quality::accuracy);
    p.scratch_f1 = quality_stat(scratch, target, &Quality::f1);
    p.scratch_accuracy = quality_stat(scratch, target, &Quality::accuracy);
    out.push_back(p);
  }
  return out;
}

}  // namespace analysis_detail

using namespace analysis_detail;

const Figure* AnalysisEntry::figure(const std::string& name) const {
  for (const Figure& f : figures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::size_t AnalysisResult::failed() const {
  std::size_t n = error.empty() ? 0 : 1;
  for (const AnalysisEntry& e : entries) n += e.ok ? 0 : 1;
  return n;
}

std::size_t AnalysisResults::failed() const {
  std::size_t n = 0;
  for (const AnalysisResult& a : analyses) n += a.failed();
  return n;
}

AnalysisResults run_analyses(const AnalysisFile& file, const Registry& registry, const AnalysisRunOptions& options) {
  AnalysisResults results;
  results.name = file.name;
  results.description = file.description;
  results.path = file.path;
  results.seed = file.seed;
  results.environment = capture_environment(options.command_line);
  results.environment.set("threads", std::to_string(options.threads));
  Session session(file, registry, options, results);
  for (const AnalysisSpec& spec : file.analyses) {
    const auto start = std::chrono::steady_clock::now();
    AnalysisResult result;
    result.spec = spec;
    result.method = registry.resolve_method(spec.method).canonical_spec;
    if (!spec.linear_method.empty()) result.linear_method = registry.resolve_method(spec.linear_method).canonical_spec;
    session.progress("analysis '" + spec.name + "' (" + to_string(spec.kind) + ", " + result.method + ")");
    for (const std::string& name : spec.datasets) {
      const PreparedData& d = session.data(name);
      if (!d.error.empty()) result.error += (result.error.empty() ? "" : "; ") + d.error;
      if (d.parts && result.classes.empty()) result.classes = d.parts->train.label().classes;
      if (d.parts && d.parts->train.label().classes != result.classes) {
        result.error += (result.error.empty() ? "" : "; ") + std::string("dataset '") + name +
                        "' has other classes than '" + spec.datasets.front() + "'";
      }
    }
    if (result.error.empty()) {
      try {
        switch (spec.kind) {
          case AnalysisKind::kOnline:
            run_online(session, result);
            break;
          case AnalysisKind::kDebias:
            run_debias(session, result);
            break;
          case AnalysisKind::kTransfer:
            run_transfer(session, result);
            break;
          case AnalysisKind::kForgetting:
            run_forgetting(session, result);
            break;
        }
      } catch (const std::exception& e) {
        result.error = e.what();
      }
    }
    if (!spec.keep_models) {
      std::error_code ignored;
      const fs::path root = session.models_root(spec);
      fs::remove_all(root, ignored);
      fs::remove(root.parent_path(), ignored);  // models/ itself once empty
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    results.analyses.push_back(std::move(result));
  }
  if (options.out_dir.empty()) {
    std::error_code ignored;
    fs::remove_all(fs::temp_directory_path() / ("opsbench-analysis-" + std::to_string(::getpid())), ignored);
  }
  return results;
}

}  // namespace opsbench
