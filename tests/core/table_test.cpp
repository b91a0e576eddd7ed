// Table, Column, Labels, to_matrix and resolve_data_path.
#include "opsbench/core/table.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "opsbench/core/dataset.h"
#include "opsbench/core/error.h"

using opsbench::Column;
using opsbench::ColumnType;
using opsbench::Labels;
using opsbench::Table;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

Table small_table() {
  Table table;
  table.add_column(Column::numeric("a", {1.0, 2.0, 3.0, 4.0}));
  table.add_column(Column::numeric("b", {10.0, 20.0, 30.0, 40.0}));
  table.set_groups({0, 0, 1, 2}, {"r1", "r2", "r3"});
  Labels labels;
  labels.name = "y";
  labels.classes = {"normal", "anomalous"};
  labels.values = {0, 1, 0, 1};
  table.add_labels(labels);
  return table;
}

}  // namespace

TEST_CASE("numeric column keeps NaN and the validity mask in sync", "[core][table]") {
  Column c = Column::numeric("x", {1.5, kNaN, -2.0});
  CHECK(c.type() == ColumnType::kNumeric);
  CHECK(c.size() == 3);
  CHECK(c.is_missing(1));
  CHECK_FALSE(c.is_missing(0));
  CHECK(c.missing_count() == 1);
  c.append_numeric(kNaN);
  c.append_missing();
  c.append_numeric(0.1);
  CHECK(c.missing_count() == 3);
  CHECK(std::isnan(c.values()[4]));
  CHECK(c.to_string(0) == "1.5");
  CHECK(c.to_string(1).empty());
  CHECK(c.to_string(5) == "0.1");
  CHECK(Column::numeric("n", {100.0}).to_string(0) == "100");
  CHECK_THROWS_AS(c.codes(), std::logic_error);
  CHECK_THROWS_AS(c.append_text("no"), std::logic_error);
}

TEST_CASE("categorical column interns values in order of first appearance", "[core][table]") {
  Column c = Column::categorical("host", {"w1", "w2", "w1", "", "w3"}, {false, false, false, true, false});
  CHECK(c.dictionary() == std::vector<std::string>{"w1", "w2", "w3"});
  CHECK(c.codes() == std::vector<std::int32_t>{0, 1, 0, -1, 2});
  CHECK(c.is_missing(3));
  CHECK(c.to_string(2) == "w1");
  CHECK(c.to_string(3).empty());
  c.append_category("w2");
  c.append_category("w4");
  c.append_missing();
  CHECK(c.codes() == std::vector<std::int32_t>{0, 1, 0, -1, 2, 1, 3, -1});
  CHECK(c.dictionary().size() == 4);

  Column taken = c.take({6, 0});
  CHECK(taken.codes() == std::vector<std::int32_t>{3, 0});
  CHECK(taken.to_string(0) == "w4");
  CHECK(taken.dictionary() == c.dictionary());  // codes keep their meaning in subsets
  CHECK_THROWS_AS(Column::categorical("bad", {"a"}, {true, false}), std::invalid_argument);
}

TEST_CASE("text and timestamp columns", "[core][table]") {
  Column t = Column::text("msg", {"hello", "world"});
  t.append_missing();
  CHECK(t.texts().size() == 3);
  CHECK(t.is_missing(2));
  CHECK(t.to_string(1) == "world");
  // 1659743971 = 2022-08-05 23:59:31 UTC (Python calendar.timegm).
  Column ts = Column::timestamp("when", {0, 1659743971});
  CHECK(ts.to_string(0) == "1970-01-01T00:00:00");
  CHECK(ts.to_string(1) == "2022-08-05T23:59:31");
  CHECK(to_string(ColumnType::kTimestamp) == std::string("timestamp"));
}

