// Transforms: fitted on train only. Reference values from scikit-learn 1.2.1 (SimpleImputer,
// StandardScaler, MinMaxScaler, OneHotEncoder(handle_unknown="ignore"), OrdinalEncoder with
// unknown_value=-1) and Python 3 str(float), printed by tests/reference/make_metric_refs.py.
#include "opsbench/datasets/transforms.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

const double kNaN = std::nan("");

// The same matrices as make_metric_refs.py: train statistics differ from the test rows'.
Table train_table() {
  Table t;
  t.add_column(Column::numeric("x", {1.0, 2.0, 4.0, kNaN, 10.0}));
  t.add_column(Column::numeric("k", {5.0, kNaN, 5.0, 5.0, 5.0}));
  t.add_column(Column::categorical("c", {"b", "a", "c", "a", "b"}));
  return t;
}

Table test_table() {
  Table t;
  t.add_column(Column::numeric("x", {3.0, kNaN, -2.0}));
  t.add_column(Column::numeric("k", {7.0, kNaN, 5.0}));
  t.add_column(Column::categorical("c", {"c", "z", "a"}));
  return t;
}

std::vector<double> values(const Table& t, const std::string& name) { return t.column(name).values(); }

void check_values(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("row " << i);
    if (std::isnan(expected[i])) {
      CHECK(std::isnan(got[i]));
    } else {
      CHECK(got[i] == Approx(expected[i]).epsilon(1e-12));
    }
  }
}

}  // namespace

TEST_CASE("imputer fills test rows with training statistics", "[datasets][transforms]") {
  auto mean = make_imputer("mean");
  mean->fit(train_table());
  const Table out = mean->transform(test_table());
  check_values(values(out, "x"), {3.0, 4.25, -2.0});  // scikit-learn 1.2.1: statistics_ [4.25, 5.0]
  check_values(values(out, "k"), {7.0, 5.0, 5.0});
  CHECK(out.column("x").missing_count() == 0);
  CHECK(out.column("c").type() == ColumnType::kCategorical);  // untouched

  auto median = make_imputer("median");
  median->fit(train_table());
  check_values(values(median->transform(test_table()), "x"), {3.0, 3.0, -2.0});  // scikit-learn 1.2.1: 3.0

  auto constant = make_imputer("constant", -1.5);
  constant->fit(train_table());
  check_values(values(constant->transform(test_table()), "x"), {3.0, -1.5, -2.0});
  auto zero = make_imputer("zero");
  zero->fit(train_table());
  check_values(values(zero->transform(test_table()), "k"), {7.0, 0.0, 5.0});
  CHECK_THROWS_AS(make_imputer("mode"), ConfigError);
}

TEST_CASE("a column missing in every training row is a DataError", "[datasets][transforms]") {
  Table t;
  t.add_column(Column::numeric("empty", {kNaN, kNaN}));
  auto imputer = make_imputer("mean");
  try {
    imputer->fit(t);
    FAIL("no DataError");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()).find("'empty' is missing in every training row") != std::string::npos);
  }
  CHECK_THROWS_AS(make_standard_scaler()->fit(t), DataError);
}

TEST_CASE("standard scaler uses train mean and population std", "[datasets][transforms]") {
  auto scaler = make_standard_scaler();
  scaler->fit(train_table());
  const Table out = scaler->transform(test_table());
  // scikit-learn 1.2.1: mean_ [4.25, 5.0], scale_ [3.491060010942235, 1.0] (k is constant -> 1)
  check_values(values(out, "x"), {-0.35805743701971643, kNaN, -1.7902871850985822});
  check_values(values(out, "k"), {2.0, kNaN, 0.0});
  CHECK(out.column("x").is_missing(1));
  // Fitting on the test rows instead would give other numbers: train statistics are what is used.
  auto refit = make_standard_scaler();
  refit->fit(test_table());
  CHECK(values(refit->transform(test_table()), "x")[0] != Approx(-0.35805743701971643));
}

