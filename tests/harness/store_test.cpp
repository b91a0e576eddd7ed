// ResultsStore: round trip, resume after a killed process, replacement of failed cells, schema
// versioning and the one-transaction-per-cell guarantee.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "opsbench/core/error.h"
#include "opsbench/harness/store.h"

namespace fs = std::filesystem;

namespace {

// A fresh directory per test, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("opsbench_store_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

opsbench::RunRecord make_cell(const std::string& dataset, const std::string& method, int repetition,
                              opsbench::CellStatus status = opsbench::CellStatus::kOk) {
  opsbench::RunRecord r;
  r.suite = "quick";
  r.dataset = dataset;
  r.method = method;
  r.method_name = method.substr(0, method.find(':'));
  r.repetition = repetition;
  r.seed = 1000 + static_cast<std::uint64_t>(repetition);
  r.status = status;
  r.started_at = "2024-01-02T03:04:05Z";
  if (status == opsbench::CellStatus::kOk) {
    r.metrics["f1"] = 0.5 + 0.1 * repetition;
    r.figures.push_back({"fit.wall", 1.25, "s", "steady_clock", true, ""});
  } else {
    r.error = "ModelError: diverged";
  }
  return r;
}

opsbench::Environment fixed_environment() {
  opsbench::Environment env;
  env.set("opsbench_version", "0.1.0");
  env.set("git_commit", "abc");
  env.warnings.push_back("debug build");
  return env;
}

}  // namespace

TEST_CASE("store round-trips runs, cells and data files", "[harness][store]") {
  TempDir dir;
  const std::string path = dir.file("out/quick/results.db");  // parent directories are created
  opsbench::RunRecord rec = make_cell("flow", "iforest:n_estimators=100", 0);
  rec.seed = std::numeric_limits<std::uint64_t>::max();  // must survive as text, not as a double
  rec.metrics["roc_auc"] = std::numeric_limits<double>::quiet_NaN();
  rec.figures.push_back({"energy.fit", 0, "J", "", false, "no RAPL: /sys/class/powercap not readable"});
  rec.info["threshold"] = "contamination 0.1 -> 0.42";
  std::int64_t run_id = 0;
  {
    opsbench::ResultsStore store(path);
    run_id = store.begin_run("quick", "opsbench run quick.toml", fixed_environment(), R"({"name":"quick"})",
                             {{"data/a.csv", 10, "aa"}});
    store.add_data_files(run_id, {{"data/b.csv.gz", 20, "bb"}});
    store.put_cell(run_id, rec);
    store.finish_run(run_id);
  }
  REQUIRE(fs::exists(path));
  opsbench::ResultsStore store(path);
  const auto cells = store.stored_cells();
  REQUIRE(cells.size() == 1);
  CHECK(cells[0].run_id == run_id);
  const opsbench::RunRecord& back = cells[0].record;
  CHECK(back.key() == rec.key());
  CHECK(back.method_name == "iforest");
  CHECK(back.seed == std::numeric_limits<std::uint64_t>::max());
  CHECK(back.metrics.at("f1") == 0.5);
  CHECK(std::isnan(back.metrics.at("roc_auc")));
  REQUIRE(back.figures.size() == 2);
  CHECK(back.figures[0].value == 1.25);
  CHECK(back.figures[0].source == "steady_clock");
  CHECK_FALSE(back.figures[1].available);
  CHECK(back.figures[1].reason == rec.figures[1].reason);
  CHECK(back.info.at("threshold") == "contamination 0.1 -> 0.42");
  CHECK(back.started_at == "2024-01-02T03:04:05Z");

  const auto runs = store.runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].suite == "quick");
  CHECK(runs[0].command_line == "opsbench run quick.toml");
  CHECK(runs[0].suite_json == R"({"name":"quick"})");
  CHECK_FALSE(runs[0].started_at.empty());
  CHECK_FALSE(runs[0].finished_at.empty());
  REQUIRE(runs[0].environment.facts.size() == 2);
  CHECK(runs[0].environment.facts[1].first == "git_commit");
  CHECK(runs[0].environment.warnings == std::vector<std::string>{"debug build"});
  REQUIRE(runs[0].files.size() == 2);
  CHECK(runs[0].files[1].path == "data/b.csv.gz");
  CHECK(runs[0].files[1].bytes == 20);
}

TEST_CASE("store lists cells of one suite in identity order", "[harness][store]") {
  opsbench::ResultsStore store(":memory:");
  const auto run = store.begin_run("quick", "", {}, "", {});
  store.put_cell(run, make_cell("b", "pca", 1));
  store.put_cell(run, make_cell("a", "pca", 2));
  store.put_cell(run, make_cell("a", "pca", 0));
  opsbench::RunRecord other = make_cell("a", "pca", 0);
  other.suite = "other";
  store.put_cell(run, other);
  const auto quick = store.cells("quick");
  REQUIRE(quick.size() == 3);
  CHECK(quick[0].dataset == "a");
  CHECK(quick[0].repetition == 0);
  CHECK(quick[1].repetition == 2);
  CHECK(quick[2].dataset == "b");
  CHECK(store.cells().size() == 4);
}

