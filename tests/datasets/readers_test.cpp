// Readers "csv" and "flowbench": schema handling, every bad input, provenance, and the real
// Flow-Bench data where it is present.
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/csv_dataset.h"
#include "opsbench/datasets/register.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using opsbench::ConfigError;
using opsbench::CsvSchema;
using opsbench::DataError;
using opsbench::Dataset;
using opsbench::read_csv_dataset;

namespace {

using opsbench::testing::TempDir;

template <typename E, typename F>
E expect_error(F body) {
  try {
    body();
  } catch (const E& e) {
    return e;
  }
  FAIL("expected an error of the given type");
  throw std::logic_error("unreachable");
}

Dataset read_with(const std::string& reader, const std::vector<std::pair<std::string, std::string>>& values,
                  const opsbench::ReadContext& ctx) {
  opsbench::Registry registry;
  opsbench::register_datasets(registry);
  const auto& entry = registry.reader(reader);
  return entry.read(opsbench::resolve(entry.options, values, "reader " + reader), ctx);
}

const char* kJobs =
    "job,host,runtime,bytes,when,status\n"
    "j1,w1,10.5,100,2022-08-05 23:59:31,ok\n"
    "j2,w2,NaN,,1659743972,fail\n"
    "j3,w1,12,300,2022-08-05T23:59:33Z,ok\n"
    "j4,NA,-1e2,null,1659743974.9,ok\n";

}  // namespace

TEST_CASE("csv dataset infers numeric and categorical columns and reads missing values", "[datasets][csv]") {
  TempDir dir;
  CsvSchema schema;
  schema.label = "status";
  schema.positive = {"fail"};
  schema.timestamp = {"when"};
  schema.ignore = {"job"};
  Dataset d = read_csv_dataset(schema, dir.write("jobs.csv", kJobs));
  const auto& t = d.table;
  REQUIRE(t.num_rows() == 4);
  CHECK(t.column_names() == std::vector<std::string>{"host", "runtime", "bytes", "when"});
  CHECK(t.column("host").type() == opsbench::ColumnType::kCategorical);
  CHECK(t.column("host").is_missing(3));  // "NA"
  CHECK(t.column("runtime").type() == opsbench::ColumnType::kNumeric);
  CHECK(t.column("runtime").is_missing(1));  // "NaN"
  CHECK(t.column("runtime").values()[3] == -100.0);
  CHECK(t.column("bytes").missing_count() == 2);  // "" and "null"
  // Epoch values from Python calendar.timegm(datetime(2022, 8, 5, 23, 59, 31 + i)).
  CHECK(t.column("when").timestamps() == std::vector<std::int64_t>{1659743971, 1659743972, 1659743973, 1659743974});
  CHECK(t.label().values == std::vector<int>{0, 1, 0, 0});
  CHECK(t.label().classes == std::vector<std::string>{"not fail", "fail"});
  CHECK_FALSE(t.has_groups());
  CHECK_FALSE(d.given_split.has_value());
  REQUIRE(d.files.size() == 1);
  CHECK(d.files[0].sha256.size() == 64);
  CHECK(d.files[0].bytes == std::string(kJobs).size());
}

TEST_CASE("csv dataset label mappings", "[datasets][csv]") {
  TempDir dir;
  const auto file = dir.write("l.csv", "x,y,g\n1,b,r1\n2,a,r2\n3,c,r1\n4,a,r3\n");
  CsvSchema schema;
  schema.label = "y";
  SECTION("distinct values, sorted") {
    Dataset d = read_csv_dataset(schema, file);
    CHECK(d.table.label().classes == std::vector<std::string>{"a", "b", "c"});
    CHECK(d.table.label().values == std::vector<int>{1, 0, 2, 0});
    CHECK(d.table.column_names() == std::vector<std::string>{"x", "g"});
  }
  SECTION("normal values are class 0") {
    schema.normal = {"a"};
    Dataset d = read_csv_dataset(schema, file);
    CHECK(d.table.label().values == std::vector<int>{1, 0, 1, 0});
    CHECK(d.table.label().classes == std::vector<std::string>{"a", "not a"});
  }
  SECTION("both lists must cover every value") {
    schema.normal = {"a"};
    schema.positive = {"b"};
    auto e = expect_error<DataError>([&] { read_csv_dataset(schema, file); });
    CHECK(e.line() == 4);
    CHECK(e.column() == 2);
  }
  SECTION("groups") {
    schema.group = "g";
    Dataset d = read_csv_dataset(schema, file);
    CHECK(d.table.groups() == std::vector<int>{0, 1, 0, 2});
    CHECK(d.table.group_names() == std::vector<std::string>{"r1", "r2", "r3"});
    CHECK(d.table.column_names() == std::vector<std::string>{"x"});
  }
}

