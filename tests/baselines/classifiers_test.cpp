// Supervised classifiers (logreg, tree, forest, xgboost): agreement with scikit-learn 1.2.1 and
// xgboost 1.7.4, determinism, bad input. References from tests/reference/make_classifier_refs.py
// (Debian /usr/bin/python3), which draws the same data from the same SplitMix64 stream.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/baselines/decision_tree.h"
#include "opsbench/baselines/logistic_regression.h"
#include "opsbench/baselines/random_forest.h"
#include "opsbench/baselines/register.h"
#include "opsbench/baselines/xgboost_classifier.h"
#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/registry.h"

namespace {

using opsbench::Context;
using opsbench::Matrix;

class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) : x_(seed) {}
  std::uint64_t next() {
    x_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = x_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t x_;
};

// Same as make_data() in the reference script.
void make_data(std::size_t n, std::size_t d, std::uint64_t seed, Matrix& x, std::vector<int>& y) {
  SplitMix rng(seed);
  x = Matrix(n, d);
  y.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) x(i, j) = rng.uniform();
    const double s = x(i, 0) + 0.5 * x(i, 1);
    y[i] = static_cast<int>(s * 2.0) % 3;
    if (rng.uniform() < 0.1) y[i] = static_cast<int>(rng.next() % 3);
  }
}

void require_close(const Matrix& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.data.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("entry " << i);
    CHECK(got.data[i] == Approx(want[i]).margin(tol));
  }
}

Context ctx_with(std::uint64_t seed, int threads) {
  Context c;
  c.seed = seed;
  c.threads = threads;
  return c;
}

}  // namespace

TEST_CASE("tree matches scikit-learn's DecisionTreeClassifier", "[baselines][tree]") {
  Matrix x, xt;
  std::vector<int> y, yt;
  make_data(300, 4, 11, x, y);
  make_data(8, 4, 12, xt, yt);
  SECTION("gini, max_depth 4, min_samples_leaf 5") {
    opsbench::DecisionTreeOptions o;
    o.growth.max_depth = 4;
    o.growth.min_samples_leaf = 5;
    opsbench::DecisionTree tree(o);
    tree.fit_matrix(x, y, 3, ctx_with(1, 1));
    CHECK(tree.tree().num_nodes() == 19);  // scikit-learn: node_count 19, depth 4
    CHECK(tree.tree().depth() == 4);
    require_close(tree.predict_proba_matrix(xt, ctx_with(1, 1)),
                  {0, 0.5625, 0.4375, 1, 0, 0, 0.04255319149, 0, 0.9574468085, 0.04109589041, 0.9178082192,
                   0.04109589041, 0, 0.5625, 0.4375, 0.04109589041, 0.9178082192, 0.04109589041, 0.04109589041,
                   0.9178082192, 0.04109589041, 0, 0.1818181818, 0.8181818182},
                  1e-9);
  }
  SECTION("entropy, max_depth 3") {
    opsbench::DecisionTreeOptions o;
    o.growth.criterion = opsbench::SplitCriterion::kEntropy;
    o.growth.max_depth = 3;
    opsbench::DecisionTree tree(o);
    tree.fit_matrix(x, y, 3, ctx_with(1, 1));
    CHECK(tree.tree().num_nodes() == 15);
    require_close(tree.predict_proba_matrix(xt, ctx_with(1, 1)),
                  {0, 0.6, 0.4, 0.7647058824, 0.1764705882, 0.05882352941, 0.08771929825, 0.350877193,
                   0.5614035088, 0.05, 0.9166666667, 0.03333333333, 0, 0.6, 0.4, 0.05, 0.9166666667,
                   0.03333333333, 0.05, 0.9166666667, 0.03333333333, 0, 0, 1},
                  1e-9);
  }
}

TEST_CASE("tree: fully grown fits the training rows; max_features parsing", "[baselines][tree]") {
  Matrix x;
  std::vector<int> y;
  make_data(200, 3, 5, x, y);
  opsbench::DecisionTree tree;
  tree.fit_matrix(x, y, 3, ctx_with(3, 1));
  const Matrix p = tree.predict_proba_matrix(x, ctx_with(3, 1));
  for (std::size_t r = 0; r < x.rows; ++r) CHECK(p(r, static_cast<std::size_t>(y[r])) == 1.0);
  opsbench::TreeGrowth g;
  g.max_features = "sqrt";
  CHECK(g.features_per_node(12) == 3);
  g.max_features = "log2";
  CHECK(g.features_per_node(12) == 3);
  g.max_features = "0.5";
  CHECK(g.features_per_node(12) == 6);
  g.max_features = "4";
  CHECK(g.features_per_node(12) == 4);
  g.max_features = "many";
  CHECK_THROWS_AS(g.features_per_node(12), opsbench::ConfigError);
}