TEST_CASE("minmax scaler maps train range to [0, 1]", "[datasets][transforms]") {
  auto scaler = make_minmax_scaler();
  scaler->fit(train_table());
  const Table out = scaler->transform(test_table());
  // scikit-learn 1.2.1: test values may leave [0, 1]; a constant column keeps the offset x - min.
  check_values(values(out, "x"), {0.2222222222222222, kNaN, -0.3333333333333333});
  check_values(values(out, "k"), {2.0, kNaN, 0.0});
  check_values(values(scaler->transform(train_table()), "k"), {0.0, kNaN, 0.0, 0.0, 0.0});
}

TEST_CASE("one-hot and ordinal encoders use training categories only", "[datasets][transforms]") {
  Table train;
  train.add_column(Column::categorical("c", {"b", "a", "c", "a"}));
  train.add_column(Column::numeric("n", {1, 2, 3, 4}));
  Table test;
  test.add_column(Column::categorical("c", {"c", "z", "a", ""}, {false, false, false, true}));
  test.add_column(Column::numeric("n", {5, 6, 7, 8}));

  auto onehot = make_onehot_encoder();
  onehot->fit(train);
  const Table oh = onehot->transform(test);
  // scikit-learn 1.2.1 OneHotEncoder(handle_unknown="ignore"): categories [a, b, c]; unseen -> all 0.
  CHECK(oh.column_names() == std::vector<std::string>{"c=a", "c=b", "c=c", "n"});
  check_values(values(oh, "c=a"), {0, 0, 1, 0});
  check_values(values(oh, "c=b"), {0, 0, 0, 0});
  check_values(values(oh, "c=c"), {1, 0, 0, 0});
  check_values(values(oh, "n"), {5, 6, 7, 8});

  auto ordinal = make_ordinal_encoder();
  ordinal->fit(train);
  // scikit-learn 1.2.1 OrdinalEncoder(unknown_value=-1): c -> 2, z -> -1, a -> 0; missing -> -1.
  check_values(values(ordinal->transform(test), "c"), {2, -1, 0, -1});

  // A category present in the dictionary but in no training row (a row subset) is not learnt.
  Table subset = train.take({1, 3});  // only "a"
  auto onehot_subset = make_onehot_encoder();
  onehot_subset->fit(subset);
  CHECK(onehot_subset->transform(test).column_names() == std::vector<std::string>{"c=a", "n"});
}

TEST_CASE("transforms refuse columns that changed since fit", "[datasets][transforms]") {
  auto scaler = make_standard_scaler();
  scaler->fit(train_table());
  Table missing;
  missing.add_column(Column::numeric("x", {1.0}));
  missing.add_column(Column::categorical("c", {"a"}));
  try {
    scaler->transform(missing);
    FAIL("no DataError");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()).find("'k'") != std::string::npos);
  }
  Table extra = test_table();
  extra.add_column(Column::numeric("new", {1, 2, 3}));
  CHECK_THROWS_AS(scaler->transform(extra), DataError);
  CHECK_THROWS_AS(make_standard_scaler()->transform(test_table()), std::logic_error);
}

TEST_CASE("drop_non_numeric keeps numeric columns, labels and groups", "[datasets][transforms]") {
  Table t;
  t.add_column(Column::numeric("a", {1, 2}));
  t.add_column(Column::text("t", {"x", "y"}));
  t.add_column(Column::timestamp("ts", {1, 2}));
  t.add_column(Column::numeric("b", {3, 4}));
  t.add_column(Column::categorical("unencoded", {"p", "q"}));
  t.set_groups({0, 1}, {"g0", "g1"});
  Labels labels;
  labels.name = "y";
  labels.values = {0, 1};
  labels.classes = {"normal", "anomalous"};
  t.add_labels(labels);
  auto drop = make_drop_non_numeric();
  drop->fit(t);
  const Table out = drop->transform(t);
  CHECK(out.column_names() == std::vector<std::string>{"a", "b"});
  CHECK(out.label().values == std::vector<int>{0, 1});
  CHECK(out.groups() == std::vector<int>{0, 1});
}