TEST_CASE("csv dataset numeric labels sort numerically and match numerically", "[datasets][csv]") {
  TempDir dir;
  const auto file = dir.write("n.csv", "x,y\n1,10\n2,2\n3,0\n4,2.0\n");
  CsvSchema schema;
  schema.label = "y";
  Dataset d = read_csv_dataset(schema, file);
  CHECK(d.table.label().classes == std::vector<std::string>{"0", "2", "10"});
  CHECK(d.table.label().values == std::vector<int>{2, 1, 0, 1});
  schema.positive = {"2"};
  d = read_csv_dataset(schema, file);
  CHECK(d.table.label().values == std::vector<int>{0, 1, 0, 1});

  const auto binary = dir.write("b.csv", "x,label\n1,0\n2,1\n3,1\n");
  schema.positive.clear();
  schema.label = "label";
  d = read_csv_dataset(schema, binary);
  CHECK(d.table.label().classes == std::vector<std::string>{"0", "1"});
  CHECK(d.table.label().values == std::vector<int>{0, 1, 1});
}

TEST_CASE("csv dataset: a schema column absent from the header is a ConfigError", "[datasets][csv]") {
  TempDir dir;
  const auto file = dir.write("jobs.csv", kJobs);
  CsvSchema schema;
  schema.numeric = {"runtime", "walltime"};
  auto e = expect_error<ConfigError>([&] { read_csv_dataset(schema, file); });
  CHECK(std::string(e.what()).find("'walltime'") != std::string::npos);
  CHECK(std::string(e.what()).find("job, host, runtime, bytes, when, status") != std::string::npos);

  schema.numeric = {"runtime"};
  schema.label = "runtime";
  e = expect_error<ConfigError>([&] { read_csv_dataset(schema, file); });
  CHECK(std::string(e.what()).find("both") != std::string::npos);
}

TEST_CASE("csv dataset: non-numeric value in a numeric column names file:line:column", "[datasets][csv]") {
  TempDir dir;
  const auto file = dir.write("jobs.csv", kJobs);
  CsvSchema schema;
  schema.numeric = {"host"};
  auto e = expect_error<DataError>([&] { read_csv_dataset(schema, file); });
  CHECK(std::string(e.what()).find(file + ":2:2") != std::string::npos);
  CHECK(e.detail().find("'w1' is not a number") != std::string::npos);

  schema.numeric.clear();
  schema.timestamp = {"host"};
  e = expect_error<DataError>([&] { read_csv_dataset(schema, file); });
  CHECK(e.line() == 2);
  CHECK(e.detail().find("timestamp") != std::string::npos);
}

TEST_CASE("csv dataset: a column missing in every row is a DataError naming it", "[datasets][csv]") {
  TempDir dir;
  const auto file = dir.write("m.csv", "a,empty,b\n1,,x\n2,nan,y\n3,NA,z\n");
  auto e = expect_error<DataError>([&] { read_csv_dataset(CsvSchema{}, file); });
  CHECK(e.detail().find("'empty'") != std::string::npos);
  CHECK(e.detail().find("all values missing") != std::string::npos);
  CsvSchema ignore;
  ignore.ignore = {"empty"};
  CHECK(read_csv_dataset(ignore, file).table.num_columns() == 2);
}

TEST_CASE("csv dataset: a missing label value is a DataError", "[datasets][csv]") {
  TempDir dir;
  const auto file = dir.write("l.csv", "x,y\n1,a\n2,\n");
  CsvSchema schema;
  schema.label = "y";
  auto e = expect_error<DataError>([&] { read_csv_dataset(schema, file); });
  CHECK(std::string(e.what()).find(file + ":3:2") != std::string::npos);
  CHECK(e.detail().find("missing") != std::string::npos);
}

TEST_CASE("csv dataset: format errors surface with their place", "[datasets][csv]") {
  TempDir dir;
  auto e = expect_error<DataError>([&] { read_csv_dataset(CsvSchema{}, dir.write("f.csv", "a,b\n1,2\n3\n")); });
  CHECK(e.line() == 3);
  e = expect_error<DataError>([&] { read_csv_dataset(CsvSchema{}, dir.write("q.csv", "a,b\n1,\"2\n")); });
  CHECK(e.line() == 2);
  e = expect_error<DataError>([&] { read_csv_dataset(CsvSchema{}, dir.write("e.csv", "")); });
  CHECK(e.detail().find("empty file") != std::string::npos);
  e = expect_error<DataError>([&] { read_csv_dataset(CsvSchema{}, dir.write("d.csv", "a,b,a\n1,2,3\n")); });
  CHECK(e.column() == 3);
  CHECK(e.detail().find("duplicate") != std::string::npos);
}

