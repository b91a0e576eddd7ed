// Reader "google2011" on small gzip job_events parts written by the tests: end-state labels,
// submit-time features, history counts, class filtering, max_parts, located errors for bad input,
// and two parts of the real trace where the data is present.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/register.h"

namespace fs = std::filesystem;

namespace {

// A fresh folder for one test's parts.
std::string make_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("opsbench_google_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void write_part(const std::string& dir, int index, const std::string& text) {
  char name[64];
  std::snprintf(name, sizeof name, "/part-%05d-of-00500.csv.gz", index);
  gzFile gz = gzopen((dir + name).c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(gz);
}

opsbench::Dataset read(const std::string& dir, std::vector<std::pair<std::string, std::string>> values = {}) {
  static const opsbench::Registry registry = [] {
    opsbench::Registry r;
    opsbench::register_datasets(r);
    return r;
  }();
  const opsbench::ReaderEntry& entry = registry.reader("google2011");
  values.emplace_back("path", dir);
  return entry.read(opsbench::resolve(entry.options, values, "reader google2011"), opsbench::ReadContext{});
}

// time(us),missing,job,event,user,class,name,logical
const char* const kPart0 =
    "0,,1,0,uA,2,n1,L1\n"
    "0,,1,1,uA,2,n1,L1\n"
    "3600000000,,2,0,uB,0,n2,L2\n"     // hour 1
    "3700000000,,1,4,uA,2,n1,L1\n"     // job 1 FINISH
    "90000000000,,3,0,uA,1,n3,L1\n"    // 25 h: day 1, hour 1
    "90000000001,,3,1,uA,1,n3,L1\n"
    "90000000002,,4,0,uB,3,n4,L4\n"
    "90000000003,,5,1,uC,3,n5,L5\n";   // job 5 never submitted in the trace
const char* const kPart1 =
    "90000000100,,2,5,uB,0,n2,L2\n"    // job 2 KILL
    "90000000200,,3,2,uA,1,n3,L1\n"    // job 3 EVICT ...
    "90000000300,,3,0,uA,1,n3,L1\n"    // ... resubmitted (the first SUBMIT gives the features)
    "90000000400,,3,3,uA,1,n3,L1\n"    // ... then FAIL: the last terminal event is the label
    "90000000500,,4,6,uB,3,n4,L4\n"    // job 4 LOST (not a default class)
    "90000000600,,5,4,uC,3,n5,L5\n"
    "90000000700,,6,0,uA,2,n6,L6\n"    // job 6 never ends
    "90000000800,,6,7,uA,2,n6,L6\n";

}  // namespace

TEST_CASE("google2011: end state labels and submit-time features", "[datasets][google2011]") {
  const std::string dir = make_dir("ok");
  write_part(dir, 0, kPart0);
  write_part(dir, 1, kPart1);
  const opsbench::Dataset d = read(dir);
  const opsbench::Table& t = d.table;
  REQUIRE(t.num_rows() == 3);  // jobs 1, 2, 3 in submit order
  CHECK(t.label().name == "end_state");
  CHECK(t.label().classes == std::vector<std::string>{"FAIL", "FINISH", "KILL"});
  CHECK(t.label().values == std::vector<int>{1, 2, 0});
  CHECK(t.column("scheduling_class").values() == std::vector<double>{2, 0, 1});
  CHECK(t.column("submit_hour").values() == std::vector<double>{0, 1, 1});
  CHECK(t.column("submit_day").values() == std::vector<double>{0, 0, 1});
  CHECK(t.column("user_prior_jobs").values() == std::vector<double>{0, 0, 1});  // job 3: uA submitted job 1 before
  CHECK(t.column("logical_name_prior_jobs").values() == std::vector<double>{0, 0, 1});
  CHECK(d.files.size() == 2);
  CHECK(d.description.find("1 without SUBMIT") != std::string::npos);
  CHECK(d.description.find("1 without end event") != std::string::npos);

  const opsbench::Table lost = read(dir, {{"classes", "LOST;FINISH"}}).table;
  CHECK(lost.label().classes == std::vector<std::string>{"FINISH", "LOST"});
  CHECK(lost.label().values == std::vector<int>{0, 1});  // job 1, job 4

  // max_parts=1: only part 0, where only job 1 has ended.
  const opsbench::Dataset one = read(dir, {{"max_parts", "1"}});
  CHECK(one.table.num_rows() == 1);
  CHECK(one.files.size() == 1);
}

TEST_CASE("google2011: bad input is a located DataError", "[datasets][google2011]") {
  using Catch::Matchers::Contains;
  const std::string dir = make_dir("bad");
  write_part(dir, 0, "0,,1,0,uA,2,n1,L1\n0,,1,1,uA,2,n1\n");
  CHECK_THROWS_WITH(read(dir), Contains("part-00000-of-00500.csv.gz:2"));

  write_part(dir, 0, "0,,1,0,uA,2,n1\n0,,1,1,uA,2,n1\n");
  CHECK_THROWS_WITH(read(dir), Contains(":1") && Contains("has 7 fields"));

  write_part(dir, 0, "0,,1,0,uA,2,n1,L1\n5,,1,9,uA,2,n1,L1\n");
  CHECK_THROWS_WITH(read(dir), Contains("part-00000-of-00500.csv.gz:2:4") && Contains("unknown event_type 9"));

  write_part(dir, 0, "0,,1,0,uA,2,n1,L1\nsoon,,1,4,uA,2,n1,L1\n");
  CHECK_THROWS_WITH(read(dir), Contains(":2:1") && Contains("time 'soon'"));

  write_part(dir, 0, "0,,1,0,uA,2,n1,L1\n");  // no job ends
  CHECK_THROWS_AS(read(dir), opsbench::DataError);
  CHECK_THROWS_AS(read(make_dir("empty")), opsbench::DataError);
  CHECK_THROWS_AS(read(dir, {{"classes", "DONE"}}), opsbench::ConfigError);
}

TEST_CASE("google2011: two parts of the real trace", "[datasets][google2011][data]") {
  std::string root = OPSBENCH_SOURCE_DIR "/../shared/data";
  if (const char* env = std::getenv("OPSBENCH_DATA")) root = env;
  const std::string dir = root + "/google2011/job_events";
  if (!fs::exists(dir + "/part-00000-of-00500.csv.gz")) {
    WARN("skipped: no Google 2011 trace at " + dir + " (set OPSBENCH_DATA)");
    return;
  }
  const opsbench::Dataset d = read(dir, {{"max_parts", "2"}});
  CHECK(d.files.size() == 2);
  const opsbench::Table& t = d.table;
  CHECK(t.num_rows() > 1000);
  CHECK(t.label().classes == std::vector<std::string>{"FAIL", "FINISH", "KILL"});
  for (double c : t.column("scheduling_class").values()) CHECK((std::isnan(c) || (c >= 0 && c <= 3)));
  for (double h : t.column("submit_hour").values()) REQUIRE((h >= 0 && h < 24));
}
