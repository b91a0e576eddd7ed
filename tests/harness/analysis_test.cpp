// Analyses (harness/analysis.h): strict parsing, each kind end to end on a tiny synthetic text
// dataset with a fast test-only classifier, failures as data, determinism, the Markdown golden file
// and the CI-sized analysis file on the real data.
//
// Golden file: tests/harness/golden/analysis_report.md. Approve a deliberate change with
//   OPSBENCH_APPROVE=1 ./test_harness "[analysis][golden]"
// and review the diff. The data, the classifier and therefore every number in it are synthetic.
#include "opsbench/harness/analysis.h"

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

const char* kDatasets = R"(
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

struct TempOut {
  std::string path;
  explicit TempOut(const std::string& name)
      : path((fs::temp_directory_path() / ("opsbench-analysis-" + name + "-" + std::to_string(::getpid()))).string()) {
    fs::remove_all(path);
  }
  ~TempOut() { fs::remove_all(path); }
};

AnalysisResults run(const AnalysisFile& file, const std::string& out) {
  AnalysisRunOptions options;
  options.out_dir = out;
  return run_analyses(file, test_registry(), options);
}

const char* kAllKinds = R"(
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

}  // namespace

TEST_CASE("analysis files are parsed strictly, with places", "[harness][analysis]") {
  const AnalysisFile file = parse(kAllKinds);
  REQUIRE(file.analyses.size() == 4);
  CHECK(file.analyses[0].name == "online");
  CHECK(file.analyses[1].seeds == 3);
  CHECK(file.analyses[2].target_rows == std::vector<std::size_t>{4, 16, 48});
  CHECK(file.preprocess.text == "keep");
  CHECK(parse("[[analyses]]\nkind = \"debias\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n").analyses[0].seeds == 10);

  // A key of another kind: the place and the keys this kind takes.
  const std::string other_kind =
      message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\naugment = 4\n");
  CHECK_THAT(other_kind, Catch::StartsWith("analyses.toml:18:11: unknown key 'analyses.augment'"));
  CHECK_THAT(other_kind, Catch::Contains("max_features"));
  CHECK_THAT(message_of("wrong = 1\n[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n"),
             Catch::StartsWith("analyses.toml:14:9: unknown key 'datasets.wrong'"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"onlne\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("valid: online, debias, transfer, forgetting"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-c\"]\n"),
             Catch::Contains("'wf-c' is not declared"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"iforest\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("analyses need a classifier"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes:alpha=0\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("alpha"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"forgetting\"\nmethod = \"nbayes\"\nlinear_method = "
                        "\"nbayes-linear\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("exactly two datasets"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"transfer\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\", \"wf-b\"]\n"
                        "target_rows = [10, 5]\n"),
             Catch::Contains("grow strictly"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\nseeds = 0\n"),
             Catch::Contains("seeds: must be in [1, 1000]"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"forgetting\"\nmethod = \"nbayes\"\nlinear_method = \"nbayes-linear\"\n"
                        "datasets = [\"wf-a\", \"wf-b\"]\npublished_accuracy = [0.8]\npublished_source = \"x\"\n"),
             Catch::Contains("three values"));
  CHECK_THAT(
      message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n"
                 "[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-b\"]\nname = \"online\"\n"),
      Catch::Contains("used twice"));
  CHECK_THAT(message_of("[preprocess]\ntext = \"maybe\"\n[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\n"
                        "datasets = [\"wf-a\"]\n"),
             Catch::Contains("valid: drop, keep"));
  try {
    parse_analysis_file("name = \"x\"\n[[datasets]]\nreader = \"toy-text\"\noptions = { rows = 2 }\n", "a.toml",
                        test_registry());
    FAIL("an out-of-bounds reader option must fail");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("a.toml:2:1: dataset 'toy-text'"));
  }
}

TEST_CASE("online detection classifies growing prefixes", "[harness][analysis]") {
  TempOut out("online");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["wf-a"]
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses.at(0);
  REQUIRE(r.entries.size() == 1);
  const AnalysisEntry& e = r.entries[0];
  CHECK(r.features == std::vector<std::string>{"wms_delay", "queue_delay", "runtime", "post_script_delay"});
  REQUIRE(e.prefix_accuracy.size() == 4);
  REQUIRE(e.first_right.size() == 5);
  std::size_t rows = 0;
  for (std::size_t n : e.first_right) rows += n;
  CHECK(rows == 16);  // every test row counted once
  rows = 0;
  for (std::size_t n : e.stable_from) rows += n;
  CHECK(rows == 16);
  // The full prefix is the sentence itself, so its accuracy is the full-sentence accuracy.
  CHECK(e.prefix_accuracy.back() == Approx(e.quality.at("wf-a").accuracy));
  // The anomaly signal sits in the third feature: anomalous rows cannot be right before it.
  CHECK(e.prefix_accuracy[2] > e.prefix_accuracy[1]);
  CHECK_THAT(r.rules.at(1), Catch::Contains("16 of 16 test sentences equal textualise()"));
}

