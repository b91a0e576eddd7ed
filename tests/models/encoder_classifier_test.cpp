// bert-* classifiers end to end on tiny synthetic text: every mode fits and predicts, the same seed
// gives the same probabilities and the same fitted weights (sha256), QLoRA trains fewer parameters
// and saves a smaller model than full fine-tuning, pruning really shrinks it, bad input is refused.
// Small in-cell encoders (weights=random / mlm, hidden 16) keep each case to about a second.
#include <catch2/catch.hpp>

#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/models/pretrained.h"
#include "opsbench/models/register.h"

using namespace opsbench;

#ifdef OPSBENCH_HAVE_TORCH
namespace {

// "wms_delay is <x> queue_delay is <y> state is <s> ": class 1 rows say "failed"; the numbers carry no
// signal for the text (the numeric column does: large wms_delay).
Table sentences(std::uint64_t seed, std::size_t n, std::vector<int>& labels, bool with_numeric = false) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> small(1, 9), large(50, 99);
  std::vector<std::string> text;
  std::vector<double> numeric;
  labels.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const int y = i % 3 == 0 ? 1 : 0;
    labels.push_back(y);
    const int a = small(rng), b = small(rng);
    text.push_back("wms_delay is " + std::to_string(a) + ".0 queue_delay is " + std::to_string(b) + ".0 state is " +
                   (y ? "failed" : "done") + " ");
    numeric.push_back(static_cast<double>(y ? large(rng) : small(rng)) / 100.0);
  }
  Table t;
  t.add_column(Column::text("text", text));
  if (with_numeric) t.add_column(Column::numeric("wms_delay", numeric));
  return t;
}

std::unique_ptr<Classifier> make(const std::string& spec) {
  static const Registry registry = [] {
    Registry r;
    register_models(r);
    return r;
  }();
  const auto m = registry.resolve_method(spec);
  return m.entry->make_classifier(m.options);
}

const std::string kShape = "hidden=16,layers=1,heads=2,intermediate=32,max_length=32,batch_size=8,eval_batch_size=16";
const std::string kTiny = "weights=random," + kShape;

double accuracy(const Matrix& p, const std::vector<int>& y) {
  std::size_t right = 0;
  for (std::size_t r = 0; r < p.rows; ++r) right += (p(r, 1) > p(r, 0) ? 1 : 0) == y[r] ? 1 : 0;
  return static_cast<double>(right) / static_cast<double>(p.rows);
}

}  // namespace

TEST_CASE("every bert-* mode fits tiny text and returns probability rows", "[models][bert-classifier]") {
  std::vector<int> ytrain, ytest;
  const Table train = sentences(1, 90, ytrain, true);
  const Table test = sentences(2, 30, ytest, true);
  for (const char* name : {"bert-full", "bert-linear", "bert-lora", "bert-qlora", "bert-numeric"}) {
    INFO(name);
    Context ctx;
    ctx.seed = 3;
    ctx.apply();
    auto c = make(std::string(name) + ":" + kTiny + ",epochs=4,lr=0.005");
    c->fit(train, ytrain, 2, ctx);
    const Matrix p = c->predict_proba(test, ctx);
    REQUIRE(p.rows == 30);
    REQUIRE(p.cols == 2);
    for (std::size_t r = 0; r < p.rows; ++r) CHECK(p(r, 0) + p(r, 1) == Approx(1.0).epsilon(1e-9));
    CHECK(c->model_size_bytes() > 0);
    const auto info = c->diagnostic_info();
    CHECK(info.at("bert.model_sha256").size() == 64);
    CHECK(info.count("bert.vocab_sha256") == 1);
  }
  // The signal is a single word ("failed"): full fine-tuning of even a tiny encoder must find it.
  Context ctx;
  ctx.seed = 3;
  ctx.apply();
  auto full = make("bert-full:" + kTiny + ",epochs=20,lr=0.01,warmup=0");
  full->fit(train, ytrain, 2, ctx);
  CHECK(accuracy(full->predict_proba(test, ctx), ytest) > 0.9);
}

TEST_CASE("bert-* is deterministic for a seed", "[models][bert-classifier]") {
  std::vector<int> ytrain, ytest;
  const Table train = sentences(4, 48, ytrain);
  const Table test = sentences(5, 12, ytest);
  auto run = [&](std::uint64_t seed, const std::string& spec) {
    Context ctx;
    ctx.seed = seed;
    ctx.apply();
    auto c = make(spec);
    c->fit(train, ytrain, 2, ctx);
    return std::make_pair(c->predict_proba(test, ctx).data, c->diagnostic_info().at("bert.model_sha256"));
  };
  for (const std::string& spec : {"bert-full:" + kTiny + ",epochs=2", "bert-qlora:" + kTiny + ",epochs=2",
                                 "bert-full:weights=mlm," + kShape + ",epochs=1,mlm_epochs=1"}) {
    INFO(spec);
    const auto a = run(7, spec), b = run(7, spec), c = run(8, spec);
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK(a.second != c.second);
  }
}

