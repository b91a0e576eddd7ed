// Slurm sacct --parsable2 and SWF readers on small files written by the tests: folding of steps,
// states, durations, memory units, submit-time features, and located errors for bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "opsbench/core/error.h"
#include "opsbench/datasets/job_traces.h"

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = std::string(P_tmpdir) + "/opsbench_job_readers_" + name;
  std::ofstream(path) << text;
  return path;
}

const char* const kHeader =
    "JobID|User|Partition|State|Submit|Start|End|Elapsed|Timelimit|ReqCPUS|AllocCPUS|ReqMem|NNodes|ExitCode\n";

}  // namespace

TEST_CASE("sacct: steps folded, states normalised, submit-time features", "[datasets][sacct]") {
  const std::string path = write_file(
      "ok.txt",
      std::string(kHeader) +
          "100|alice|gpu|COMPLETED|2023-01-02T10:15:00|2023-01-02T10:20:00|2023-01-02T11:20:00|01:00:00|1-00:00:00|4|4|4000M|1|0:0\n"
          "100.batch|||COMPLETED|2023-01-02T10:20:00|2023-01-02T10:20:00|2023-01-02T11:20:00|01:00:00||4|4||1|0:0\n"
          "100.extern|||COMPLETED|2023-01-02T10:20:00|2023-01-02T10:20:00|2023-01-02T11:20:00|01:00:00||4|4||1|0:0\n"
          "101_3|bob|cpu|CANCELLED by 1234|2023-01-07T23:59:59|Unknown|Unknown|00:00:00|30:00|1|0|2G|1|0:15\n"
          "101_3.batch|||CANCELLED|2023-01-07T23:59:59|Unknown|Unknown|00:00:00||1|0||1|0:15\n"
          "102|alice|gpu|RUNNING|2023-01-08T00:00:00|2023-01-08T00:00:01|Unknown|00:10:00|UNLIMITED|2|2|1Gn|1|0:0\n"
          "103.0|carol|cpu|FAILED|2023-01-09T05:00:00|2023-01-09T05:00:10|2023-01-09T05:01:10|00:01:00|10:00|8|8|500Mc|2|2:0\n");
  const opsbench::Dataset d = opsbench::read_sacct(path, {});
  const opsbench::Table& t = d.table;
  REQUIRE(t.num_rows() == 3);  // 100, 101_3, 103 (102 is still running)
  CHECK(t.label().classes == std::vector<std::string>{"CANCELLED", "COMPLETED", "FAILED"});
  CHECK(t.label().values == std::vector<int>{1, 0, 2});
  CHECK(t.column("submit_hour").values() == std::vector<double>{10, 23, 5});
  CHECK(t.column("submit_day_of_week").values() == std::vector<double>{0, 5, 0});  // Mon, Sat, Mon
  CHECK(t.column("submit_day_of_month").values() == std::vector<double>{2, 7, 9});
  CHECK(t.column("req_mem_mb").values() == std::vector<double>{4000, 2048, 500});
  CHECK(t.column("timelimit_s").values() == std::vector<double>{86400, 1800, 600});
  CHECK(t.column("user_freq").values() == std::vector<double>{1, 1, 1});  // counted over the jobs kept
  CHECK_FALSE(t.has_column("elapsed_s"));  // not known at submit time
  CHECK(d.description.find("1 still pending/running skipped") != std::string::npos);
  opsbench::JobTraceOptions all;
  all.features = "all";
  const opsbench::Table ta = opsbench::read_sacct(path, all).table;
  CHECK(ta.column("elapsed_s").values() == std::vector<double>{3600, 0, 60});
  CHECK(ta.column("wait_s").values()[0] == 300);
  CHECK(std::isnan(ta.column("wait_s").values()[1]));
  CHECK(ta.column("exit_code").values() == std::vector<double>{0, 0, 2});
}

TEST_CASE("sacct: durations", "[datasets][sacct]") {
  double s = 0;
  bool missing = false;
  CHECK((opsbench::parse_slurm_duration("2-03:04:05", s, missing) && s == 2 * 86400 + 3 * 3600 + 4 * 60 + 5));
  CHECK((opsbench::parse_slurm_duration("04:05", s, missing) && s == 245));
  CHECK((opsbench::parse_slurm_duration("04:05.250", s, missing) && s == 245.25));
  CHECK((opsbench::parse_slurm_duration("UNLIMITED", s, missing) && missing));
  for (const char* bad : {"1:2:3:4", "ab:cd", "01:61:00", "1-02:03", "-1-00:00:00", "01:xx:00", "1.5:00:00"}) {
    INFO(bad);
    CHECK_FALSE(opsbench::parse_slurm_duration(bad, s, missing));
  }
}

