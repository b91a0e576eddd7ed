// Readers "flowbench-text" and "hdfs-text": small traces and text files written here, and the real
// folders under ../shared/data where they are present ([data]).
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/register.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using opsbench::ConfigError;
using opsbench::DataError;
using opsbench::Dataset;
using opsbench::Part;
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

std::string data_root() {
  if (const char* env = std::getenv("OPSBENCH_DATA")) return env;
  return OPSBENCH_SOURCE_DIR "/../shared/data";
}

std::vector<std::size_t> part_rows(const Dataset& d, Part part) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < d.given_split->size(); ++i) {
    if ((*d.given_split)[i] == part) rows.push_back(i);
  }
  return rows;
}

// ---- flowbench-text fixture -------------------------------------------------------------------
//
// Seven jobs in two runs. A appears twice (identical jobs), F has missing stage values. The release
// holds A and D in test and E in validation, so duplicates=exclude trains on B, C, F and
// duplicates=keep on B, C, A (the second copy), F.
constexpr const char* kTraceHeader =
    ",anomaly_type,type,wms_delay,queue_delay,runtime,post_script_delay,stage_in_delay,stage_out_delay,"
    "stage_in_bytes,stage_out_bytes,kickstart_executables_cpu_time\n";
constexpr const char* kA =
    "wms_delay is 6.0 queue_delay is 1006.0 runtime is 808.0 post_script_delay is 5.0 "
    "stage_in_delay is 15.0 stage_out_delay is 4.0 stage_in_bytes is 1014254291.0 "
    "stage_out_bytes is 401318.0 kickstart_executables_cpu_time is 771.8 ";
constexpr const char* kD =
    "wms_delay is 7.0 queue_delay is 2.0 runtime is 90.5 post_script_delay is 5.0 "
    "stage_in_delay is 1.0 stage_out_delay is 2.0 stage_in_bytes is 10.0 "
    "stage_out_bytes is 20.0 kickstart_executables_cpu_time is 0.25 ";
constexpr const char* kE =
    "wms_delay is 5.0 queue_delay is 0.0 runtime is 5.0 post_script_delay is 5.0 "
    "stage_in_delay is nan stage_out_delay is nan stage_in_bytes is nan "
    "stage_out_bytes is nan kickstart_executables_cpu_time is 1.8 ";

void write_flowbench_fixture(const TempDir& dir) {
  dir.write("flowbench/normal/1000-genome-run0001.csv",
            std::string(kTraceHeader) +
                "A_1,None,compute,6,1006,808,5,15,4,1014254291,401318,771.8\n"
                "B_1,None,compute,1,2,3,4,5,6,7,8,9\n"
                "C_1,None,auxiliary,1,2,3,4,,,,,0.5\n"
                "A_2,None,compute,6,1006,808,5,15,4,1014254291,401318,771.8\n");
  dir.write("flowbench/cpu_2/1000-genome-run0002.csv", std::string(kTraceHeader) +
                                                           "D_1,cpu_2,compute,7,2,90.5,5,1,2,10,20,0.25\n"
                                                           "E_1,None,auxiliary,5,0,5,5,,,,,1.8\n"
                                                           "F_1,cpu_2,compute,8,1,100,5,,,,,12\n");
  dir.write("flowbench-text/1000genome/test.csv", std::string("text,label\n") + kA + ",0\n" + kD + ",1\n");
  dir.write("flowbench-text/1000genome/validation.csv", std::string("text,label\n") + kE + ",0\n");
}

Dataset read_flowbench_text(const TempDir& dir, std::vector<std::pair<std::string, std::string>> values = {},
                            const ReadContext& ctx = {}) {
  values.emplace_back("root", dir.path() + "/flowbench");
  values.emplace_back("text_root", dir.path() + "/flowbench-text");
  return read_with("flowbench-text", values, ctx);
}

}  // namespace

