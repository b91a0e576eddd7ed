// Readers "hdfs-sessions" and "loghub" and the TF-IDF transform: small files written here, and the
// real HDFS / BGL files where they are present ([data]).
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/register.h"
#include "opsbench/datasets/tfidf.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using opsbench::ConfigError;
using opsbench::DataError;
using opsbench::Dataset;
using opsbench::ReadContext;

namespace {

using opsbench::testing::TempDir;

Dataset read_with(const std::string& reader, const std::vector<std::pair<std::string, std::string>>& values,
                  const ReadContext& ctx = {}) {
  opsbench::Registry registry;
  opsbench::register_datasets(registry);
  const auto& entry = registry.reader(reader);
  return entry.read(opsbench::resolve(entry.options, values, "reader " + reader), ctx);
}

const std::vector<double>& col(const Dataset& d, const std::string& name) {
  return d.table.column(name).values();
}

std::string data_root() {
  if (const char* env = std::getenv("OPSBENCH_DATA")) return env;
  return OPSBENCH_SOURCE_DIR "/../shared/data";
}

// Ten normal sessions (two shapes) and four abnormal ones; key 10 sorts after 9, "05" is key 5.
void write_sessions(const TempDir& dir) {
  std::string normal;
  for (int i = 0; i < 5; ++i) normal += "5 5 22 9 \n22 05 9 9\n";
  dir.write("hdfs/hdfs_train", normal + "\n");  // a blank line is no session
  dir.write("hdfs/hdfs_test_abnormal", "5 10 10\n9 3\n22 22 22 22\n5 9 10 3");
}

}  // namespace

TEST_CASE("hdfs-sessions builds the event-count matrix of every session", "[datasets][logs]") {
  TempDir dir;
  write_sessions(dir);
  Dataset d = read_with("hdfs-sessions", {{"root", dir.path()}, {"anomaly_ratio", "0"}});
  REQUIRE(d.table.num_rows() == 14);
  CHECK(d.table.column_names() == std::vector<std::string>{"E3", "E5", "E9", "E10", "E22"});
  CHECK(col(d, "E5")[0] == 2);
  CHECK(col(d, "E9")[1] == 2);
  CHECK(col(d, "E5")[1] == 1);
  CHECK(col(d, "E10")[10] == 2);
  CHECK(col(d, "E22")[12] == 4);
  const auto& labels = d.table.label();
  CHECK(labels.classes == std::vector<std::string>{"normal", "abnormal"});
  CHECK(labels.class_counts() == std::vector<std::size_t>{10, 4});
  CHECK(labels.values[9] == 0);
  CHECK(labels.values[10] == 1);
  CHECK(d.files.size() == 2);
}

TEST_CASE("hdfs-sessions subsamples abnormal sessions to the declared share, from the seed", "[datasets][logs]") {
  TempDir dir;
  write_sessions(dir);
  ReadContext ctx;
  ctx.seed = 11;
  // round(0.2 * 10 / 0.8) = 3 abnormal sessions of 4.
  Dataset a = read_with("hdfs-sessions", {{"root", dir.path()}, {"anomaly_ratio", "0.2"}}, ctx);
  Dataset b = read_with("hdfs-sessions", {{"root", dir.path()}, {"anomaly_ratio", "0.2"}}, ctx);
  REQUIRE(a.table.label().class_counts() == std::vector<std::size_t>{10, 3});
  CHECK(a.table.column_names() == b.table.column_names());
  for (const auto& name : a.table.column_names()) CHECK(col(a, name) == col(b, name));
  // A tiny share still keeps one abnormal session (else nothing to detect).
  Dataset c = read_with("hdfs-sessions", {{"root", dir.path()}, {"anomaly_ratio", "0.001"}}, ctx);
  CHECK(c.table.label().class_counts() == std::vector<std::size_t>{10, 1});
  // max_rows keeps each class's share: 7 rows of 10:4 -> round(7 * 4/14) = 2 abnormal.
  Dataset m = read_with("hdfs-sessions", {{"root", dir.path()}, {"anomaly_ratio", "0"}, {"max_rows", "7"}}, ctx);
  CHECK(m.table.label().class_counts() == std::vector<std::size_t>{5, 2});
}