TEST_CASE("csv dataset: quoted fields and gzip", "[datasets][csv]") {
  TempDir dir;
  const std::string text = "msg,v\n\"line one\nline two\",1\n\"say \"\"x\"\"\",2\n";
  CsvSchema schema;
  schema.text = {"msg"};
  Dataset d = read_csv_dataset(schema, dir.write_gz("t.csv.gz", text));
  CHECK(d.table.column("msg").texts() == std::vector<std::string>{"line one\nline two", "say \"x\""});
  CHECK(d.table.column("v").values() == std::vector<double>{1.0, 2.0});
}

TEST_CASE("csv dataset with given train/validation/test files", "[datasets][csv]") {
  TempDir dir;
  const auto train = dir.write("train.csv", "x,y,label\n1,a,0\n2,b,0\n");
  const auto validation = dir.write("valid.csv", "label,x,y\n1,3,c\n");  // column order may differ
  const auto test = dir.write_gz("test.csv.gz", "x,y,label\n4,a,1\n5,b,0\n");
  CsvSchema schema;
  schema.label = "label";
  Dataset d = read_csv_dataset(schema, train, validation, test);
  REQUIRE(d.given_split.has_value());
  using opsbench::Part;
  CHECK(*d.given_split == std::vector<Part>{Part::kTrain, Part::kTrain, Part::kValidation, Part::kTest, Part::kTest});
  CHECK(d.table.column("x").values() == std::vector<double>{1, 2, 3, 4, 5});
  CHECK(d.table.column("y").to_string(2) == "c");
  CHECK(d.table.label().values == std::vector<int>{0, 0, 1, 1, 0});
  REQUIRE(d.files.size() == 3);
  CHECK(d.files[2].path == test);

  d = read_csv_dataset(schema, train, "", test);
  CHECK(d.given_split->size() == 4);
  CHECK_THROWS_AS(read_csv_dataset(schema, train, "", ""), ConfigError);

  const auto other = dir.write("other.csv", "x,z,label\n1,a,0\n");
  auto e = expect_error<DataError>([&] { read_csv_dataset(schema, train, "", other); });
  CHECK(e.file() == other);
}

TEST_CASE("parse_timestamp forms", "[datasets][csv]") {
  std::int64_t s = 0;
  CHECK(opsbench::parse_timestamp("1970-01-02", s));
  CHECK(s == 86400);
  // Python calendar.timegm: 2000-02-29 12:00:00 -> 951825600; 1969-12-31 23:00:00 -> -3600.
  CHECK(opsbench::parse_timestamp("2000-02-29T12:00:00", s));
  CHECK(s == 951825600);
  CHECK(opsbench::parse_timestamp("1969-12-31 23:00:00.250", s));
  CHECK(s == -3600);
  CHECK(opsbench::parse_timestamp("-3600", s));
  CHECK(s == -3600);
  for (const char* bad : {"2001-02-29", "2022-13-01", "2022-08-05 25:00:00", "2022-08-05X10:00:00", "yesterday",
                          "2022-08-05 10:00", "inf"}) {
    CHECK_FALSE(opsbench::parse_timestamp(bad, s));
  }
}

TEST_CASE("csv reader options: path or parts, data root", "[datasets][csv]") {
  TempDir dir;
  dir.write("sub/jobs.csv", kJobs);
  opsbench::ReadContext ctx;
  ctx.data_root = dir.path();
  Dataset d = read_with("csv",
                        {{"path", "data:sub/jobs.csv"},
                         {"label", "status"},
                         {"positive", "fail"},
                         {"categorical", "job"},
                         {"ignore", "when"}},
                        ctx);
  CHECK(d.table.num_rows() == 4);
  CHECK(d.table.column("job").type() == opsbench::ColumnType::kCategorical);
  CHECK(d.table.label().class_counts() == std::vector<std::size_t>{3, 1});

  ctx.base_dir = dir.path() + "/sub";
  d = read_with("csv", {{"path", "jobs.csv"}, {"infer", "false"}, {"numeric", "runtime"}}, ctx);
  CHECK(d.table.column_names() == std::vector<std::string>{"runtime"});

  CHECK_THROWS_AS(read_with("csv", {}, ctx), ConfigError);
  CHECK_THROWS_AS(read_with("csv", {{"path", "jobs.csv"}, {"train", "jobs.csv"}}, ctx), ConfigError);
  CHECK_THROWS_AS(read_with("csv", {{"path", "jobs.csv"}, {"positive", "x"}}, ctx), ConfigError);

  dir.write("sub/semi.csv", "a;b\n1;2\n");
  d = read_with("csv", {{"path", "semi.csv"}, {"delimiter", "semicolon"}}, ctx);
  CHECK(d.table.column_names() == std::vector<std::string>{"a", "b"});
}