TEST_CASE("forest is deterministic for a seed whatever the threads", "[baselines][forest]") {
  Matrix x, xt;
  std::vector<int> y, yt;
  make_data(400, 4, 21, x, y);
  make_data(200, 4, 22, xt, yt);
  opsbench::RandomForestOptions o;
  o.n_estimators = 30;
  o.oob_score = true;
  opsbench::RandomForest one(o), two(o), other(o);
  one.fit_matrix(x, y, 3, ctx_with(9, 1));
  two.fit_matrix(x, y, 3, ctx_with(9, 2));
  other.fit_matrix(x, y, 3, ctx_with(10, 2));
  const Matrix p1 = one.predict_proba_matrix(xt, ctx_with(9, 1));
  const Matrix p2 = two.predict_proba_matrix(xt, ctx_with(9, 2));
  CHECK(p1.data == p2.data);
  CHECK(one.oob_accuracy() == two.oob_accuracy());
  CHECK(p1.data != other.predict_proba_matrix(xt, ctx_with(10, 1)).data);
  REQUIRE(one.oob_accuracy());
  CHECK(*one.oob_accuracy() > 0.6);
  // Rows sum to one; quality near scikit-learn's (RandomForestClassifier(30) on this data: accuracy
  // ~0.8, see the reference script's data rule with 10% label noise).
  std::size_t correct = 0;
  for (std::size_t r = 0; r < p1.rows; ++r) {
    double s = 0;
    std::size_t best = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      s += p1(r, c);
      if (p1(r, c) > p1(r, best)) best = c;
    }
    CHECK(s == Approx(1.0));
    correct += best == static_cast<std::size_t>(yt[r]);
  }
  CHECK(static_cast<double>(correct) / static_cast<double>(p1.rows) > 0.7);
}

TEST_CASE("logreg matches scikit-learn's LogisticRegression", "[baselines][logreg]") {
  Matrix x, xt;
  std::vector<int> y, yt;
  make_data(300, 4, 11, x, y);
  make_data(8, 4, 12, xt, yt);
  SECTION("multinomial, C 0.5") {
    opsbench::LogisticRegressionOptions o;
    o.c = 0.5;
    o.tol = 1e-10;
    o.max_iter = 10000;
    opsbench::LogisticRegression lr(o);
    lr.fit_matrix(x, y, 3, ctx_with(0, 2));
    CHECK(lr.converged());
    require_close(lr.predict_proba_matrix(xt, ctx_with(0, 1)),
                  {0.0797615661, 0.4505837366, 0.4696546973, 0.4844693465, 0.4752565602, 0.04027409328,
                   0.01404456284, 0.3233258949, 0.6626295422, 0.2778579108, 0.5745427661, 0.1475993231,
                   0.04516997993, 0.4042389107, 0.5505911094, 0.3433702437, 0.552608366, 0.1040213903,
                   0.1634232961, 0.5368625256, 0.2997141783, 0.04143565754, 0.3787481619, 0.5798161806},
                  // Both solvers also stop at a relative loss decrease of 2.2e-9 (scipy's factr), so
                  // the multinomial optimum is reached to ~3e-5 in probability on either side.
                  1e-4);
  }
  SECTION("binary, balanced class weights, C 2") {
    Matrix xb(200, 4);
    std::vector<int> yb(200);
    for (std::size_t r = 0; r < 200; ++r) {
      for (std::size_t c = 0; c < 4; ++c) xb(r, c) = x(r, c);
      yb[r] = y[r] == 1 ? 1 : 0;
    }
    opsbench::LogisticRegressionOptions o;
    o.c = 2.0;
    o.tol = 1e-10;
    o.max_iter = 10000;
    o.class_weight = "balanced";
    opsbench::LogisticRegression lr(o);
    lr.fit_matrix(xb, yb, 2, ctx_with(0, 1));
    const Matrix p = lr.predict_proba_matrix(xt, ctx_with(0, 1));
    const std::vector<double> want = {0.4547156864, 0.5336712543, 0.5448797875, 0.5103634162,
                                      0.4821464116, 0.5000803195, 0.4661607625, 0.4582874396};
    for (std::size_t r = 0; r < want.size(); ++r) CHECK(p(r, 1) == Approx(want[r]).margin(1e-4));
  }
  SECTION("max_iter too small is reported, not hidden") {
    opsbench::LogisticRegressionOptions o;
    o.tol = 1e-12;
    o.max_iter = 2;
    opsbench::LogisticRegression lr(o);
    lr.fit_matrix(x, y, 3, ctx_with(0, 1));
    CHECK_FALSE(lr.converged());
    CHECK(lr.diagnostic_info().at("logreg.converged") == "false");
  }
}

