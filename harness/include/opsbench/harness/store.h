// ResultsStore: the embedded results database of a suite (one SQLite file, e.g. out/<suite>/results.db).
//
// What it holds (schema version kSchemaVersion, docs/results-format.md):
//   meta(key, value)          schema_version and the opsbench version that created the file;
//   runs(run_id, ...)         one row per invocation of the runner: times, command line, the
//                             environment block and the suite definition as JSON text (with the
//                             published reference values it replicates);
//   cells(key, ...)           one row per (suite, dataset, method, repetition): the latest RunRecord
//                             for that identity and the run that produced it;
//   data_files(run_id, ...)   every data file a run read, with its size and sha256.
//
// Guarantees:
// - put_cell() writes one cell in one transaction (BEGIN IMMEDIATE ... COMMIT): a process killed
//   between or during cells leaves every earlier cell complete and no partial row. A later put of
//   the same key replaces the row (a failed cell re-run later becomes ok).
// - Resume: has_ok_cell(key) is true only for a stored cell whose status is ok, so failed cells
//   are run again.
// - The file is opened in WAL mode with a busy timeout, so a reader (opsbench report) can read
//   while a runner writes, and several runner processes on one node can share a file. WAL needs a
//   local file system: on NFS/Lustre give each process its own store and merge exports.
// - Opening a store written with another schema version is a ConfigError that says which version
//   the file has and which version this build reads; the file is not modified.
// - Every SQLite failure is an opsbench::Error carrying SQLite's message and the file path.
// Not thread-safe: one ResultsStore per thread (SQLite connections are cheap).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "opsbench/core/dataset.h"
#include "opsbench/core/environment.h"
#include "opsbench/core/record.h"

namespace opsbench {

inline constexpr int kSchemaVersion = 1;

struct StoredRun {
  std::int64_t run_id = 0;
  std::string suite;
  std::string started_at;   // UTC ISO 8601
  std::string finished_at;  // empty while running or when the run was killed
  std::string command_line;
  Environment environment;
  std::string suite_json;   // as given to begin_run
  std::vector<DataFile> files;
};

// A cell as stored: the record plus the run that wrote it.
struct StoredCell {
  std::int64_t run_id = 0;
  RunRecord record;
};

class ResultsStore {
 public:
  // Opens or creates the file; creates missing parent directories. ":memory:" gives a private
  // in-memory store (tests).
  explicit ResultsStore(const std::string& path);
  ~ResultsStore();
  ResultsStore(ResultsStore&&) noexcept;
  ResultsStore& operator=(ResultsStore&&) noexcept;
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const std::string& path() const;

  // Starts a run; started_at is now (UTC). Returns its run_id.
  std::int64_t begin_run(const std::string& suite, const std::string& command_line,
                         const Environment& environment, const std::string& suite_json,
                         const std::vector<DataFile>& files);
  // Data files read after begin_run (datasets are read lazily, cell by cell).
  void add_data_files(std::int64_t run_id, const std::vector<DataFile>& files);
  // Sets finished_at to now. ConfigError for an unknown run_id.
  void finish_run(std::int64_t run_id);

  // Inserts or replaces the cell record.key(). ConfigError for an unknown run_id or a record
  // without suite, dataset or method; nothing is written then.
  void put_cell(std::int64_t run_id, const RunRecord& record);
  bool has_ok_cell(const std::string& key) const;

  // Cells ordered by suite, dataset, method, repetition; all suites when `suite` is empty.
  std::vector<RunRecord> cells(const std::string& suite = "") const;
  std::vector<StoredCell> stored_cells(const std::string& suite = "") const;
  // Runs in run_id order, with their environment and data files.
  std::vector<StoredRun> runs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_now_iso8601();

}  // namespace opsbench