TEST_CASE("textualise writes the Flow-Bench sentence form", "[datasets][transforms]") {
  Table t;
  // Python 3 str(float) of each value (make_metric_refs.py).
  t.add_column(Column::numeric("wms_delay", {6.0, 1e16}));
  t.add_column(Column::numeric("cpu", {771.8, 1.5e-05}));
  t.add_column(Column::numeric("bytes", {1014254291.0, kNaN}));
  t.add_column(Column::numeric("tiny", {0.0001, 2.5e-7}));
  t.add_column(Column::numeric("other", {0.30000000000000004, -0.0}));
  t.add_column(Column::categorical("site", {"condorpool", "local"}));
  t.add_column(Column::categorical("queue", {"", "short"}, {true, false}));
  const auto text = textualise(t);
  REQUIRE(text.size() == 2);
  CHECK(text[0] ==
        "wms_delay is 6.0 cpu is 771.8 bytes is 1014254291.0 tiny is 0.0001 "
        "other is 0.30000000000000004 site is condorpool queue is nan ");
  CHECK(text[1] ==
        "wms_delay is 1e+16 cpu is 1.5e-05 bytes is nan tiny is 2.5e-07 other is -0.0 site is local "
        "queue is short ");
  Table big;
  big.add_column(Column::numeric("v", {123456789012345.6, 1e22, 1006.0, 0.1}));
  const auto b = textualise(big);
  CHECK(b[0] == "v is 123456789012345.6 ");
  CHECK(b[1] == "v is 1e+22 ");
  CHECK(b[2] == "v is 1006.0 ");
  CHECK(b[3] == "v is 0.1 ");
}

TEST_CASE("textualise reproduces the Flow-Bench text release byte for byte", "[datasets][transforms][data]") {
  std::string root;
  if (const char* env = std::getenv("OPSBENCH_DATA")) {
    root = env;
  } else {
    root = std::string(OPSBENCH_SOURCE_DIR) + "/../shared/data";
  }
  const std::string path = root + "/flowbench-text/1000genome/test.csv.gz";
  if (!std::ifstream(path).good()) {
    WARN("skipped: " << path << " is absent");
    return;
  }
  // Parse each sentence back into numeric columns ("nan" = missing), textualise, compare. Lines
  // are read raw through zlib: a CSV parser may trim the trailing space that is part of the text.
  gzFile file = gzopen(path.c_str(), "rb");
  REQUIRE(file != nullptr);
  std::vector<std::string> lines;
  char buffer[4096];
  while (gzgets(file, buffer, sizeof buffer) != nullptr) {
    std::string line(buffer);
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\n');  // the buffer held the whole line
    lines.push_back(line.substr(0, line.size() - 1));
  }
  gzclose(file);
  REQUIRE(lines.at(0) == "text,label");
  std::vector<std::string> texts;
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;
  for (std::size_t l = 1; l < lines.size(); ++l) {
    // "<sentence>,<label>": the sentences hold no comma or quote in this release.
    const std::string text = lines[l].substr(0, lines[l].rfind(','));
    REQUIRE(text.find_first_of(",\"") == std::string::npos);
    std::vector<std::string> tokens;
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t space = text.find(' ', at);
      tokens.push_back(text.substr(at, space - at));
      at = space == std::string::npos ? text.size() : space + 1;
    }
    REQUIRE(tokens.size() % 3 == 0);
    const std::size_t features = tokens.size() / 3;
    if (names.empty()) {
      for (std::size_t f = 0; f < features; ++f) names.push_back(tokens[3 * f]);
      columns.resize(features);
    }
    REQUIRE(features == names.size());
    for (std::size_t f = 0; f < features; ++f) {
      REQUIRE(tokens[3 * f] == names[f]);
      columns[f].push_back(tokens[3 * f + 2] == "nan" ? kNaN : std::strtod(tokens[3 * f + 2].c_str(), nullptr));
    }
    texts.push_back(text);
  }
  REQUIRE(texts.size() > 1000);
  Table table;
  for (std::size_t f = 0; f < names.size(); ++f) table.add_column(Column::numeric(names[f], columns[f]));
  const auto produced = textualise(table);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (produced[i] != texts[i]) {
      if (mismatches++ < 3) {
        INFO("row " << i);
        CHECK(produced[i] == texts[i]);
      }
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace opsbench