TEST_CASE("flowbench-text: released rows as test/validation, training rebuilt without them",
          "[datasets][text][flowbench]") {
  TempDir dir;
  write_flowbench_fixture(dir);
  const Dataset d = read_flowbench_text(dir);
  REQUIRE(d.given_split.has_value());
  CHECK(*d.given_split ==
        std::vector<Part>{Part::kTrain, Part::kTrain, Part::kTrain, Part::kValidation, Part::kTest, Part::kTest});
  const auto& texts = d.table.column("text").texts();
  CHECK(texts[3] == kE);
  CHECK(texts[4] == kA);
  CHECK(texts[5] == kD);
  // B, C, F in reader order; A's second copy is dropped because A is a test sentence.
  CHECK(texts[0] ==
        "wms_delay is 1.0 queue_delay is 2.0 runtime is 3.0 post_script_delay is 4.0 stage_in_delay is 5.0 "
        "stage_out_delay is 6.0 stage_in_bytes is 7.0 stage_out_bytes is 8.0 "
        "kickstart_executables_cpu_time is 9.0 ");
  CHECK(texts[2].rfind("wms_delay is 8.0 queue_delay is 1.0", 0) == 0);
  CHECK(d.table.label().values == std::vector<int>{0, 0, 1, 0, 0, 1});
  CHECK(d.table.label().classes == std::vector<std::string>{"normal", "anomalous"});
  CHECK(d.table.column_names() == std::vector<std::string>{"text", "wms_delay", "queue_delay", "runtime",
                                                           "post_script_delay", "stage_in_delay", "stage_out_delay",
                                                           "stage_in_bytes", "stage_out_bytes",
                                                           "kickstart_executables_cpu_time"});
  // Numeric columns: training rows from the traces, released rows parsed from their text.
  CHECK(d.table.column("runtime").values()[5] == 90.5);
  CHECK(d.table.column("kickstart_executables_cpu_time").values()[5] == 0.25);
  CHECK(d.table.column("stage_in_bytes").is_missing(3));
  CHECK(d.table.column("stage_in_bytes").is_missing(1));
  CHECK(d.table.column("stage_in_bytes").values()[4] == 1014254291.0);
  // Groups: the run of the job each released row claimed.
  const auto& names = d.table.group_names();
  const auto& groups = d.table.groups();
  CHECK(names[static_cast<std::size_t>(groups[4])] == "normal/1000-genome-run0001");
  CHECK(names[static_cast<std::size_t>(groups[5])] == "cpu_2/1000-genome-run0002");
  CHECK(names[static_cast<std::size_t>(groups[3])] == "cpu_2/1000-genome-run0002");
  CHECK(d.files.size() == 4);  // two runs, test, validation
  CHECK(d.description.find("1 dropped as copies") != std::string::npos);

  const Dataset keep = read_flowbench_text(dir, {{"duplicates", "keep"}});
  CHECK(part_rows(keep, Part::kTrain).size() == 4);
  CHECK(keep.table.column("text").texts()[2] == kA);  // the unclaimed copy stays
}

TEST_CASE("flowbench-text: feature prefixes and a stratified training limit", "[datasets][text][flowbench]") {
  TempDir dir;
  write_flowbench_fixture(dir);
  const Dataset two = read_flowbench_text(dir, {{"text_features", "2"}});
  CHECK(two.table.column("text").texts()[4] == "wms_delay is 6.0 queue_delay is 1006.0 ");
  CHECK(two.table.column("text").texts()[3] == "wms_delay is 5.0 queue_delay is 0.0 ");
  CHECK(two.table.column_names() == std::vector<std::string>{"text", "wms_delay", "queue_delay"});
  CHECK_THROWS_AS(read_flowbench_text(dir, {{"text_features", "10"}}), ConfigError);

  ReadContext ctx;
  ctx.seed = 11;
  const Dataset a = read_flowbench_text(dir, {{"train_limit", "2"}}, ctx);
  const Dataset b = read_flowbench_text(dir, {{"train_limit", "2"}}, ctx);
  const auto train = part_rows(a, Part::kTrain);
  REQUIRE(train.size() == 2);
  // One of the two normal training jobs (B, C) and the anomalous one (F), which is 1/3 of them.
  CHECK(a.table.label().values[train[0]] == 0);
  CHECK(a.table.label().values[train[1]] == 1);
  CHECK(a.table.column("text").texts() == b.table.column("text").texts());
  CHECK(part_rows(a, Part::kTest).size() == 2);  // evaluation rows are never subsampled
}

TEST_CASE("flowbench-text: unmatched released rows are bounded", "[datasets][text][flowbench]") {
  TempDir dir;
  write_flowbench_fixture(dir);
  const std::string stranger = std::string(kD).replace(0, 16, "wms_delay is 9.0");
  dir.write("flowbench-text/1000genome/validation.csv", std::string("text,label\n") + kE + ",0\n" + stranger + ",1\n");
  CHECK_THROWS_AS(read_flowbench_text(dir), DataError);  // 1 of 4 > 1%
  const Dataset d = read_flowbench_text(dir, {{"max_unmatched", "0.25"}});
  const auto validation = part_rows(d, Part::kValidation);
  REQUIRE(validation.size() == 2);
  CHECK(d.table.group_names()[static_cast<std::size_t>(d.table.groups()[validation[1]])] == "unmatched");
  CHECK(d.table.column("wms_delay").values()[validation[1]] == 9.0);
}

