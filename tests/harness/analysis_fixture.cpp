// The analysis tests' fixture (see analysis_fixture.h).
#include "analysis_fixture.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "opsbench/baselines/register.h"
#include "opsbench/core/error.h"
#include "opsbench/core/metric_list.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/transforms.h"
#include "opsbench/harness/register_all.h"
#include "opsbench/harness/report_markdown.h"

using namespace opsbench;
namespace fs = std::filesystem;

namespace {

// ---- a tiny Flow-Bench look-alike --------------------------------------------------------------
// Rows carry four template features with values in {1, 2, 3}; anomalous rows (every fourth) carry
// 7, 8 or 9 in feature `signal` instead, except every third of them (hidden anomalies). The text
// column is textualise() of the features, as the flowbench-text reader writes it. Split given:
// 60% train, 20% validation, 20% test, in row order.
Dataset toy_text(const Options& o, const ReadContext& ctx) {
  if (o.get_bool("fail")) throw DataError("toy-text: asked to fail");
  const auto rows = static_cast<std::size_t>(o.get_int("rows"));
  const auto signal = static_cast<std::size_t>(o.get_int("signal"));
  const std::vector<std::string> names = {"wms_delay", "queue_delay", "runtime", "post_script_delay"};
  std::mt19937_64 rng(ctx.seed ^ static_cast<std::uint64_t>(o.get_int("shift")));
  std::vector<std::vector<double>> values(names.size());
  Labels labels;
  labels.name = "label";
  labels.classes = {"normal", "anomalous"};
  int anomalies = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const bool anomalous = r % 4 == 0;
    const bool hidden = anomalous && anomalies++ % 3 == 2;
    for (std::size_t f = 0; f < names.size(); ++f) {
      const double base = 1.0 + static_cast<double>(uniform_below(rng, 3));
      values[f].push_back(anomalous && !hidden && f == signal ? base + 6 + static_cast<double>(o.get_int("shift"))
                                                              : base);
    }
    labels.values.push_back(anomalous ? 1 : 0);
  }
  Dataset d;
  Table features;
  for (std::size_t f = 0; f < names.size(); ++f) features.add_column(Column::numeric(names[f], values[f]));
  if (!o.get_bool("textless")) d.table.add_column(Column::text("text", textualise(features)));
  for (const Column& c : features.columns()) d.table.add_column(c);
  d.table.add_labels(labels);
  std::vector<Part> split(rows, Part::kTrain);
  for (std::size_t r = rows * 6 / 10; r < rows; ++r) split[r] = r < rows * 8 / 10 ? Part::kValidation : Part::kTest;
  d.given_split = split;
  d.synthetic = true;
  d.description = "toy Flow-Bench sentences (" + std::to_string(rows) + " rows)";
  return d;
}

// ---- a bag-of-words naive Bayes over the text column ---------------------------------------------
// Stands in for the bert-* classifiers: it declares `save` and `weights` (a directory with
// model.txt), continues training from loaded counts, and its "linear" variant keeps the loaded word
// counts frozen and refits only the class priors (the head). `subsample` keeps each training row
// with that probability, drawn from the seed, so that seeds matter.
class NaiveBayes : public Classifier {
 public:
  NaiveBayes(const Options& o, bool linear)
      : linear_(linear),
        alpha_(o.get_double("alpha")),
        subsample_(o.get_double("subsample")),
        save_(o.get_string("save")),
        weights_(o.get_string("weights")) {}

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override {
    const auto k = static_cast<std::size_t>(num_classes);
    rows_.assign(k, 0.0);
    counts_.clear();
    if (!weights_.empty()) load();
    std::mt19937_64 rng = ctx.rng(7);
    const auto& texts = text(train).texts();
    for (std::size_t r = 0; r < texts.size(); ++r) {
      if (subsample_ < 1 && static_cast<double>(uniform_below(rng, 1000000)) >= subsample_ * 1e6) continue;
      const auto y = static_cast<std::size_t>(labels[r]);
      rows_[y] += 1;
      if (linear_) continue;
      std::istringstream words(texts[r]);
      for (std::string w; words >> w;) {
        auto& c = counts_[w];
        c.resize(k, 0.0);
        c[y] += 1;
      }
    }
    if (!save_.empty()) store();
  }

  Matrix predict_proba(const Table& rows, const Context&) const override {
    const auto& texts = text(rows).texts();
    const std::size_t k = rows_.size();
    std::vector<double> totals(k, 0.0);
    for (const auto& [w, c] : counts_) {
      for (std::size_t y = 0; y < k; ++y) totals[y] += c[y];
    }
    double n = 0;
    for (double v : rows_) n += v;
    Matrix out(texts.size(), k);
    for (std::size_t r = 0; r < texts.size(); ++r) {
      std::vector<double> logp(k);
      for (std::size_t y = 0; y < k; ++y) logp[y] = std::log((rows_[y] + 1) / (n + static_cast<double>(k)));
      std::istringstream words(texts[r]);
      for (std::string w; words >> w;) {
        const auto it = counts_.find(w);
        for (std::size_t y = 0; y < k; ++y) {
          const double c = it == counts_.end() ? 0 : it->second[y];
          logp[y] += std::log((c + alpha_) / (totals[y] + alpha_ * static_cast<double>(counts_.size() + 1)));
        }
      }
      const double top = *std::max_element(logp.begin(), logp.end());
      double sum = 0;
      for (double& v : logp) sum += (v = std::exp(v - top));
      for (std::size_t y = 0; y < k; ++y) out(r, y) = logp[y] / sum;
    }
    return out;
  }

