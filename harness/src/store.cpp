#include "opsbench/harness/store.h"

#include <sqlite3.h>

#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include "opsbench/core/error.h"
#include "opsbench/harness/record_json.h"
#include "record_json_detail.h"

namespace opsbench {

namespace {

namespace jd = json_detail;

// The one place SQLite return codes are checked: SQLite's own message plus the file, so a locked,
// full or corrupt store says which file and why.
void check(int rc, sqlite3* db, const std::string& path, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw Error("results store " + path + ": " + what + ": " + message);
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// A prepared statement owned for one call. bind_* indices are 1-based as in SQLite.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    check(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr), db, path, "prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
          db_, path_, "bind");
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value), db_, path_, "bind");
    return *this;
  }
  // True while a row is available.
  bool step(const char* what) {
    int rc = sqlite3_step(stmt_);
    check(rc, db_, path_, what);
    return rc == SQLITE_ROW;
  }
  std::string text(int column) const {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock up front, so two runner processes never both read a state
// and then fail to upgrade; the destructor rolls back whatever was not committed (exceptions).
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    check(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db_, path_, "begin transaction");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    check(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), db_, path_, "commit");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

constexpr const char* kCreateTables = R"sql(
CREATE TABLE runs(
  run_id INTEGER PRIMARY KEY,
  suite TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT '',
  command_line TEXT NOT NULL,
  environment_json TEXT NOT NULL,
  suite_json TEXT NOT NULL);
CREATE TABLE cells(
  key TEXT PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(run_id),
  suite TEXT NOT NULL,
  dataset TEXT NOT NULL,
  method TEXT NOT NULL,
  method_name TEXT NOT NULL,
  repetition INTEGER NOT NULL,
  seed TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
  error TEXT NOT NULL,
  started_at TEXT NOT NULL,
  metrics_json TEXT NOT NULL,
  figures_json TEXT NOT NULL,
  info_json TEXT NOT NULL);
CREATE INDEX cells_by_identity ON cells(suite, dataset, method, repetition);
CREATE TABLE data_files(
  run_id INTEGER NOT NULL REFERENCES runs(run_id),
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL);
)sql";

}  // namespace

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

struct ResultsStore::Impl {
  std::string path;
  DbHandle db;

  void exec(const char* sql, const char* what) {
    check(sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr), db.get(), path, what);
  }
  bool run_exists(std::int64_t run_id) {
    Statement s(db.get(), path, "SELECT 1 FROM runs WHERE run_id = ?");
    s.bind(1, run_id);
    return s.step("look up run");
  }
  void insert_files(std::int64_t run_id, const std::vector<DataFile>& files) {
    for (const DataFile& f : files) {
      Statement s(db.get(), path, "INSERT INTO data_files(run_id, path, bytes, sha256) VALUES (?, ?, ?, ?)");
      s.bind(1, run_id).bind(2, f.path).bind(3, static_cast<std::int64_t>(f.bytes)).bind(4, f.sha256);
      s.step("insert data file");
    }
  }
  void open_schema();
};

void ResultsStore::Impl::open_schema() {
  Transaction tx(db.get(), path);
  exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)", "create meta table");
  Statement version(db.get(), path, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (version.step("read schema version")) {
    std::string found = version.text(0);
    if (found != std::to_string(kSchemaVersion)) {
      throw ConfigError("results store " + path + " has schema version " + found +
                        "; this build of opsbench reads schema version " + std::to_string(kSchemaVersion) +
                        " (export it with the opsbench that wrote it, or use a new store file)");
    }
    return;  // the transaction rolls back: nothing to change
  }
  Statement others(db.get(), path,
                   "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'meta' LIMIT 1");
  if (others.step("inspect tables")) {
    throw ConfigError("results store " + path + " is an SQLite file without an opsbench schema version "
                      "(it has table '" + others.text(0) + "'); refusing to write into it");
  }
  exec(kCreateTables, "create tables");
  Statement put(db.get(), path, "INSERT INTO meta(key, value) VALUES ('schema_version', ?), ('created_at', ?)");
  put.bind(1, std::to_string(kSchemaVersion)).bind(2, utc_now_iso8601());
  put.step("write schema version");
  tx.commit();
}