TEST_CASE("flowbench-text: bad input is a DataError with its place", "[datasets][text][flowbench]") {
  TempDir dir;
  write_flowbench_fixture(dir);
  const std::string valid = std::string("text,label\n") + kE + ",0\n";
  SECTION("missing file") {
    dir.remove("flowbench-text/1000genome/validation.csv");
    try {
      read_flowbench_text(dir);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.file().find("validation.csv") != std::string::npos);
    }
  }
  SECTION("missing column") {
    dir.write("flowbench-text/1000genome/validation.csv", std::string("sentence,label\n") + kE + ",0\n");
    try {
      read_flowbench_text(dir);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.line() == 1);
    }
  }
  SECTION("malformed row") {
    dir.write("flowbench-text/1000genome/validation.csv", valid + kE + ",0,7\n");
    try {
      read_flowbench_text(dir);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.file().find("validation.csv") != std::string::npos);
      CHECK(e.line() == 3);
    }
  }
  SECTION("bad label") {
    dir.write("flowbench-text/1000genome/validation.csv", valid + kE + ",2\n");
    try {
      read_flowbench_text(dir);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.line() == 3);
      CHECK(e.column() == 2);
    }
  }
  SECTION("text off the template") {
    dir.write("flowbench-text/1000genome/validation.csv", valid + "queue_delay is 1.0 wms_delay is 2.0 ,0\n");
    try {
      read_flowbench_text(dir, {{"max_unmatched", "1"}});
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.line() == 3);
    }
  }
  SECTION("no traces") { CHECK_THROWS_AS(read_flowbench_text(dir, {{"workflow", "montage"}}), DataError); }
}

// ---- hdfs-text fixture ------------------------------------------------------------------------

namespace {

void write_hdfs_fixture(const TempDir& dir) {
  std::string normal;
  for (int i = 0; i < 10; ++i) normal += i % 2 ? "22 5 5\n" : "22 5 9 " + std::to_string(i % 3 ? 5 : 9) + "\n";
  dir.write("hdfs/hdfs_train", normal + "\n");  // a blank line is no session
  dir.write("hdfs/hdfs_test_abnormal", "22 3\n5 3 3\n22 9\n3\n22 5 3 9\n9 9 3\n");
  dir.write("HDFS_templates.csv",
            "EventId,EventTemplate\n"
            "E3,<*>Served block<*>to<*>\n"
            "E5,<*>Receiving block<*>src:<*>dest:<*>\n"
            "E9,<*>Received block<*>of size<*>from<*>\n"
            "E22,<*>BLOCK* NameSystem<*>allocateBlock:<*>\n");
}

Dataset read_hdfs_text(const TempDir& dir, std::vector<std::pair<std::string, std::string>> values = {},
                       const ReadContext& ctx = {}) {
  values.emplace_back("root", dir.path());
  values.emplace_back("templates", dir.path() + "/HDFS_templates.csv");
  values.emplace_back("fraction_of", "available");
  return read_with("hdfs-text", values, ctx);
}

}  // namespace