// ------------------------------------------------------------------------------------ flowbench

namespace {

const char* kFlowHeader =
    ",anomaly_type,type,is_clustered,ready,pre_script_start,pre_script_end,submit,stage_in_start,stage_in_end,"
    "stage_in_effective_bytes_per_sec,execute_start,execute_end,stage_out_start,stage_out_end,"
    "stage_out_effective_bytes_per_sec,post_script_start,post_script_end,wms_delay,pre_script_delay,queue_delay,"
    "runtime,post_script_delay,stage_in_delay,stage_in_bytes,stage_out_delay,stage_out_bytes,kickstart_user,"
    "kickstart_site,kickstart_hostname,kickstart_transformations,kickstart_executables,kickstart_executables_argv,"
    "kickstart_executables_cpu_time,kickstart_status,kickstart_executables_exitcode,kickstart_online_iowait,"
    "kickstart_online_bytes_read,kickstart_online_bytes_written,kickstart_online_read_system_calls,"
    "kickstart_online_write_system_calls,kickstart_online_utime,kickstart_online_stime,"
    "kickstart_online_bytes_read_per_second,kickstart_online_bytes_written_per_second\n";

// One Flow-Bench-format job row (45 fields) with the given label and runtime.
std::string flow_row(const std::string& label, const std::string& runtime) {
  return "individuals_ID1," + label + ",compute,0,1.0,,,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0,12.0,6.0,,20.0," +
         runtime +
         ",5.0,64.0,1014283276.0,4.0,387809.0,poseidon,condorpool,worker1,individuals,/bin/x,,934.6,0,0,0.0,"
         "1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0\n";
}

std::string flowbench_root() {
  if (const char* env = std::getenv("OPSBENCH_DATA")) return env;
  return std::string(OPSBENCH_SOURCE_DIR) + "/../shared/data";
}

}  // namespace

TEST_CASE("flowbench reader on a small tree in Flow-Bench format", "[datasets][flowbench]") {
  TempDir dir;
  dir.write_gz("normal/1000-genome-run0002.csv.gz",
               std::string(kFlowHeader) + flow_row("None", "10.0") + flow_row("None", ""));
  dir.write_gz("normal/1000-genome-run0001.csv.gz", std::string(kFlowHeader) + flow_row("None", "11.0"));
  dir.write_gz("hdd_5/1000-genome-run0003.csv.gz",
               std::string(kFlowHeader) + flow_row("hdd_5", "12.0") + flow_row("None", "13.0"));
  dir.write_gz("hdd_5/montage-run0001.csv.gz", std::string(kFlowHeader) + flow_row("None", "1.0"));
  opsbench::ReadContext ctx;
  ctx.data_root = dir.path();

  Dataset d = read_with("flowbench", {{"root", "data:"}}, ctx);
  const auto& t = d.table;
  REQUIRE(t.num_rows() == 5);
  CHECK(t.column_names() == std::vector<std::string>{"wms_delay", "queue_delay", "runtime", "post_script_delay",
                                                     "stage_in_delay", "stage_out_delay", "stage_in_bytes",
                                                     "stage_out_bytes", "kickstart_executables_cpu_time"});
  // Runs in sorted order within a condition; conditions in the canonical order.
  CHECK(t.group_names() == std::vector<std::string>{"normal/1000-genome-run0001", "normal/1000-genome-run0002",
                                                    "hdd_5/1000-genome-run0003"});
  CHECK(t.groups() == std::vector<int>{0, 1, 1, 2, 2});
  CHECK(t.column("runtime").values()[0] == 11.0);
  CHECK(t.column("runtime").is_missing(2));
  // "None" is a label value, not a missing one.
  CHECK(t.label().values == std::vector<int>{0, 0, 0, 1, 0});
  CHECK(t.label().classes == std::vector<std::string>{"normal", "anomalous"});
  CHECK(d.files.size() == 3);

  d = read_with("flowbench", {{"root", dir.path()}, {"label", "multiclass"}, {"features", "all"}, {"max_runs", "1"}},
                ctx);
  CHECK(d.table.num_rows() == 3);
  CHECK(d.table.label().classes == std::vector<std::string>{"None", "hdd_5"});
  CHECK(d.table.has_column("kickstart_online_stime"));
  CHECK_FALSE(d.table.has_column("pre_script_delay"));  // missing in every row: dropped
  CHECK_FALSE(d.table.has_column("ready"));             // a timestamp
  CHECK_FALSE(d.table.has_column("kickstart_hostname"));

  d = read_with("flowbench", {{"root", dir.path()}, {"workflow", "montage"}}, ctx);
  CHECK(d.table.num_rows() == 1);

  CHECK_THROWS_AS(read_with("flowbench", {{"root", dir.path()}, {"conditions", "cpu_9"}}, ctx), ConfigError);
  CHECK_THROWS_AS(read_with("flowbench", {{"root", dir.path() + "/nowhere"}}, ctx), ConfigError);
  CHECK_THROWS_AS(read_with("flowbench", {{"root", dir.path()}, {"conditions", "cpu_2"}}, ctx), DataError);

  dir.write_gz("cpu_2/1000-genome-run0009.csv.gz", std::string(kFlowHeader) + flow_row("None", "fast"));
  auto e = expect_error<DataError>([&] {
    read_with("flowbench", {{"root", dir.path()}, {"conditions", "cpu_2"}}, ctx);
  });
  CHECK(e.line() == 2);
  CHECK(e.column() == 22);
  dir.write_gz("cpu_2/1000-genome-run0009.csv.gz", std::string(kFlowHeader) + flow_row("cpu_7", "1"));
  CHECK_THROWS_AS(read_with("flowbench", {{"root", dir.path()}, {"conditions", "cpu_2"}}, ctx), DataError);
}