ResultsStore::ResultsStore(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (path != ":memory:") {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) throw Error("results store " + path + ": cannot create directory " + parent.string() + ": " + ec.message());
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  impl_->db.reset(raw);  // owned even when opening failed: sqlite3_open_v2 allocates the handle anyway
  check(rc, raw, path, "open");
  check(sqlite3_busy_timeout(raw, 30000), raw, path, "set busy timeout");
  impl_->exec("PRAGMA foreign_keys = ON", "enable foreign keys");
  // The version check runs before switching the journal mode so a store of another version is
  // left exactly as it was.
  impl_->open_schema();
  impl_->exec("PRAGMA journal_mode = WAL", "enable WAL journal");
  impl_->exec("PRAGMA synchronous = NORMAL", "set synchronous");
}

ResultsStore::~ResultsStore() = default;
ResultsStore::ResultsStore(ResultsStore&&) noexcept = default;
ResultsStore& ResultsStore::operator=(ResultsStore&&) noexcept = default;

const std::string& ResultsStore::path() const { return impl_->path; }

std::int64_t ResultsStore::begin_run(const std::string& suite, const std::string& command_line,
                                     const Environment& environment, const std::string& suite_json,
                                     const std::vector<DataFile>& files) {
  Transaction tx(impl_->db.get(), impl_->path);
  Statement s(impl_->db.get(), impl_->path,
              "INSERT INTO runs(suite, started_at, command_line, environment_json, suite_json) "
              "VALUES (?, ?, ?, ?, ?)");
  s.bind(1, suite).bind(2, utc_now_iso8601()).bind(3, command_line)
      .bind(4, jd::environment_to_json(environment).dump()).bind(5, suite_json);
  s.step("insert run");
  std::int64_t run_id = sqlite3_last_insert_rowid(impl_->db.get());
  impl_->insert_files(run_id, files);
  tx.commit();
  return run_id;
}

void ResultsStore::add_data_files(std::int64_t run_id, const std::vector<DataFile>& files) {
  Transaction tx(impl_->db.get(), impl_->path);
  if (!impl_->run_exists(run_id)) {
    throw ConfigError("results store " + impl_->path + ": no run with id " + std::to_string(run_id));
  }
  impl_->insert_files(run_id, files);
  tx.commit();
}

void ResultsStore::finish_run(std::int64_t run_id) {
  Transaction tx(impl_->db.get(), impl_->path);
  Statement s(impl_->db.get(), impl_->path, "UPDATE runs SET finished_at = ? WHERE run_id = ?");
  s.bind(1, utc_now_iso8601()).bind(2, run_id);
  s.step("finish run");
  if (sqlite3_changes(impl_->db.get()) != 1) {
    throw ConfigError("results store " + impl_->path + ": no run with id " + std::to_string(run_id));
  }
  tx.commit();
}