TEST_CASE("hdfs-text: sessions as template text, 2:1 training part and balanced test part", "[datasets][text][hdfs]") {
  TempDir dir;
  write_hdfs_fixture(dir);
  ReadContext ctx;
  ctx.seed = 5;
  // 16 sessions * 0.375 = 6 training sessions: 4 normal + 2 abnormal; test 2 + 2.
  const Dataset d = read_hdfs_text(dir, {{"train_fraction", "0.375"}, {"test_size", "2"}}, ctx);
  REQUIRE(d.given_split.has_value());
  CHECK(*d.given_split == std::vector<Part>{Part::kTrain, Part::kTrain, Part::kTrain, Part::kTrain, Part::kTrain,
                                            Part::kTrain, Part::kTest, Part::kTest, Part::kTest, Part::kTest});
  CHECK(d.table.label().values == std::vector<int>{0, 0, 0, 0, 1, 1, 0, 0, 1, 1});
  CHECK(d.table.column_names() == std::vector<std::string>{"text"});
  const std::set<std::string> normal_texts = {
      "<*> BLOCK* NameSystem <*> allocateBlock: <*>. <*> Receiving block <*> src: <*> dest: <*>. "
      "<*> Receiving block <*> src: <*> dest: <*>",
      "<*> BLOCK* NameSystem <*> allocateBlock: <*>. <*> Receiving block <*> src: <*> dest: <*>. "
      "<*> Received block <*> of size <*> from <*>. <*> Received block <*> of size <*> from <*>",
      "<*> BLOCK* NameSystem <*> allocateBlock: <*>. <*> Receiving block <*> src: <*> dest: <*>. "
      "<*> Received block <*> of size <*> from <*>. <*> Receiving block <*> src: <*> dest: <*>"};
  for (std::size_t i = 0; i < 4; ++i) CHECK(normal_texts.count(d.table.column("text").texts()[i]) == 1);
  const Dataset again = read_hdfs_text(dir, {{"train_fraction", "0.375"}, {"test_size", "2"}}, ctx);
  CHECK(again.table.column("text").texts() == d.table.column("text").texts());
  CHECK(d.files.size() == 3);

  // Every session lands in at most one part: with all sessions drawn, each text occurs as often as
  // in the files (abnormal texts are all distinct here).
  const Dataset all = read_hdfs_text(dir, {{"train_fraction", "0.375"}, {"test_size", "4"}}, ctx);
  std::multiset<std::string> abnormal;
  for (std::size_t i = 0; i < all.table.num_rows(); ++i) {
    if (all.table.label().values[i] == 1) abnormal.insert(all.table.column("text").texts()[i]);
  }
  CHECK(abnormal.size() == 6);
  CHECK(std::set<std::string>(abnormal.begin(), abnormal.end()).size() == 6);
}

TEST_CASE("hdfs-text: tokens, separators, placeholders", "[datasets][text][hdfs]") {
  TempDir dir;
  write_hdfs_fixture(dir);
  const Dataset tokens = read_hdfs_text(dir, {{"keys", "tokens"},
                                              {"separator", "space"},
                                              {"train_fraction", "0.125"},
                                              {"train_ratio", "1"},
                                              {"test_size", "0"}});
  REQUIRE(tokens.table.num_rows() == 2);
  CHECK(tokens.files.size() == 2);  // no templates file read
  for (const auto& text : tokens.table.column("text").texts()) CHECK(text.rfind("E", 0) == 0);
  const Dataset plain = read_hdfs_text(dir, {{"placeholders", "false"},
                                             {"separator", "sep"},
                                             {"test_size", "0"},
                                             {"train_fraction", "0.125"},
                                             {"train_ratio", "1"}});
  for (const auto& text : plain.table.column("text").texts()) {
    CHECK(text.find("<*>") == std::string::npos);
    CHECK(text.find("  ") == std::string::npos);
  }
}

TEST_CASE("hdfs-text: bad input", "[datasets][text][hdfs]") {
  TempDir dir;
  write_hdfs_fixture(dir);
  const std::vector<std::pair<std::string, std::string>> small = {{"train_fraction", "0.25"}, {"test_size", "1"}};
  SECTION("a key without a template") {
    dir.write("hdfs/hdfs_test_abnormal", "22 3\n5 3 3\n22 9\n3\n22 5 3 9\n9 9 4\n");
    // Checked in every session, drawn or not.
    try {
      read_hdfs_text(dir, small);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.file().find("hdfs_test_abnormal") != std::string::npos);
      CHECK(e.line() == 6);
    }
  }
  SECTION("a token that is not a key") {
    dir.write("hdfs/hdfs_train", "22 5\n22 x5\n");
    try {
      read_hdfs_text(dir, small);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.line() == 2);
      CHECK(e.column() == 4);
    }
  }
  SECTION("templates file") {
    dir.remove("HDFS_templates.csv");
    CHECK_THROWS_AS(read_hdfs_text(dir, small), DataError);
    dir.write("HDFS_templates.csv", "Id,EventTemplate\nE3,x\n");
    CHECK_THROWS_AS(read_hdfs_text(dir, small), DataError);
    dir.write("HDFS_templates.csv", "EventId,EventTemplate\nE3,x\nX5,y\n");
    try {
      read_hdfs_text(dir, small);
      FAIL("no error");
    } catch (const DataError& e) {
      CHECK(e.line() == 3);
    }
  }
  SECTION("missing session file") {
    dir.remove("hdfs/hdfs_train");
    CHECK_THROWS_AS(read_hdfs_text(dir, small), DataError);
  }
  SECTION("more sessions asked for than there are") {
    CHECK_THROWS_AS(read_hdfs_text(dir, {{"train_fraction", "0.375"}, {"test_size", "5"}}), ConfigError);
  }
}

