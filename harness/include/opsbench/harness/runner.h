// The suite runner: expands a suite into cells (dataset x method x repetition), runs each cell in
// isolation and stores its record before the next one starts.
//
// - A cell that throws, or whose method yields a non-finite score, is stored as failed with the
//   message; the others go on. A dataset that cannot be read fails all of its cells.
// - Cells already stored with status ok in the same store are skipped (resume); failed cells run
//   again.
// - Seeds: every cell's seed is derive_seed(suite.seed, suite, dataset, canonical spec, repetition);
//   the split of a repetition uses derive_seed(suite.seed, suite, dataset, "split", repetition), so
//   every method of a repetition sees the same rows.
// - The runner never prints: progress goes to the on_progress callback.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "opsbench/core/record.h"
#include "opsbench/core/registry.h"
#include "opsbench/harness/suite.h"

namespace opsbench {

struct ProgressEvent {
  std::size_t done = 0;   // cells finished or skipped, this one included
  std::size_t total = 0;
  bool skipped = false;   // already in the store
  const RunRecord* record = nullptr;
  double elapsed_seconds = 0;
  double eta_seconds = -1;  // < 0 when unknown
};

struct RunOptions {
  std::string data_root;        // --data / OPSBENCH_DATA
  std::string out_dir = "out";  // the store goes to <out_dir>/<suite>/results.db
  std::string filter;           // ECMAScript regex over "<dataset>/<canonical spec>/<repetition>"
  int repetitions = 0;          // 0: the suite's own
  int threads = 1;
  std::string command_line;
  std::function<void(const ProgressEvent&)> on_progress;
};

struct RunSummary {
  std::size_t total = 0;
  std::size_t ran = 0;
  std::size_t skipped = 0;
  std::size_t failed = 0;
  std::string store_path;
};

// Throws ConfigError for a bad filter; everything data- or method-related becomes failed cells.
RunSummary run_suite(const Suite& suite, const Registry& registry, const RunOptions& options);

// "<out_dir>/<suite>/results.db"
std::string store_path_for(const std::string& out_dir, const std::string& suite_name);

}  // namespace opsbench
