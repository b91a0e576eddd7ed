// The LDMS telemetry reader: header policy, run folder names, joins, labels, bad input; and a
// [data] check on the real ldms-hpas runs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/ldms.h"
#include "opsbench/datasets/register.h"

using namespace opsbench;
namespace fs = std::filesystem;

namespace {

const char* kMeta = "#Time,Time_usec,ProducerName,component_id,job_id,app_id";

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("opsbench_ldms_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A run of n seconds starting at epoch 1000 + offset: meminfo MemFree (drops when anomalous) and
// Cached (constant), vmstat pgfault (a counter), procstat user and a per-core metric.
void write_run(const fs::path& dir, int n, int offset = 0, bool truncated_tail = true) {
  std::string mem = std::string(kMeta) + ",MemFree,Cached\n";
  std::string vm = std::string(kMeta) + ",pgfault\n";
  std::string ps = std::string(kMeta) + ",user,per_core_user0\n";
  for (int i = 0; i < n; ++i) {
    const std::string t = std::to_string(1000 + offset + i) + ".0031,3100,node,1,0,0,";
    mem += t + std::to_string(5000 - (i % 7) * 10) + ",77\n";
    vm += t + std::to_string(100 + i * i) + "\n";
    ps += t + std::to_string(10 * i + (i % 3)) + "," + std::to_string(i) + "\n";
  }
  if (truncated_tail) mem += std::to_string(1000 + offset + n) + ".0031,3100,node";  // cut short, no newline
  write(dir / "data/memory_metrics/meminfo", mem);
  write(dir / "data/memory_metrics/vmstat", vm);
  write(dir / "data/process_metrics/procstat", ps);
}

Dataset read(const fs::path& root, std::vector<std::pair<std::string, std::string>> opts) {
  Registry registry;
  register_datasets(registry);
  const ReaderEntry& entry = registry.reader("ldms-hpas");
  opts.emplace_back("root", root.string());
  ReadContext ctx;
  return entry.read(resolve(entry.options, opts, "reader ldms-hpas"), ctx);
}

}  // namespace

TEST_CASE("a cut-short last record is dropped by default and an error on request", "[datasets][ldms]") {
  TempDir tmp("tail");
  write(tmp.path / "f.csv", std::string(kMeta) + ",a,b\n1.5,0,n,1,0,0,1,2\n2.5,0,n,1,0,0,3,4\n3.5,0,n,1,0,0,5");
  const LdmsFile f = read_ldms_file((tmp.path / "f.csv").string());
  CHECK(f.metrics == std::vector<std::string>{"a", "b"});
  CHECK(f.seconds == std::vector<std::int64_t>{1, 2});
  CHECK(f.values(1, 1) == 4);
  CHECK(f.dropped_truncated_tail);
  CHECK(f.truncated_tail_fields == 7);
  try {
    read_ldms_file((tmp.path / "f.csv").string(), TruncatedTail::kError);
    FAIL("expected a DataError");
  } catch (const DataError& e) {
    CHECK(e.line() == 4);
    CHECK_THAT(e.detail(), Catch::Contains("7 of the header's 8 fields"));
  }
}

TEST_CASE("a short row inside a file and a header that names too few fields are errors, never shifts",
          "[datasets][ldms]") {
  TempDir tmp("hdr");
  write(tmp.path / "mid.csv", std::string(kMeta) + ",a,b\n1.5,0,n,1,0,0,1,2\n2.5,0,n,1,0,0,3\n3.5,0,n,1,0,0,5,6\n");
  try {
    read_ldms_file((tmp.path / "mid.csv").string());
    FAIL("expected a DataError");
  } catch (const DataError& e) {
    CHECK(e.line() == 3);
  }
  // The shape the data README warns of: names for 56 data fields, rows of 61.
  std::string text = kMeta;
  for (int i = 0; i < 50; ++i) text += ",m" + std::to_string(i);
  text += "\n";
  for (int r = 0; r < 3; ++r) {
    text += std::to_string(10 + r) + ".0,0,n,1,0,0";
    for (int i = 0; i < 55; ++i) text += ",1";
    text += "\n";
  }
  write(tmp.path / "wide.csv", text);
  CHECK_THROWS_WITH(read_ldms_file((tmp.path / "wide.csv").string()),
                    Catch::Contains("header names 56 fields but the data rows hold 61"));
  write(tmp.path / "bad.csv", std::string(kMeta) + ",a\n1.5,0,n,1,0,0,x\n2.5,0,n,1,0,0,1\n");
  CHECK_THROWS_WITH(read_ldms_file((tmp.path / "bad.csv").string()), Catch::Contains(":2:7:"));
}

TEST_CASE("run folder names give the anomaly windows and settings", "[datasets][ldms]") {
  const RunInfo a = parse_run_folder("ExaMiniMD_CC_CO/separate/ST73_ET354_cL2_m0.8_ST501_ET765_u95");
  CHECK(a.application == "ExaMiniMD");
  CHECK(a.layout == "separate");
  REQUIRE(a.anomalies.size() == 2);
  CHECK(a.anomalies[0].type == "CC");
  CHECK(a.anomalies[0].start == 73);
  CHECK(a.anomalies[0].end == 354);
  CHECK(a.anomalies[0].settings == "cL2_m0.8");
  CHECK(a.anomalies[1].type == "CO");
  CHECK(a.anomalies[1].settings == "u95");
  CHECK(a.type_label() == "CC+CO");
  CHECK(parse_run_folder("ExaMiniMD").type_label() == "healthy");
  CHECK(parse_run_folder("ExaMiniMD_ML/ST180_ET699_s10M").anomalies.at(0).end == 699);
  CHECK_THROWS_AS(parse_run_folder("ExaMiniMD_CC_CO/separate/ST73_ET354_cL2_m0.8"), DataError);
  CHECK_THROWS_AS(parse_run_folder("ExaMiniMD_XX/ST1_ET2"), DataError);
  CHECK_THROWS_AS(parse_run_folder("ExaMiniMD_ML/ST9_ET2_s10M"), DataError);
  // Overlap rule: [begin, end) against [ST, ET).
  CHECK(window_label(a, 0, 73, 1) == 0);
  CHECK(window_label(a, 0, 74, 1) == 1);
  CHECK(window_label(a, 0, 74, 2) == 0);
  CHECK(window_label(a, 354, 501, 1) == 0);
  CHECK(window_type_label(a, 300, 600, 1) == "CC+CO");
}

TEST_CASE("runs join on seconds, per-core metrics are excluded and a missing file is named",
          "[datasets][ldms]") {
  TempDir tmp("run");
  write_run(tmp.path / "App", 20);
  write_run(tmp.path / "App_ML/ST5_ET10_s10M", 20, /*offset=*/100);
  CHECK(find_ldms_runs(tmp.path.string()) == std::vector<std::string>{"App", "App_ML/ST5_ET10_s10M"});
  const LdmsRun run = read_ldms_run(tmp.path.string(), "App_ML/ST5_ET10_s10M");
  CHECK(run.metrics == std::vector<std::string>{"meminfo.MemFree", "meminfo.Cached", "vmstat.pgfault", "procstat.user"});
  CHECK(run.seconds.size() == 20);
  CHECK(run.seconds.front() == 0);
  CHECK(run.files.size() == 3);
  REQUIRE_FALSE(run.notes.empty());
  CHECK_THAT(run.notes[0], Catch::Contains("cut-short"));

  fs::remove(tmp.path / "App/data/process_metrics/procstat");
  CHECK_THROWS_WITH(read_ldms_run(tmp.path.string(), "App"), Catch::Contains("has no process_metrics/procstat"));
}

TEST_CASE("windows: labels by overlap, group = run, counters differenced, window longer than a run fails",
          "[datasets][ldms]") {
  TempDir tmp("win");
  write_run(tmp.path / "App", 40);
  write_run(tmp.path / "App_ML/ST5_ET10_s10M", 40, 100);
  const Dataset ds = read(tmp.path, {{"window", "10"}, {"stride", "10"}, {"select_k", "0"}});
  const Table& t = ds.table;
  // 39 usable seconds per run (first dropped by differencing) -> 3 windows each.
  REQUIRE(t.num_rows() == 6);
  CHECK(t.group_names() == std::vector<std::string>{"App", "App_ML/ST5_ET10_s10M"});
  CHECK(t.groups() == std::vector<int>{0, 0, 0, 1, 1, 1});
  // Windows of the ML run cover seconds [1,11), [11,21), [21,31): only the first overlaps [5,10).
  CHECK(t.label().values == std::vector<int>{0, 0, 0, 1, 0, 0});
  CHECK(t.has_column("vmstat.pgfault.rate.mean"));
  CHECK(t.has_column("meminfo.MemFree.mean"));
  CHECK_FALSE(t.has_column("meminfo.Cached.mean"));  // constant everywhere: dropped
  // pgfault = 100 + i^2 -> rate 2i - 1; first window i = 1..10 -> mean 10.
  CHECK(t.column("vmstat.pgfault.rate.mean").values()[0] == Approx(10.0));

  const Dataset by_run = read(tmp.path, {{"sample", "run"}, {"select_k", "0"}});
  CHECK(by_run.table.num_rows() == 2);
  CHECK(by_run.table.label().values == std::vector<int>{0, 1});

  CHECK_THROWS_WITH(read(tmp.path, {{"window", "50"}, {"select_k", "0"}}),
                    Catch::Contains("longer than run 'App'"));
  CHECK_THROWS_AS(read(tmp.path, {{"window", "10"}, {"truncated_tail", "error"}}), DataError);
}

TEST_CASE("chi2 selection keeps k columns and holds the labelled samples out", "[datasets][ldms]") {
  TempDir tmp("sel");
  write_run(tmp.path / "App", 40);
  write_run(tmp.path / "App_ML/ST5_ET10_s10M", 40, 100);
  const Dataset ds = read(tmp.path, {{"window", "10"}, {"stride", "5"}, {"select_k", "7"}});
  CHECK(ds.table.num_columns() == 7);
  // 6 windows per run (starts 1, 6, ..., 26), one labelled sample per class (healthy, ML) held out.
  CHECK(ds.table.num_rows() == 10);
  CHECK_THAT(ds.description, Catch::Contains("chi2 top 7"));
  const Dataset again = read(tmp.path, {{"window", "10"}, {"stride", "5"}, {"select_k", "7"}});
  CHECK(again.table.column_names() == ds.table.column_names());
}

TEST_CASE("the real ldms-hpas runs read with the default policy", "[datasets][ldms][data]") {
  const char* env = std::getenv("OPSBENCH_DATA");
  const fs::path root = fs::path(env ? env : OPSBENCH_SOURCE_DIR "/../shared/data") / "telemetry/ldms-hpas";
  if (!fs::is_directory(root)) {
    WARN("skipped: no ldms-hpas data at " << root.string());
    return;
  }
  const auto runs = find_ldms_runs(root.string());
  CHECK(runs.size() == 56);
  // The base run's meminfo ends with a 56-field row under its 61-field header.
  const LdmsFile mem = read_ldms_file((root / "ExaMiniMD/data/memory_metrics/meminfo.gz").string());
  CHECK(mem.metrics.size() == 55);
  CHECK(mem.dropped_truncated_tail);
  CHECK(mem.truncated_tail_fields == 56);
  CHECK_THROWS_AS(read_ldms_file((root / "ExaMiniMD/data/memory_metrics/meminfo.gz").string(), TruncatedTail::kError),
                  DataError);
  const Dataset ds = read(root, {{"select_k", "300"}});
  const Table& t = ds.table;
  CHECK(t.num_columns() == 300);
  CHECK(t.group_names().size() == 56);
  std::size_t anomalous = 0;
  for (int v : t.label().values) anomalous += static_cast<std::size_t>(v);
  const double ratio = static_cast<double>(anomalous) / static_cast<double>(t.num_rows());
  CHECK(ratio > 0.4);
  CHECK(ratio < 0.7);
  CHECK(ds.files.size() == 168);
}