TEST_CASE("online detection on data without template sentences fails as data", "[harness][analysis]") {
  TempOut out("online-fail");
  const AnalysisFile file = parse_analysis_file(R"(
name = "t"
[[datasets]]
name = "numbers"
reader = "toy-text"
options = { textless = true }
[[datasets]]
name = "broken"
reader = "toy-text"
options = { fail = true }
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["numbers"]
[[analyses]]
kind = "debias"
method = "nbayes"
datasets = ["broken"]
seeds = 1
[[analyses]]
kind = "transfer"
method = "logreg"
datasets = ["numbers", "numbers2"]
target_rows = [24]
[[datasets]]
name = "numbers2"
reader = "toy-text"
options = { textless = true, shift = 2 }
[[analyses]]
name = "fails-to-fit"
kind = "online"
method = "failing"
datasets = ["numbers2"]
)",
                                                "t.toml", test_registry());
  const AnalysisResults results = run(file, out.path);
  REQUIRE(results.analyses.size() == 4);
  CHECK_THAT(results.analyses[0].error, Catch::Contains("has no text column"));
  CHECK_THAT(results.analyses[1].error, Catch::Contains("toy-text: asked to fail"));
  // Numeric methods run the transfer matrix on textless data; continued training needs save/weights.
  const AnalysisResult& transfer = results.analyses[2];
  CHECK(transfer.error.empty());
  std::size_t matrix = 0, scratch = 0, fine = 0;
  for (const AnalysisEntry& e : transfer.entries) {
    if (e.role == "matrix" && e.ok) ++matrix;
    if (e.role == "scratch" && e.ok) ++scratch;
    if (e.role == "fine-tune") {
      CHECK_FALSE(e.ok);
      CHECK_THAT(e.error, Catch::Contains("declares no 'save' option"));
      ++fine;
    }
  }
  CHECK(matrix == 2);
  CHECK(scratch == 1);
  CHECK(fine == 1);
  CHECK_THAT(results.analyses[3].error, Catch::Contains("no text column"));
  CHECK(results.failed() == 4);
  const std::string md = render_analysis_markdown(results, PlotSet{});
  CHECK_THAT(md, Catch::Contains("## Failures"));
  CHECK_THAT(md, Catch::Contains("declares no 'save' option"));
}

TEST_CASE("a method that throws fails its entries and the analysis goes on", "[harness][analysis]") {
  TempOut out("throws");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "debias"
method = "failing"
datasets = ["wf-a"]
seeds = 2
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["wf-b"]
)"),
                                      out.path);
  REQUIRE(results.analyses[0].entries.size() == 4);
  for (const AnalysisEntry& e : results.analyses[0].entries) {
    CHECK_FALSE(e.ok);
    CHECK(e.error == "failing classifier refuses to fit");
  }
  CHECK(results.analyses[1].failed() == 0);
  const nlohmann::json j = nlohmann::json::parse(analysis_to_json(results));
  CHECK(j["failed"] == 4);
  CHECK(j["analyses"][0]["status"] == "partial");
  CHECK(j["analyses"][0]["entries"][0]["status"] == "failed");
}

TEST_CASE("debias predicts the empty sentence before and after augmentation", "[harness][analysis]") {
  TempOut out("debias");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "debias"
method = "nbayes:subsample=0.8"
datasets = ["wf-a"]
seeds = 3
augment = 40
[[analyses]]
kind = "debias"
name = "auto-count"
method = "nbayes"
datasets = ["wf-b"]
seeds = 1
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses[0];
  REQUIRE(r.entries.size() == 6);
  for (const AnalysisEntry& e : r.entries) {
    REQUIRE(e.empty_proba.size() == 2);
    CHECK(e.empty_proba[0] + e.empty_proba[1] == Approx(1.0));
  }
  CHECK(r.entries[1].train_rows == r.entries[0].train_rows + 40);
  // A quarter of the rows are anomalous: the empty sentence leans normal, less so after adding
  // empty sentences of both labels.
  CHECK(r.entries[0].empty_proba[1] < 0.5);
  CHECK(r.entries[1].empty_proba[1] > r.entries[0].empty_proba[1]);
  CHECK(r.entries[0].seed == r.entries[1].seed);
  CHECK(r.entries[0].seed != r.entries[2].seed);
  // Default count: 1% of 48 training rows, rounded up to a multiple of the two classes.
  CHECK_THAT(results.analyses[1].rules.at(1), Catch::StartsWith("wf-b: 2 empty-sentence rows added to 48"));
}