  std::size_t model_size_bytes() const override { return (counts_.size() + 1) * rows_.size() * sizeof(double); }

 private:
  static const Column& text(const Table& t) {
    for (const Column& c : t.columns()) {
      if (c.type() == ColumnType::kText) return c;
    }
    throw DataError("nbayes: the table has no text column");
  }

  void store() const {
    fs::create_directories(save_);
    std::ofstream out(fs::path(save_) / "model.txt");
    for (double v : rows_) out << "rows " << v << "\n";
    for (const auto& [w, c] : counts_) {
      out << "word " << w;
      for (double v : c) out << ' ' << v;
      out << "\n";
    }
  }

  void load() {
    std::ifstream in(fs::path(weights_) / "model.txt");
    if (!in) throw DataError(weights_ + "/model.txt: cannot open");
    std::vector<double> rows;
    for (std::string kind; in >> kind;) {
      if (kind == "rows") {
        double v = 0;
        in >> v;
        rows.push_back(v);
      } else {
        std::string w;
        in >> w;
        auto& c = counts_[w];
        c.resize(rows_.size(), 0.0);
        for (double& v : c) in >> v;
      }
    }
    if (rows.size() != rows_.size()) throw DataError(weights_ + "/model.txt: another number of classes");
    rows_ = rows;
  }

  bool linear_;
  double alpha_, subsample_;
  std::string save_, weights_;
  std::vector<double> rows_;
  std::map<std::string, std::vector<double>> counts_;
};

class Failing : public Classifier {
 public:
  void fit(const Table&, const std::vector<int>&, int, const Context&) override {
    throw ModelError("failing classifier refuses to fit");
  }
  Matrix predict_proba(const Table&, const Context&) const override { return {}; }
  std::size_t model_size_bytes() const override { return 0; }
};

}  // namespace

namespace opsbench::analysis_test {

const Registry& test_registry() {
  static const Registry registry = [] {
    Registry r;
    register_metrics(r);
    register_baselines(r);
    ReaderEntry toy;
    toy.name = "toy-text";
    toy.description = "tiny Flow-Bench look-alike sentences (tests)";
    toy.synthetic = true;
    toy.options = {OptionDecl::integer("rows", 80, 8, 100000, "rows"),
                   OptionDecl::integer("signal", 2, 0, 3, "feature that carries the anomaly"),
                   OptionDecl::integer("shift", 0, 0, 10, "value shift of the anomaly (another workflow)"),
                   OptionDecl::boolean("textless", false, "leave the text column out"),
                   OptionDecl::boolean("fail", false, "throw when read")};
    toy.read = toy_text;
    r.add(toy);
    for (bool linear : {false, true}) {
      MethodEntry nb;
      nb.name = linear ? "nbayes-linear" : "nbayes";
      nb.kind = MethodKind::kClassifier;
      nb.description = "bag-of-words naive Bayes (tests)";
      nb.options = {OptionDecl::real("alpha", 1.0, 1e-6, 100.0, "smoothing"),
                    OptionDecl::real("subsample", 1.0, 0.01, 1.0, "share of training rows kept (seeded)"),
                    OptionDecl::string("save", "", "directory to save to"),
                    OptionDecl::string("weights", "", "directory to continue from")};
      nb.make_classifier = [linear](const Options& o) { return std::make_unique<NaiveBayes>(o, linear); };
      r.add(nb);
    }
    MethodEntry failing;
    failing.name = "failing";
    failing.kind = MethodKind::kClassifier;
    failing.description = "throws in fit (tests)";
    failing.make_classifier = [](const Options&) { return std::make_unique<Failing>(); };
    r.add(failing);
    return r;
  }();
  return registry;
}

const char* const kDatasets = R"(
name = "analysis-test"
seed = 11

[[datasets]]
name = "wf-a"
reader = "toy-text"
options = { rows = 80 }

[[datasets]]
name = "wf-b"
reader = "toy-text"
options = { rows = 80, signal = 1, shift = 1 }
)";

AnalysisFile parse(const std::string& analyses) {
  return parse_analysis_file(kDatasets + analyses, "analyses.toml", test_registry());
}

std::string message_of(const std::string& analyses) {
  try {
    parse(analyses);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

AnalysisResults run(const AnalysisFile& file, const std::string& out) {
  AnalysisRunOptions options;
  options.out_dir = out;
  return run_analyses(file, test_registry(), options);
}

const char* const kAllKinds = R"(
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["wf-a"]

[[analyses]]
kind = "debias"
method = "nbayes:subsample=0.8"
datasets = ["wf-a"]
seeds = 3
augment = 20

[[analyses]]
kind = "transfer"
method = "nbayes"
datasets = ["wf-a", "wf-b"]
source = "wf-a"
target = "wf-b"
target_rows = [4, 16, 48]

[[analyses]]
kind = "forgetting"
method = "nbayes"
linear_method = "nbayes-linear"
datasets = ["wf-a", "wf-b"]
published_accuracy = [0.8155, 0.7065, 0.7305]
published_source = "Jin et al. 2024, Table II"
)";

}  // namespace opsbench::analysis_test