TEST_CASE("sacct: bad input is located", "[datasets][sacct]") {
  const std::string row_ok = "1|u|p|COMPLETED|2023-01-02T10:15:00|||00:01:00|10:00|1|1|1G|1|0:0\n";
  SECTION("unknown state") {
    const std::string path = write_file("state.txt", std::string(kHeader) + row_ok +
                                                         "2|u|p|EXPLODED|2023-01-02T10:15:00|||00:01:00|10:00|1|1|1G|1|0:0\n");
    CHECK_THROWS_WITH(opsbench::read_sacct(path, {}), Catch::Contains(":3:4:") && Catch::Contains("unknown job state 'EXPLODED'"));
  }
  SECTION("malformed duration") {
    const std::string path = write_file("dur.txt", std::string(kHeader) +
                                                       "1|u|p|COMPLETED|2023-01-02T10:15:00|||00:01:00|10h|1|1|1G|1|0:0\n");
    CHECK_THROWS_WITH(opsbench::read_sacct(path, {}), Catch::Contains(":2:9:") && Catch::Contains("malformed duration '10h'"));
  }
  SECTION("wrong field count") {
    const std::string path = write_file("fields.txt", std::string(kHeader) + row_ok + "3|u|p|COMPLETED\n");
    CHECK_THROWS_AS(opsbench::read_sacct(path, {}), opsbench::DataError);
  }
  SECTION("malformed memory and missing columns") {
    const std::string path = write_file("mem.txt", std::string(kHeader) +
                                                       "1|u|p|COMPLETED|2023-01-02T10:15:00|||00:01:00|10:00|1|1|12Q|1|0:0\n");
    CHECK_THROWS_WITH(opsbench::read_sacct(path, {}), Catch::Contains("malformed ReqMem '12Q'"));
    const std::string no_state = write_file("nostate.txt", "JobID|User\n1|u\n");
    CHECK_THROWS_WITH(opsbench::read_sacct(no_state, {}), Catch::Contains("JobID and State"));
  }
}

TEST_CASE("swf: 18 fields, header start time, status labels", "[datasets][swf]") {
  const std::string path = write_file("ok.swf",
                                      "; Version: 2.2\n"
                                      "; UnixStartTime: 1672567200\n"  // 2023-01-01T10:00:00Z, a Sunday
                                      "1 0 10 100 4 -1 -1 4 3600 1024 1 7 1 -1 1 1 -1 -1\n"
                                      "2 3600 5 50 8 -1 -1 8 600 -1 0 7 1 -1 2 1 -1 -1\n"
                                      "3 7200 5 50 8 -1 -1 8 600 -1 -1 9 1 -1 2 1 -1 -1\n"
                                      "4 86400 0 1 1 -1 -1 1 60 -1 5 9 1 -1 1 1 -1 -1\n");
  const opsbench::Dataset d = opsbench::read_swf(path, {});
  const opsbench::Table& t = d.table;
  REQUIRE(t.num_rows() == 3);  // job 3 has status -1
  CHECK(t.label().classes == std::vector<std::string>{"cancelled", "completed", "failed"});
  CHECK(t.label().values == std::vector<int>{1, 2, 0});
  CHECK(t.column("submit_hour").values() == std::vector<double>{10, 11, 10});
  CHECK(t.column("submit_day_of_week").values() == std::vector<double>{6, 6, 0});
  CHECK(t.column("req_mem_mb").values()[0] == 1.0);
  CHECK(t.column("user_freq").values() == std::vector<double>{2, 2, 1});
  CHECK_FALSE(t.has_column("run_time_s"));
  CHECK(d.description.find("1 with unknown status skipped") != std::string::npos);
}

TEST_CASE("swf: bad lines are located", "[datasets][swf]") {
  const std::string short_line = write_file("short.swf", "; c\n1 0 10 100 4 -1 -1 4 3600 1024 1 7 1 -1 1 1 -1\n");
  CHECK_THROWS_WITH(opsbench::read_swf(short_line, {}), Catch::Contains(":2:") && Catch::Contains("17 fields"));
  const std::string word = write_file("word.swf", "1 0 10 x 4 -1 -1 4 3600 1024 1 7 1 -1 1 1 -1 -1\n");
  CHECK_THROWS_WITH(opsbench::read_swf(word, {}), Catch::Contains(":1:4:"));
  const std::string status = write_file("status.swf", "1 0 10 1 4 -1 -1 4 3600 1024 9 7 1 -1 1 1 -1 -1\n");
  CHECK_THROWS_WITH(opsbench::read_swf(status, {}), Catch::Contains("unknown SWF status 9"));
}