TEST_CASE("flowbench 1000genome job counts match the data README", "[datasets][flowbench][data]") {
  const std::string root = flowbench_root();
  if (!fs::is_directory(root + "/flowbench")) {
    WARN("skipped: no Flow-Bench data at " + root + "/flowbench (set OPSBENCH_DATA)");
    return;
  }
  opsbench::ReadContext ctx;
  ctx.data_root = root;
  const auto start = std::chrono::steady_clock::now();
  Dataset d = read_with("flowbench", {{"label", "multiclass"}}, ctx);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // README (shared/data): None 32,398 / cpu_2 5,173 / cpu_3 756 / hdd_5 5,392 / hdd_10 4,368.
  CHECK(d.table.label().classes == std::vector<std::string>{"None", "cpu_2", "cpu_3", "hdd_5", "hdd_10"});
  CHECK(d.table.label().class_counts() == std::vector<std::size_t>{32398, 5173, 756, 5392, 4368});
  CHECK(d.table.num_rows() == 48087);
  CHECK(d.table.group_names().size() == d.files.size());
  CHECK(d.table.group_names().size() == 351);  // file count on disk
  CHECK(d.table.column("runtime").missing_count() == 0);
  CHECK(d.table.column("stage_in_bytes").missing_count() > 0);  // auxiliary jobs stage nothing
  WARN("flowbench 1000genome read in " + std::to_string(seconds) + " s");
  CHECK(seconds < 10.0);

  d = read_with("flowbench", {}, ctx);
  CHECK(d.table.label().class_counts() == std::vector<std::size_t>{32398, 15689});
}

TEST_CASE("flowbench max_runs reads the first runs of each condition", "[datasets][flowbench][data]") {
  const std::string root = flowbench_root();
  if (!fs::is_directory(root + "/flowbench")) {
    WARN("skipped: no Flow-Bench data at " + root + "/flowbench (set OPSBENCH_DATA)");
    return;
  }
  opsbench::ReadContext ctx;
  ctx.data_root = root;
  Dataset d = read_with("flowbench", {{"max_runs", "2"}, {"features", "all"}}, ctx);
  // Five condition folders exist (cpu_4 does not), two runs each.
  REQUIRE(d.table.group_names().size() == 10);
  CHECK(d.table.group_names()[0] == "normal/1000-genome-run0009");
  CHECK(d.table.num_columns() > 9);
  std::set<std::string> conditions;
  for (const auto& g : d.table.group_names()) conditions.insert(g.substr(0, g.find('/')));
  CHECK(conditions == std::set<std::string>{"normal", "cpu_2", "cpu_3", "hdd_5", "hdd_10"});
}