TEST_CASE("hdfs-sessions reads the robust_log Sequence,label CSVs and rejects bad input", "[datasets][logs]") {
  TempDir dir;
  dir.write("hdfs/robust_log_train.csv", "Sequence,label\n5 5 9,0\n22 3,1\n");
  dir.write("hdfs/robust_log_valid.csv", "Sequence,label\n9 9,0\n");
  Dataset d = read_with("hdfs-sessions", {{"root", dir.path()}, {"source", "robust_log"}, {"anomaly_ratio", "0"}});
  CHECK(d.table.label().class_counts() == std::vector<std::size_t>{2, 1});
  CHECK(col(d, "E9") == std::vector<double>{1, 2, 0});  // normal rows first, then abnormal

  dir.write("hdfs/robust_log_valid.csv", "Sequence,label\n9 9,2\n");
  auto e = [&] {
    try {
      read_with("hdfs-sessions", {{"root", dir.path()}, {"source", "robust_log"}});
    } catch (const DataError& err) {
      return err;
    }
    FAIL("expected a DataError");
    throw std::logic_error("unreachable");
  }();
  CHECK(e.line() == 2);
  CHECK(e.column() == 2);

  write_sessions(dir);
  dir.write("hdfs/hdfs_test_abnormal", "5 9\n5 x9 3\n");
  try {
    read_with("hdfs-sessions", {{"root", dir.path()}});
    FAIL("expected a DataError");
  } catch (const DataError& err) {
    CHECK(err.line() == 2);
    CHECK(err.column() == 3);
    CHECK(err.detail().find("x9") != std::string::npos);
  }
  fs::remove(fs::path(dir.path()) / "hdfs/hdfs_train");
  CHECK_THROWS_AS(read_with("hdfs-sessions", {{"root", dir.path()}}), ConfigError);
}

TEST_CASE("loghub groups lines into fixed and sliding time windows labelled by any anomalous line",
          "[datasets][logs]") {
  TempDir dir;
  const std::string file = dir.write("BGL.csv",
                                     "LineId,Label,Timestamp,Content,EventId,EventTemplate\n"
                                     "1,-,1000,a,E2,a\n"
                                     "2,-,1005,b,E10,b\n"
                                     "3,KERNDTLB,1012,c,E2,c\n"
                                     "4,-,1100,d,E1,d\n"   // after an empty stretch
                                     "5,-,1003,e,E2,e\n");  // out of order
  Dataset fixed = read_with("loghub", {{"file", file}, {"window", "10"}});
  // Windows [1000,1010): E2 E10 E2; [1010,1020): E2 (anomalous); [1100,1110): E1.
  REQUIRE(fixed.table.num_rows() == 3);
  CHECK(fixed.table.column_names() == std::vector<std::string>{"E1", "E2", "E10"});
  CHECK(col(fixed, "E2") == std::vector<double>{2, 1, 0});
  CHECK(col(fixed, "E10") == std::vector<double>{1, 0, 0});
  CHECK(fixed.table.label().values == std::vector<int>{0, 1, 0});

  Dataset sliding = read_with("loghub", {{"file", file}, {"window", "10"}, {"step", "5"}});
  // Starts 1000, 1005, 1010 hold lines; then the first window holding 1100 starts at 1095 and 1100.
  REQUIRE(sliding.table.num_rows() == 5);
  CHECK(col(sliding, "E2") == std::vector<double>{2, 1, 1, 0, 0});
  CHECK(col(sliding, "E10") == std::vector<double>{1, 1, 0, 0, 0});
  CHECK(sliding.table.label().values == std::vector<int>{0, 1, 1, 0, 0});

  CHECK_THROWS_AS(read_with("loghub", {{"file", file}, {"window", "10"}, {"step", "20"}}), ConfigError);
  const std::string bad = dir.write("bad.csv", "Label,Timestamp,EventId\n-,10,E1\n-,soon,E1\n");
  try {
    read_with("loghub", {{"file", bad}});
    FAIL("expected a DataError");
  } catch (const DataError& err) {
    CHECK(err.line() == 3);
    CHECK(err.column() == 2);
  }
}

TEST_CASE("loghub groups HDFS lines into block sessions; labels only from a label file", "[datasets][logs]") {
  TempDir dir;
  const std::string file = dir.write(
      "HDFS.csv",
      "LineId,Content,EventId\n"
      "1,Receiving block blk_-12 src,E5\n"
      "2,PacketResponder 1 for block blk_7 terminating,E10\n"
      "3,ask to replicate blk_-12 to blk_7 and blk_-12,E22\n"
      "4,no block here,E1\n"
      "5,Deleting block blk_-12 file,E10\n");
  Dataset d = read_with("loghub", {{"file", file}, {"system", "HDFS"}});
  REQUIRE(d.table.num_rows() == 2);
  CHECK_FALSE(d.table.has_labels());
  CHECK(d.table.column_names() == std::vector<std::string>{"E5", "E10", "E22"});
  CHECK(col(d, "E10") == std::vector<double>{1, 1});
  CHECK(col(d, "E22") == std::vector<double>{1, 1});  // one line, two blocks, each counted once
  CHECK(d.description.find("unlabelled") != std::string::npos);

  const std::string labels = dir.write("anomaly_label.csv", "BlockId,Label\nblk_7,Anomaly\nblk_-12,Normal\n");
  Dataset l = read_with("loghub", {{"file", file}, {"system", "HDFS"}, {"labels", labels}});
  CHECK(l.table.label().values == std::vector<int>{0, 1});
  dir.write("anomaly_label.csv", "BlockId,Label\nblk_7,Anomaly\n");
  CHECK_THROWS_AS(read_with("loghub", {{"file", file}, {"system", "HDFS"}, {"labels", labels}}), DataError);
}