TEST_CASE("QLoRA trains fewer parameters and saves less than full fine-tuning; pruning shrinks", "[models][bert-classifier]") {
  std::vector<int> y;
  const Table train = sentences(6, 40, y);
  const std::string shape = "weights=random,hidden=64,layers=2,heads=4,intermediate=128,max_length=32,epochs=1";
  auto fitted = [&](const std::string& spec) {
    Context ctx;
    ctx.apply();
    auto c = make(spec);
    c->fit(train, y, 2, ctx);
    return c;
  };
  auto figure = [](const Classifier& c, const std::string& name) {
    for (const auto& f : c.diagnostics())
      if (f.name == name) return f.value;
    FAIL("no figure " << name);
    return 0.0;
  };
  const auto full = fitted("bert-full:" + shape);
  const auto lora = fitted("bert-lora:" + shape + ",lora_r=2,merge=false");
  const auto qlora = fitted("bert-qlora:" + shape + ",lora_r=2");
  const auto pruned = fitted("bert-prune:" + shape + ",lora_r=2,prune_step=0.25,prune_total=0.5,step_epochs=1");
  CHECK(figure(*lora, "bert.parameters.trainable") < figure(*full, "bert.parameters.trainable") / 10);
  CHECK(figure(*qlora, "bert.parameters.trainable") == figure(*lora, "bert.parameters.trainable"));
  CHECK(qlora->model_size_bytes() < full->model_size_bytes());
  CHECK(pruned->model_size_bytes() < qlora->model_size_bytes());
  CHECK(figure(*pruned, "bert.pruned_fraction") == Approx(0.5));
  CHECK(figure(*pruned, "bert.parameters.total") < figure(*qlora, "bert.parameters.total"));
}

TEST_CASE("bert-* refuses bad input with clear errors", "[models][bert-classifier]") {
  std::vector<int> y;
  const Table train = sentences(9, 20, y);
  Context ctx;
  auto c = make("bert-full:" + kTiny + ",epochs=1");
  CHECK_THROWS_AS(c->predict_proba(train, ctx), ModelError);
  std::vector<int> bad = y;
  bad[3] = 2;
  CHECK_THROWS_AS(c->fit(train, bad, 2, ctx), DataError);
  CHECK_THROWS_AS(c->fit(train, std::vector<int>(3, 0), 2, ctx), DataError);
  CHECK_THROWS_AS(c->fit(Table{}, {}, 2, ctx), DataError);
  auto missing = make("bert-full:weights=/nonexistent/model,epochs=1");
  CHECK_THROWS_AS(missing->fit(train, y, 2, ctx), ConfigError);
  auto named = make("bert-full:" + kTiny + ",text_column=nope");
  CHECK_THROWS_WITH(named->fit(train, y, 2, ctx), Catch::Contains("no text column 'nope'"));
  CHECK_THROWS_AS(make("bert-full:heads=3,hidden=16,weights=random")->fit(train, y, 2, ctx), ConfigError);
  CHECK_THROWS_AS(make("bert-prune:prune_step=0"), ConfigError);
}

TEST_CASE("bert-full fine-tunes the real all-MiniLM-L6-v2 checkpoint", "[models][bert-classifier][pretrained]") {
  if (models::find_pretrained("all-MiniLM-L6-v2").empty()) {
    WARN("skipped: all-MiniLM-L6-v2 not present; " << models::how_to_fetch());
    return;
  }
  std::vector<int> ytrain, ytest;
  const Table train = sentences(10, 32, ytrain);
  const Table test = sentences(11, 16, ytest);
  Context ctx;
  ctx.apply();
  auto c = make("bert-lora:max_length=24,epochs=2,batch_size=8,lr=0.001");
  c->fit(train, ytrain, 2, ctx);
  const auto info = c->diagnostic_info();
  CHECK(info.at("bert.weights").find("all-MiniLM-L6-v2") != std::string::npos);
  CHECK(info.at("bert.weights_sha256").size() == 64);
  CHECK(c->predict_proba(test, ctx).rows == 16);
}

#endif  // OPSBENCH_HAVE_TORCH