// ---- the real data ----------------------------------------------------------------------------

TEST_CASE("flowbench-text on the real 1000genome release", "[datasets][text][flowbench][data]") {
  const std::string root = data_root();
  if (!fs::exists(root + "/flowbench-text/1000genome/test.csv.gz") || !fs::is_directory(root + "/flowbench")) {
    WARN("skipped: no Flow-Bench text release or traces under " << root << " (set OPSBENCH_DATA)");
    return;
  }
  ReadContext ctx;
  ctx.data_root = root;
  const Dataset d = read_with("flowbench-text", {}, ctx);
  const auto test = part_rows(d, Part::kTest);
  const auto validation = part_rows(d, Part::kValidation);
  const auto train = part_rows(d, Part::kTrain);
  // Row counts of the release (data README: 4,809 test rows; paper: 3,229 normal / 1,580 anomalous).
  REQUIRE(test.size() == 4809);
  CHECK(validation.size() == 4809);
  std::size_t anomalous = 0;
  for (std::size_t r : test) anomalous += static_cast<std::size_t>(d.table.label().values[r]);
  CHECK(anomalous == 1580);
  // Counted independently with Python 3's csv module and repr(float) over the same files: 48,087
  // jobs, every released row matched, 10,978 jobs whose sentence is a released one, 37,109 left.
  CHECK(train.size() == 37109);
  CHECK(d.description.find("0 unmatched, 0 label mismatches") != std::string::npos);
  const auto& texts = d.table.column("text").texts();
  std::set<std::string> evaluation;
  for (std::size_t r : test) evaluation.insert(texts[r]);
  for (std::size_t r : validation) evaluation.insert(texts[r]);
  std::size_t leaked = 0;
  for (std::size_t r : train) leaked += evaluation.count(texts[r]);
  CHECK(leaked == 0);
  CHECK(d.table.group_names().size() == 351);  // runs; no "unmatched" group
  std::size_t anomalous_train = 0;
  for (std::size_t r : train) anomalous_train += static_cast<std::size_t>(d.table.label().values[r]);
  WARN("flowbench-text 1000genome: " << d.description << "; anomalous training rows " << anomalous_train);
}

TEST_CASE("hdfs-text on the real logdeep sessions and loghub templates", "[datasets][text][hdfs][data]") {
  const std::string root = data_root();
  if (!fs::exists(root + "/logs/hdfs-logdeep/hdfs/hdfs_train.gz") ||
      !fs::exists(root + "/logs/loghub/HDFS/HDFS_templates.csv")) {
    WARN("skipped: no logdeep sessions or loghub HDFS templates under " << root << " (set OPSBENCH_DATA)");
    return;
  }
  ReadContext ctx;
  ctx.data_root = root;
  ctx.seed = 1;
  const Dataset d = read_with("hdfs-text", {}, ctx);
  // 1% of HDFS_v1's 575,061 sessions = 5,751 at 2:1 -> 3,834 normal + 1,917 abnormal; 1,000 + 1,000 test.
  CHECK(part_rows(d, Part::kTrain).size() == 5751);
  CHECK(part_rows(d, Part::kTest).size() == 2000);
  CHECK(d.table.label().class_counts() == std::vector<std::size_t>{4834, 2917});
  // Key 22 (allocateBlock) opens every block: 4,856 occurrences in the 4,855 normal sessions.
  std::size_t allocate = 0;
  for (std::size_t i = 0; i < 3834; ++i) {
    allocate +=
        d.table.column("text").texts()[i].find("<*> BLOCK* NameSystem <*> allocateBlock: <*>") != std::string::npos;
  }
  CHECK(allocate >= 3833);
  CHECK(d.table.column("text").texts()[0].find("E22") == std::string::npos);
  const Dataset small = read_with("hdfs-text", {{"fraction_of", "available"}, {"test_size", "50"}}, ctx);
  // round(0.01 * 21,693) = 217 -> 72 abnormal + 145 normal.
  CHECK(small.table.label().class_counts() == std::vector<std::size_t>{195, 122});
}