TEST_CASE("tfidf weights counts by loglizer's idf fitted on training rows", "[datasets][tfidf]") {
  using opsbench::Column;
  using opsbench::Table;
  Table train;
  train.add_column(Column::numeric("E1", {1, 0, 2, 0}));  // df 2
  train.add_column(Column::numeric("E2", {0, 0, 0, 0}));  // df 0: dropped
  train.add_column(Column::numeric("E3", {3, 1, 1, 1}));  // df 4 = N: idf ~ 0
  train.add_column(Column::categorical("host", {"a", "b", "a", "b"}));
  auto t = opsbench::make_tfidf_transform();
  CHECK_THROWS(t->transform(train));
  t->fit(train);
  Table test;
  test.add_column(Column::numeric("E1", {4, 1}));
  test.add_column(Column::numeric("E2", {5, 0}));
  test.add_column(Column::numeric("E3", {2, 0}));
  test.add_column(Column::categorical("host", {"a", "c"}));
  Table out = t->transform(test);
  CHECK(out.column_names() == std::vector<std::string>{"E1", "E3", "host"});
  // idf = log(N / (df + 1e-8)) with N = 4 (loglizer's FeatureExtractor).
  CHECK(out.column("E1").values()[0] == Approx(4 * std::log(4 / (2 + 1e-8))));
  CHECK(out.column("E1").values()[1] == Approx(std::log(4 / (2 + 1e-8))));
  CHECK(std::abs(out.column("E3").values()[0]) < 1e-8);
  CHECK(out.column("host").to_string(1) == "c");

  Table extra = test;
  extra.add_column(Column::numeric("E4", {1, 1}));
  CHECK_THROWS_AS(t->transform(extra), DataError);
  Table missing;
  missing.add_column(Column::numeric("E1", {1, std::nan("")}));
  CHECK_THROWS_AS(t->fit(missing), DataError);
}

TEST_CASE("hdfs-sessions on the real logdeep files", "[datasets][logs][data]") {
  const std::string root = data_root() + "/logs/hdfs-logdeep";
  if (!fs::exists(root + "/hdfs/hdfs_train.gz")) {
    WARN("skipped: " << root << " is absent");
    return;
  }
  Dataset all = read_with("hdfs-sessions", {{"root", root}, {"anomaly_ratio", "0"}});
  CHECK(all.table.label().class_counts() == std::vector<std::size_t>{4855, 16838});
  ReadContext ctx;
  ctx.seed = 3;
  Dataset real = read_with("hdfs-sessions", {{"root", root}}, ctx);
  // round(0.0293 * 4855 / 0.9707) = 147 abnormal sessions.
  CHECK(real.table.label().class_counts() == std::vector<std::size_t>{4855, 147});
  for (const auto& name : real.table.column_names()) CHECK(name[0] == 'E');
}

TEST_CASE("loghub on the real BGL_2k sample", "[datasets][logs][data]") {
  const std::string root = data_root() + "/logs/loghub";
  if (!fs::exists(root + "/BGL/BGL_2k.log_structured.csv.gz")) {
    WARN("skipped: " << root << " is absent");
    return;
  }
  // Counted independently with Python's csv module: 456 non-empty 1 h windows, 50 with a line
  // whose Label is not "-", 120 distinct EventIds.
  Dataset d = read_with("loghub", {{"root", root}, {"system", "BGL"}});
  CHECK(d.table.num_rows() == 456);
  CHECK(d.table.label().class_counts() == std::vector<std::size_t>{406, 50});
  CHECK(d.table.num_columns() == 120);
  Dataset h = read_with("loghub", {{"root", root}, {"system", "HDFS"}});
  CHECK_FALSE(h.table.has_labels());
  CHECK(h.table.num_rows() > 0);
}