TEST_CASE("table shape checks and column lookup", "[core][table]") {
  Table table = small_table();
  CHECK(table.num_rows() == 4);
  CHECK(table.num_columns() == 2);
  CHECK(table.column_names() == std::vector<std::string>{"a", "b"});
  CHECK(table.has_column("b"));
  CHECK(table.column("b").values()[2] == 30.0);
  try {
    table.column("c");
    FAIL("expected ConfigError");
  } catch (const opsbench::ConfigError& e) {
    CHECK(std::string(e.what()).find("'c'") != std::string::npos);
    CHECK(std::string(e.what()).find("a, b") != std::string::npos);
  }
  CHECK_THROWS_AS(table.add_column(Column::numeric("c", {1.0})), std::invalid_argument);
  CHECK_THROWS_AS(table.add_column(Column::numeric("a", {1, 2, 3, 4})), std::invalid_argument);
  CHECK_THROWS_AS(table.set_groups({0, 0, 0}, {"g"}), std::invalid_argument);
  CHECK_THROWS_AS(table.set_groups({0, 0, 0, 5}, {"g"}), std::invalid_argument);
  Labels bad;
  bad.name = "z";
  bad.classes = {"0", "1"};
  bad.values = {0, 2, 0, 1};
  CHECK_THROWS_AS(table.add_labels(bad), std::invalid_argument);
  CHECK_THROWS_AS(Table().label(), opsbench::ConfigError);
}

TEST_CASE("labels count classes and skip unlabelled rows", "[core][table]") {
  Labels labels;
  labels.classes = {"a", "b", "c"};
  labels.values = {0, 2, 2, -1, 2};
  CHECK(labels.num_classes() == 3);
  CHECK(labels.class_counts() == std::vector<std::size_t>{1, 0, 3});
}

TEST_CASE("take subsets columns, groups and labels in the given order", "[core][table]") {
  Table table = small_table();
  Table sub = table.take({3, 1, 1});
  CHECK(sub.num_rows() == 3);
  CHECK(sub.column("a").values() == std::vector<double>{4.0, 2.0, 2.0});
  CHECK(sub.groups() == std::vector<int>{2, 0, 0});
  CHECK(sub.group_names() == table.group_names());
  CHECK(sub.label().values == std::vector<int>{1, 1, 1});
  CHECK(sub.label().classes == table.label().classes);
  CHECK(table.take({}).num_rows() == 0);
}

TEST_CASE("to_matrix is row-major and rejects non-numeric or missing columns", "[core][table]") {
  Table table = small_table();
  opsbench::Matrix m = table.to_matrix();
  REQUIRE(m.rows == 4);
  REQUIRE(m.cols == 2);
  CHECK(m.data == std::vector<double>{1, 10, 2, 20, 3, 30, 4, 40});
  CHECK(m(2, 1) == 30.0);

  Table with_cat = small_table();
  with_cat.add_column(Column::categorical("kind", {"x", "y", "x", "y"}));
  try {
    with_cat.to_matrix();
    FAIL("expected DataError");
  } catch (const opsbench::DataError& e) {
    CHECK(std::string(e.what()).find("'kind'") != std::string::npos);
    CHECK(std::string(e.what()).find("categorical") != std::string::npos);
  }

  Table with_missing = small_table();
  with_missing.add_column(Column::numeric("gap", {1.0, kNaN, 3.0, 4.0}));
  try {
    with_missing.to_matrix();
    FAIL("expected DataError");
  } catch (const opsbench::DataError& e) {
    CHECK(std::string(e.what()).find("'gap'") != std::string::npos);
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
  }

  // NaN written through mutable_values() is caught as well.
  Table mutated = small_table();
  mutated.mutable_columns()[0].mutable_values()[0] = kNaN;
  CHECK_THROWS_AS(mutated.to_matrix(), opsbench::DataError);
}

TEST_CASE("resolve_data_path", "[core][table]") {
  namespace fs = std::filesystem;
  opsbench::ReadContext ctx;
  ctx.base_dir = "/suites";
  CHECK(opsbench::resolve_data_path("/abs/file.csv", ctx) == "/abs/file.csv");
  CHECK(opsbench::resolve_data_path("rel/file.csv", ctx) == "/suites/rel/file.csv");
  CHECK_THROWS_AS(opsbench::resolve_data_path("data:flowbench", ctx), opsbench::ConfigError);
  ctx.data_root = (fs::temp_directory_path() / "opsbench_no_such_root_dir").string();
  CHECK_THROWS_AS(opsbench::resolve_data_path("data:flowbench", ctx), opsbench::ConfigError);
  ctx.data_root = fs::temp_directory_path().string();
  CHECK(opsbench::resolve_data_path("data:flowbench/x.csv", ctx) ==
        (fs::temp_directory_path() / "flowbench/x.csv").string());
  ctx.base_dir.clear();
  CHECK(opsbench::resolve_data_path("rel.csv", ctx) == "rel.csv");
}
