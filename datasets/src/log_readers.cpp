// The log readers of datasets/ (see readers.h): "hdfs-sessions" here, "loghub" in loghub_reader.cpp.
//
// Reader "hdfs-sessions": HDFS_v1 block sessions as event-key sequences (the logdeep release).
// - source "logdeep": hdfs/hdfs_train.gz holds one normal session per line and
//   hdfs/hdfs_test_abnormal.gz one abnormal session per line, each a space-separated list of integer
//   event keys ("5 5 22 11 9 ...").
// - source "robust_log": hdfs/robust_log_train.csv(.gz) and hdfs/robust_log_valid.csv, `Sequence,label`
//   with label 0 (normal) or 1 (abnormal), pooled.
// Each session becomes one row of the event-count matrix: column "E<key>" = how often the key occurs
// (a column per key occurring in the kept sessions, in numeric key order); label 1 = abnormal.
//
// Prevalence. The pooled logdeep files are 77.6% abnormal, far from the 2.93% of the full HDFS_v1
// set (16,838 of 575,061 sessions), and unsupervised detectors trained on such a pool are
// meaningless. `anomaly_ratio` r > 0 keeps every normal session and a uniform subsample of
// round(r * normal / (1 - r)) abnormal ones (drawn from the dataset seed, kept in file order), so
// that r is the abnormal share of the table; r = 0 keeps every session. `max_rows` then caps the
// table by a seeded subsample that keeps each class's share (rounded). Both draws depend only on
// the dataset seed, so every repetition of a suite sees the same sessions.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <system_error>

#include "event_counts.h"
#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "readers.h"

namespace opsbench {

ReaderEntry loghub_reader_entry();  // loghub_reader.cpp

namespace {

namespace fs = std::filesystem;

struct Session {
  std::vector<int> keys;
  int label = 0;
};

// Tokenises one space-separated key sequence; `line` and `column0` place errors in the file.
std::vector<int> parse_sequence(const std::string& text, EventCounts& counts, const std::string& path,
                                std::int64_t line, std::int64_t column0) {
  std::vector<int> ids;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
    if (i == text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') ++i;
    const std::string token = text.substr(start, i - start);
    const bool digits = token.size() <= 9 && std::all_of(token.begin(), token.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!digits) {
      throw DataError(path, line, column0 + static_cast<std::int64_t>(start),
                      "event key '" + token + "' is not a non-negative integer");
    }
    // Normalise "05" to "5" so that one key never becomes two columns.
    ids.push_back(counts.intern(std::to_string(std::stoi(token))));
  }
  return ids;
}

// One session per line (gzip or plain). Blank lines are no sessions.
void read_sequence_file(const std::string& path, int label, EventCounts& counts, std::vector<Session>& out) {
  CsvOptions csv;
  csv.has_header = false;
  csv.delimiter = '\x1f';  // never in these files: each line is one field
  CsvReader reader(path, csv);
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    if (fields.empty() || fields[0].find_first_not_of(" \t\r") == std::string::npos) continue;
    out.push_back(Session{parse_sequence(fields[0], counts, path, reader.line(), 1), label});
  }
}

// `Sequence,label` CSV with label 0/1.
void read_labelled_csv(const std::string& path, EventCounts& counts, std::vector<Session>& out) {
  CsvReader reader(path);
  const auto& header = reader.header();
  const auto seq = std::find(header.begin(), header.end(), "Sequence") - header.begin();
  const auto lab = std::find(header.begin(), header.end(), "label") - header.begin();
  if (seq == static_cast<std::ptrdiff_t>(header.size()) || lab == static_cast<std::ptrdiff_t>(header.size())) {
    throw DataError(path, 1, 0, "expected columns 'Sequence' and 'label'");
  }
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    const std::string& l = fields[static_cast<std::size_t>(lab)];
    if (l != "0" && l != "1") {
      throw DataError(path, reader.line(), lab + 1, "label '" + l + "' is neither 0 nor 1");
    }
    out.push_back(Session{parse_sequence(fields[static_cast<std::size_t>(seq)], counts, path, reader.line(), 1),
                          l == "1" ? 1 : 0});
  }
}

// First existing of `name` and `name`.gz under `dir`.
std::string find_file(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const std::string& candidate : {name, name + ".gz"}) {
    if (fs::is_regular_file(dir / candidate, ec)) return (dir / candidate).string();
  }
  throw ConfigError("reader hdfs-sessions: neither " + (dir / name).string() + " nor its .gz exists");
}

// `count` of `pool` drawn uniformly without replacement, returned in increasing order.
std::vector<std::size_t> draw(std::vector<std::size_t> pool, std::size_t count, std::mt19937_64& rng) {
  if (count >= pool.size()) return pool;
  portable_shuffle(pool, rng);
  pool.resize(count);
  std::sort(pool.begin(), pool.end());
  return pool;
}