TEST_CASE("transfer fills the matrix and the fine-tuning curve", "[harness][analysis]") {
  TempOut out("transfer");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "transfer"
method = "nbayes"
datasets = ["wf-a", "wf-b"]
target_rows = [4, 16, 100]
seeds = 2
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses[0];
  CHECK(r.spec.source == "wf-a");
  CHECK(r.spec.target == "wf-b");
  CHECK(r.entries.size() == 2 * (2 + 3 * 2));
  for (const AnalysisEntry& e : r.entries) {
    if (e.role == "matrix") CHECK(e.quality.size() == 2);
    if (e.role == "fine-tune" || e.role == "scratch") {
      CHECK(e.quality.count("wf-b") == 1);
      CHECK(e.train_rows == std::min<std::size_t>(std::stoul(e.info.at("target_rows.asked")), 48));
    }
  }
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("100"));
  CHECK_FALSE(fs::exists(fs::path(out.path) / "models" / "transfer"));  // removed: keep_models = false
  // With all target rows, continuing from the source model adds the source's counts: not the
  // from-scratch model.
  const nlohmann::json j = nlohmann::json::parse(analysis_to_json(results));
  const auto& curve = j["analyses"][0]["summary"]["curve"];
  REQUIRE(curve.size() == 4);
  CHECK(curve[0]["target_rows"] == 0);
  CHECK(curve[3]["scratch_f1"]["n"] == 2);
}

TEST_CASE("forgetting continues from the D1 model with all or linear-only parameters", "[harness][analysis]") {
  TempOut out("forgetting");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "forgetting"
method = "nbayes"
linear_method = "nbayes-linear"
datasets = ["wf-a", "wf-b"]
keep_models = true
published_accuracy = [0.8155, 0.7065, 0.7305]
published_source = "Jin et al. 2024, Table II"
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses[0];
  REQUIRE(r.entries.size() == 3);
  CHECK(r.entries[0].role == "d1");
  CHECK(r.entries[1].role == "full-d2");
  CHECK(r.entries[2].role == "linear-d2");
  CHECK(r.entries[2].method == "nbayes-linear:alpha=1,save=,subsample=1,weights=");
  for (const AnalysisEntry& e : r.entries) {
    CHECK(e.quality.size() == 2);
    CHECK(e.figure("fit.wall") != nullptr);
  }
  CHECK(fs::exists(fs::path(out.path) / "models" / "forgetting" / "d1-rep0" / "model.txt"));
  // Linear-only keeps the D1 word counts: D1 accuracy stays where it was.
  CHECK(r.entries[2].quality.at("wf-a").accuracy == Approx(r.entries[0].quality.at("wf-a").accuracy).margin(0.15));
  const std::string md = render_analysis_markdown(results, PlotSet{});
  CHECK_THAT(md, Catch::Contains("| + linear only on wf-b | `nbayes-linear` |"));
  CHECK_THAT(md, Catch::Contains("| 0.8155 |"));
}

TEST_CASE("analyses are deterministic for a seed", "[harness][analysis]") {
  TempOut out("determinism");
  auto numbers = [&](const std::string& seed_line) {
    AnalysisFile file = parse(kAllKinds);
    file.seed = std::stoull(seed_line);
    nlohmann::json j = nlohmann::json::parse(analysis_to_json(run(file, out.path)));
    nlohmann::json kept;
    for (auto& a : j["analyses"]) {
      for (auto& e : a["entries"]) {
        e.erase("figures");  // wall and CPU times
        kept.push_back(e);
      }
    }
    return kept;
  };
  const nlohmann::json first = numbers("11");
  CHECK(first == numbers("11"));
  CHECK(first != numbers("12"));  // the debias subsample draws from the seed
}