TEST_CASE("xgboost through the C API matches python xgboost", "[baselines][xgboost]") {
  Matrix x, xt;
  std::vector<int> y, yt;
  make_data(300, 4, 11, x, y);
  make_data(8, 4, 12, xt, yt);
  opsbench::XgboostOptions o;
  o.n_estimators = 20;
  o.max_depth = 3;
  opsbench::XgboostClassifier model(o);
  model.fit_matrix(x, y, 3, ctx_with(0, 1));
  // xgboost 1.7.4 XGBClassifier(n_estimators=20, max_depth=3, learning_rate=0.3, tree_method="hist")
  require_close(model.predict_proba_matrix(xt, ctx_with(0, 1)),
                {0.006779572461, 0.2280048579, 0.7652155161, 0.9251905084, 0.06121811271, 0.01359132864,
                 0.02502249926, 0.0142454505, 0.9607320428, 0.05485239252, 0.9069520235, 0.03819552436,
                 0.005488420837, 0.1655879468, 0.8289236426, 0.06278449297, 0.895098865, 0.04211658612,
                 0.04224871844, 0.9322436452, 0.02550766617, 0.02854469791, 0.03010059148, 0.9413547516},
                1e-6);
  CHECK(model.model_size_bytes() > 0);
  CHECK(model.diagnostic_info().at("xgboost.version").rfind("1.", 0) == 0);
  // Binary objective: two columns summing to one.
  std::vector<int> yb(y.size());
  for (std::size_t r = 0; r < y.size(); ++r) yb[r] = y[r] == 2;
  opsbench::XgboostClassifier binary(o);
  binary.fit_matrix(x, yb, 2, ctx_with(0, 2));
  const Matrix p = binary.predict_proba_matrix(xt, ctx_with(0, 2));
  REQUIRE(p.cols == 2);
  for (std::size_t r = 0; r < p.rows; ++r) CHECK(p(r, 0) + p(r, 1) == Approx(1.0));
}

TEST_CASE("xgboost errors from the library become ModelErrors with its message", "[baselines][xgboost]") {
  Matrix x, xt;
  std::vector<int> y, yt;
  make_data(50, 3, 1, x, y);
  opsbench::XgboostOptions o;
  o.n_estimators = 2;
  o.tree_method = "no-such-method";
  opsbench::XgboostClassifier model(o);
  try {
    model.fit_matrix(x, y, 3, ctx_with(0, 1));
    FAIL("expected a ModelError");
  } catch (const opsbench::ModelError& e) {
    CHECK(std::string(e.what()).find("xgboost:") != std::string::npos);
    CHECK(std::string(e.what()).find("no-such-method") != std::string::npos);
  }
}

TEST_CASE("classifiers reject bad input with a located message", "[baselines][classifiers]") {
  opsbench::Registry registry;
  opsbench::register_baselines(registry);
  Matrix x;
  std::vector<int> y;
  make_data(60, 3, 2, x, y);
  for (const std::string name : {"logreg", "tree", "forest", "xgboost"}) {
    INFO(name);
    const auto resolved = registry.resolve_method(name);
    auto model = resolved.entry->make_classifier(resolved.options);
    opsbench::Table t;
    for (std::size_t c = 0; c < x.cols; ++c) {
      std::vector<double> col(x.rows);
      for (std::size_t r = 0; r < x.rows; ++r) col[r] = x(r, c);
      t.add_column(opsbench::Column::numeric("f" + std::to_string(c), col));
    }
    // Labels outside the declared classes.
    std::vector<int> bad = y;
    bad[7] = 5;
    CHECK_THROWS_WITH(model->fit(t, bad, 3, ctx_with(0, 1)), Catch::Contains("row 7 has label 5"));
    // Wrong label count.
    CHECK_THROWS_AS(model->fit(t, std::vector<int>(3, 0), 3, ctx_with(0, 1)), opsbench::DataError);
    // A class absent from training (declared 4 classes, 3 present): fit works, the absent class
    // gets (near) zero probability, rows sum to one.
    model->fit(t, y, 4, ctx_with(0, 1));
    const Matrix p = model->predict_proba(t, ctx_with(0, 1));
    REQUIRE(p.cols == 4);
    for (std::size_t r = 0; r < p.rows; ++r) {
      CHECK(p(r, 0) + p(r, 1) + p(r, 2) + p(r, 3) == Approx(1.0));
      CHECK(p(r, 3) < 0.05);
    }
    // A single class in training: logreg refuses, the trees predict it with certainty.
    std::vector<int> one(y.size(), 1);
    if (name == "logreg") {
      CHECK_THROWS_WITH(model->fit(t, one, 3, ctx_with(0, 1)), Catch::Contains("single class"));
    } else {
      model->fit(t, one, 3, ctx_with(0, 1));
      CHECK(model->predict_proba(t, ctx_with(0, 1))(0, 1) == Approx(1.0).margin(0.05));
    }
  }
}