TEST_CASE("store resumes after the writing process is killed between cells", "[harness][store]") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const auto c0 = make_cell("flow", "iforest", 0);
  const auto c1 = make_cell("flow", "iforest", 1);
  const auto c2 = make_cell("flow", "iforest", 2);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child writes two of three cells and dies without closing anything, as a runner killed
    // by Slurm or the OOM killer would.
    try {
      opsbench::ResultsStore store(path);
      const auto run = store.begin_run("quick", "", {}, "", {});
      store.put_cell(run, c0);
      store.put_cell(run, c1);
    } catch (...) {
      ::_exit(3);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(4);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  opsbench::ResultsStore store(path);
  CHECK(store.has_ok_cell(c0.key()));
  CHECK(store.has_ok_cell(c1.key()));
  CHECK_FALSE(store.has_ok_cell(c2.key()));
  const auto runs = store.runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].finished_at.empty());  // the killed run never finished
  // The resumed run adds the third cell and both runs stay on record.
  const auto run = store.begin_run("quick", "", {}, "", {});
  store.put_cell(run, c2);
  CHECK(store.has_ok_cell(c2.key()));
  CHECK(store.stored_cells()[2].run_id == run);
}

TEST_CASE("store replaces a failed cell by a later ok one", "[harness][store]") {
  opsbench::ResultsStore store(":memory:");
  const auto run = store.begin_run("quick", "", {}, "", {});
  const auto failed = make_cell("flow", "vae", 0, opsbench::CellStatus::kFailed);
  store.put_cell(run, failed);
  CHECK_FALSE(store.has_ok_cell(failed.key()));  // failed cells run again on resume
  REQUIRE(store.cells().size() == 1);
  CHECK(store.cells()[0].error == "ModelError: diverged");

  const auto ok = make_cell("flow", "vae", 0);
  store.put_cell(run, ok);
  CHECK(store.has_ok_cell(ok.key()));
  const auto cells = store.cells();
  REQUIRE(cells.size() == 1);
  CHECK(cells[0].status == opsbench::CellStatus::kOk);
  CHECK(cells[0].error.empty());
}

TEST_CASE("store rejects a file of another schema version without touching it", "[harness][store]") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  { opsbench::ResultsStore store(path); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE meta SET value = '7' WHERE key = 'schema_version'", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  sqlite3_close(db);
  try {
    opsbench::ResultsStore store(path);
    FAIL("opening a version-7 store must throw");
  } catch (const opsbench::ConfigError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("schema version 7"));
    CHECK_THAT(message, Catch::Contains("reads schema version 1"));
    CHECK_THAT(message, Catch::Contains(path));
  }
}

TEST_CASE("store refuses SQLite files that are not opsbench stores, and reports the path", "[harness][store]") {
  TempDir dir;
  const std::string foreign = dir.file("foreign.db");
  fs::create_directories(dir.path);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(foreign.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK_THROWS_AS(opsbench::ResultsStore(foreign), opsbench::ConfigError);

  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << "this is not a database, just some text long enough to fill a header page\n";
  CHECK_THROWS_WITH(opsbench::ResultsStore(text), Catch::Contains(text) && Catch::Contains("not a database"));
}

TEST_CASE("a put that fails leaves no partial cell and no open transaction", "[harness][store]") {
  opsbench::ResultsStore store(":memory:");
  const auto run = store.begin_run("quick", "", {}, "", {});
  const auto failed = make_cell("flow", "vae", 0, opsbench::CellStatus::kFailed);
  store.put_cell(run, failed);

  // A runner bug that writes against a run id it never began must be refused as a whole: the
  // earlier record of the cell stays as it was.
  const auto ok = make_cell("flow", "vae", 0);
  CHECK_THROWS_AS(store.put_cell(run + 41, ok), opsbench::ConfigError);
  auto cells = store.cells();
  REQUIRE(cells.size() == 1);
  CHECK(cells[0].status == opsbench::CellStatus::kFailed);

  opsbench::RunRecord nameless = ok;
  nameless.dataset.clear();
  CHECK_THROWS_AS(store.put_cell(run, nameless), opsbench::ConfigError);

  // The connection is usable afterwards: a transaction left open would make this BEGIN fail.
  store.put_cell(run, ok);
  CHECK(store.has_ok_cell(ok.key()));
  CHECK_THROWS_AS(store.finish_run(run + 41), opsbench::ConfigError);
  store.finish_run(run);
}

TEST_CASE("two store handles on one file see each other's cells (WAL)", "[harness][store]") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  opsbench::ResultsStore writer(path);
  opsbench::ResultsStore reader(path);
  const auto run = writer.begin_run("quick", "", {}, "", {});
  writer.put_cell(run, make_cell("flow", "pca", 0));
  CHECK(reader.has_ok_cell(make_cell("flow", "pca", 0).key()));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}