void ResultsStore::put_cell(std::int64_t run_id, const RunRecord& record) {
  if (record.suite.empty() || record.dataset.empty() || record.method.empty()) {
    throw ConfigError("results store " + impl_->path +
                      ": a cell needs suite, dataset and method (got key '" + record.key() + "')");
  }
  // Serialise before the transaction: a record that cannot be written never opens one.
  const std::string metrics = jd::metrics_to_json(record.metrics).dump();
  const std::string figures = jd::figures_to_json(record.figures).dump();
  const std::string info = jd::info_to_json(record.info).dump();

  Transaction tx(impl_->db.get(), impl_->path);
  if (!impl_->run_exists(run_id)) {
    throw ConfigError("results store " + impl_->path + ": cell '" + record.key() +
                      "' refers to unknown run id " + std::to_string(run_id));
  }
  Statement s(impl_->db.get(), impl_->path,
              "INSERT OR REPLACE INTO cells(key, run_id, suite, dataset, method, method_name, repetition, "
              "seed, status, error, started_at, metrics_json, figures_json, info_json) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, record.key()).bind(2, run_id).bind(3, record.suite).bind(4, record.dataset)
      .bind(5, record.method).bind(6, record.method_name).bind(7, static_cast<std::int64_t>(record.repetition))
      .bind(8, jd::seed_to_text(record.seed)).bind(9, std::string(to_string(record.status)))
      .bind(10, record.error).bind(11, record.started_at).bind(12, metrics).bind(13, figures).bind(14, info);
  s.step("write cell");
  tx.commit();
}

bool ResultsStore::has_ok_cell(const std::string& key) const {
  Statement s(impl_->db.get(), impl_->path, "SELECT 1 FROM cells WHERE key = ? AND status = 'ok'");
  s.bind(1, key);
  return s.step("look up cell");
}

std::vector<StoredCell> ResultsStore::stored_cells(const std::string& suite) const {
  const char* sql_all =
      "SELECT key, run_id, suite, dataset, method, method_name, repetition, seed, status, error, "
      "started_at, metrics_json, figures_json, info_json FROM cells "
      "ORDER BY suite, dataset, method, repetition";
  const char* sql_suite =
      "SELECT key, run_id, suite, dataset, method, method_name, repetition, seed, status, error, "
      "started_at, metrics_json, figures_json, info_json FROM cells WHERE suite = ? "
      "ORDER BY suite, dataset, method, repetition";
  Statement s(impl_->db.get(), impl_->path, suite.empty() ? sql_all : sql_suite);
  if (!suite.empty()) s.bind(1, suite);
  std::vector<StoredCell> out;
  while (s.step("read cells")) {
    const std::string what_for = "results store " + impl_->path + ": cell '" + s.text(0) + "'";
    StoredCell cell;
    cell.run_id = s.int64(1);
    RunRecord& r = cell.record;
    r.suite = s.text(2);
    r.dataset = s.text(3);
    r.method = s.text(4);
    r.method_name = s.text(5);
    r.repetition = static_cast<int>(s.int64(6));
    r.seed = jd::seed_from_text(s.text(7), what_for);
    r.status = parse_cell_status(s.text(8));
    r.error = s.text(9);
    r.started_at = s.text(10);
    r.metrics = jd::metrics_from_json(jd::parse(s.text(11), what_for), what_for);
    r.figures = jd::figures_from_json(jd::parse(s.text(12), what_for), what_for);
    r.info = jd::info_from_json(jd::parse(s.text(13), what_for), what_for);
    out.push_back(std::move(cell));
  }
  return out;
}

std::vector<RunRecord> ResultsStore::cells(const std::string& suite) const {
  std::vector<RunRecord> out;
  for (StoredCell& cell : stored_cells(suite)) out.push_back(std::move(cell.record));
  return out;
}

std::vector<StoredRun> ResultsStore::runs() const {
  std::vector<StoredRun> out;
  Statement s(impl_->db.get(), impl_->path,
              "SELECT run_id, suite, started_at, finished_at, command_line, environment_json, suite_json "
              "FROM runs ORDER BY run_id");
  while (s.step("read runs")) {
    StoredRun run;
    run.run_id = s.int64(0);
    run.suite = s.text(1);
    run.started_at = s.text(2);
    run.finished_at = s.text(3);
    run.command_line = s.text(4);
    const std::string what_for = "results store " + impl_->path + ": run " + std::to_string(run.run_id);
    run.environment = jd::environment_from_json(jd::parse(s.text(5), what_for), what_for);
    run.suite_json = s.text(6);
    out.push_back(std::move(run));
  }
  Statement f(impl_->db.get(), impl_->path,
              "SELECT run_id, path, bytes, sha256 FROM data_files ORDER BY run_id, rowid");
  std::size_t at = 0;
  while (f.step("read data files")) {
    std::int64_t run_id = f.int64(0);
    while (at < out.size() && out[at].run_id < run_id) ++at;
    if (at == out.size() || out[at].run_id != run_id) continue;  // foreign keys make this unreachable
    out[at].files.push_back(DataFile{f.text(1), static_cast<std::uint64_t>(f.int64(2)), f.text(3)});
  }
  return out;
}

}  // namespace opsbench