TEST_CASE("analysis.md matches the golden file", "[harness][analysis][golden]") {
  TempOut out("golden");
  AnalysisResults results = run(parse(kAllKinds), out.path);
  REQUIRE(results.failed() == 0);
  results.environment = Environment();
  results.environment.set("opsbench.version", "0.1.0");
  results.environment.set("git_commit", "0123456789abcdef0123456789abcdef01234567 (dirty)");
  results.environment.set("cpu", "Test CPU, 2 cores");
  results.environment.warnings.push_back("OMP_WAIT_POLICY is not passive: threads may oversubscribe the cores");
  PlotSet plots;
  plots.available = true;
  plots.files = plan_analysis_plots(results);
  CHECK(plots.files.size() == 3);
  const std::string actual = mask_volatile(render_analysis_markdown(results, plots));

  const std::string path = std::string(OPSBENCH_SOURCE_DIR) + "/tests/harness/golden/analysis_report.md";
  const char* approve = std::getenv("OPSBENCH_APPROVE");
  if (approve != nullptr && std::string(approve) == "1") {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    WARN("approved: rewrote " << path);
    return;
  }
  REQUIRE(fs::exists(path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str() != actual) {
    std::ofstream(path + ".actual", std::ios::binary) << actual;
    FAIL("analysis.md differs from " << path << "; see " << path << ".actual, or approve with OPSBENCH_APPROVE=1");
  }
}

TEST_CASE("analysis outputs are written with plots", "[harness][analysis]") {
  TempOut out("outputs");
  const AnalysisResults results = run(parse(kAllKinds), out.path);
  const auto paths = write_analysis_outputs(results, out.path);
  REQUIRE(paths.size() == 2);
  const nlohmann::json j = nlohmann::json::parse(std::ifstream(paths[0]));
  CHECK(j["format"] == "opsbench-analysis");
  CHECK(j["analyses"].size() == 4);
  CHECK(j["analyses"][3]["summary"]["linear-d2"]["wf-a"]["accuracy"]["n"] == 1);
  CHECK(j["environment"]["facts"].size() > 3);
  std::ifstream md(paths[1]);
  std::stringstream text;
  text << md.rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("## online (online)"));
  CHECK(fs::exists(fs::path(out.path) / "plots" / "online-wf-a-first-right.dat"));
  CHECK(fs::exists(fs::path(out.path) / "plots" / "transfer-curve.gp"));
}

TEST_CASE("every shipped analysis file loads", "[harness][analysis]") {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(std::string(OPSBENCH_SOURCE_DIR) + "/suites/analyses")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".toml") continue;
    INFO(name);
    try {
      const AnalysisFile file = load_analysis_file(entry.path().string(), builtin_registry());
      CHECK(file.name == entry.path().stem().string());
      CHECK(file.analyses.size() == 4);
    } catch (const ConfigError& e) {
      if (std::string(e.what()).find("unknown method 'bert-") == std::string::npos) throw;
      WARN("skipped " << name << ": " << e.what());  // a build without libtorch has no bert-*
    }
    ++count;
  }
  CHECK(count >= 2);
}

TEST_CASE("the CI analysis file runs on the real data", "[harness][analysis][data][integration][slow]") {
  const Registry& registry = builtin_registry();
  const std::string file_path = std::string(OPSBENCH_SOURCE_DIR) + "/suites/analyses/flowbench-analyses-ci.toml";
  AnalysisFile file;
  try {
    file = load_analysis_file(file_path, registry);
  } catch (const ConfigError& e) {
    // The bert-* classifiers are registered only in builds with libtorch.
    if (std::string(e.what()).find("unknown method 'bert-") == std::string::npos) throw;
    WARN("skipped: " << e.what());
    return;
  }
  std::string data;
  if (const char* env = std::getenv("OPSBENCH_DATA")) data = env;
  if (data.empty()) data = (fs::path(OPSBENCH_SOURCE_DIR).parent_path() / "shared" / "data").string();
  if (!fs::exists(fs::path(data) / "flowbench-text")) {
    WARN("skipped: no Flow-Bench data at " << data << " (set OPSBENCH_DATA to the real datasets)");
    return;
  }
  TempOut out("ci");
  AnalysisRunOptions options;
  options.data_root = data;
  options.out_dir = out.path;
  const AnalysisResults results = run_analyses(file, registry, options);
  for (const AnalysisResult& r : results.analyses) {
    INFO(r.spec.name << ": " << r.error);
    CHECK(r.error.empty());
    for (const AnalysisEntry& e : r.entries) {
      INFO(e.role << " " << e.dataset << ": " << e.error);
      CHECK(e.ok);
    }
  }
  write_analysis_outputs(results, out.path);
  CHECK(fs::exists(fs::path(out.path) / "analysis.md"));
}