Dataset read_hdfs_sessions(const Options& options, const ReadContext& ctx) {
  const fs::path root(resolve_data_path(options.get_string("root"), ctx));
  const bool logdeep = options.get_string("source") == "logdeep";
  EventCounts counts;
  std::vector<Session> sessions;
  std::vector<std::string> paths;
  if (logdeep) {
    paths = {find_file(root / "hdfs", "hdfs_train"), find_file(root / "hdfs", "hdfs_test_abnormal")};
    read_sequence_file(paths[0], 0, counts, sessions);
    read_sequence_file(paths[1], 1, counts, sessions);
  } else {
    paths = {find_file(root / "hdfs", "robust_log_train.csv"), find_file(root / "hdfs", "robust_log_valid.csv")};
    for (const auto& p : paths) read_labelled_csv(p, counts, sessions);
  }

  for (auto& s : sessions) counts.add_row(std::move(s.keys));  // row i of counts = session i
  std::vector<std::size_t> normal, abnormal;
  for (std::size_t i = 0; i < sessions.size(); ++i) (sessions[i].label ? abnormal : normal).push_back(i);
  if (normal.empty() || abnormal.empty()) {
    throw DataError(paths[0], 0, 0, "need both normal and abnormal sessions; found " + std::to_string(normal.size()) +
                                        " normal and " + std::to_string(abnormal.size()) + " abnormal");
  }
  std::mt19937_64 rng(ctx.seed ^ 0x6c6f6773ULL);
  const double ratio = options.get_double("anomaly_ratio");
  if (ratio > 0.0) {
    const double want = std::round(ratio * static_cast<double>(normal.size()) / (1.0 - ratio));
    abnormal = draw(abnormal, static_cast<std::size_t>(std::max(1.0, want)), rng);
  }
  const auto max_rows = static_cast<std::size_t>(options.get_int("max_rows"));
  if (max_rows > 0 && normal.size() + abnormal.size() > max_rows) {
    const double share = static_cast<double>(abnormal.size()) / static_cast<double>(normal.size() + abnormal.size());
    auto keep_abnormal = static_cast<std::size_t>(std::round(share * static_cast<double>(max_rows)));
    keep_abnormal = std::min(std::max<std::size_t>(keep_abnormal, 1), max_rows - 1);
    normal = draw(normal, max_rows - keep_abnormal, rng);
    abnormal = draw(abnormal, keep_abnormal, rng);
  }

  std::vector<std::size_t> rows = normal;
  rows.insert(rows.end(), abnormal.begin(), abnormal.end());
  Dataset dataset;
  counts.write_columns(dataset.table, rows, "E");
  if (dataset.table.num_columns() == 0) throw DataError(paths[0], 0, 0, "the kept sessions hold no event keys");
  Labels labels;
  labels.name = "label";
  labels.classes = {"normal", "abnormal"};
  for (std::size_t r : rows) labels.values.push_back(sessions[r].label);
  dataset.table.add_labels(std::move(labels));
  for (const auto& p : paths) {
    const FileDigest digest = digest_file(p);
    dataset.files.push_back(DataFile{p, digest.bytes, digest.sha256});
  }
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.2f", 100.0 * static_cast<double>(abnormal.size()) / static_cast<double>(rows.size()));
  dataset.description = std::string("HDFS_v1 sessions (") + (logdeep ? "logdeep" : "robust_log") + "): " +
                        std::to_string(normal.size()) + " normal + " + std::to_string(abnormal.size()) +
                        " abnormal (" + pct + "% abnormal), " + std::to_string(dataset.table.num_columns()) +
                        " event-count columns";
  return dataset;
}

ReaderEntry hdfs_sessions_entry() {
  ReaderEntry entry;
  entry.name = "hdfs-sessions";
  entry.description =
      "HDFS_v1 block sessions (logdeep event-key sequences) as an event-count matrix, one column E<key> per "
      "event key; label 1 = abnormal session";
  entry.options = {
      OptionDecl::string("root", "data:logs/hdfs-logdeep", "folder holding hdfs/hdfs_train.gz etc."),
      OptionDecl::choice("source", "logdeep", {"logdeep", "robust_log"},
                         "logdeep: hdfs_train (normal) + hdfs_test_abnormal; robust_log: the two Sequence,label "
                         "CSVs pooled"),
      OptionDecl::real("anomaly_ratio", 0.0293, 0.0, 0.99,
                       "abnormal share of the table, by subsampling abnormal sessions with the dataset seed "
                       "(0.0293 = real HDFS_v1 prevalence); 0 keeps every session"),
      OptionDecl::integer("max_rows", 0, 0, std::nullopt,
                          "cap on sessions (seeded subsample keeping each class's share); 0 = no cap"),
  };
  entry.read = read_hdfs_sessions;
  return entry;
}

}  // namespace

void add_log_readers(Registry& registry) {
  registry.add(hdfs_sessions_entry());
  registry.add(loghub_reader_entry());
}

}  // namespace opsbench
