// LDMS node telemetry with HPAS-injected anomalies (the `ldms-hpas` reader).
//
// Layout: <root>/<App>[_<A1>[_<A2>]]/[separate|overlaps/]<params>/data/
//   {memory_metrics/{meminfo,vmstat},process_metrics/procstat}[.gz]
// One such folder is one run: one application run on one node, sampled at 1 Hz. <params> encodes
// each anomaly's start and end second counted from the run start and its settings, in the order of
// the anomaly types in the application folder's name: `ST148_ET720_cL2_m0.8` (CC: cachecopy, cache
// level, multiplier), `ST232_ET642_u95` (CO: cpuoccupy, utilisation), `ST180_ET699_s10M` (ML:
// memleak, size). A folder without anomaly types (`ExaMiniMD/`) is the healthy run.
//
// Files are LDMS CSV: header `#Time,Time_usec,ProducerName,component_id,job_id,app_id,<metrics>`,
// one row per sample. Header policy (declared, tested):
// - Every data row must have as many fields as the header names. Columns are never shifted.
// - The LAST record of a file may be cut short: the sampler was stopped mid-write. In this data
//   no file ends with a line end, and the last record holds 1 to 177 fields (the base run's meminfo
//   ends with a 56-field row under its 61-field header) or all of them with the last one empty or
//   possibly cut inside a number. So the final record is treated as cut short when it is short OR
//   has no line end: TruncatedTail::kDrop drops that one row and reports it (the default; one
//   second per file); kError makes it a DataError.
// - Any other row whose field count differs from the header is a DataError with file:line:column,
//   and so is a header naming fewer or more fields than every row holds (a true header mismatch).
// - The six leading LDMS columns are metadata, not metrics. Metric cells must be numbers.
//
// Join: rows are keyed by floor(#Time) (integer seconds); the three files are inner-joined on that
// second (LDMS samplers fire within a few ms of each other; a second missing from any file is
// dropped, as is a second repeated within one file after its first row). The run start is the
// smallest first second among the three files; anomaly windows [ST, ET) are counted from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/dataset.h"
#include "opsbench/core/matrix.h"

namespace opsbench {

enum class TruncatedTail { kDrop, kError };

// One LDMS CSV file: metric names (metadata columns left out), one row per kept sample.
struct LdmsFile {
  std::string path;
  std::vector<std::string> metrics;
  std::vector<std::int64_t> seconds;  // floor(#Time), in file order
  Matrix values;                      // seconds.size() x metrics.size()
  bool dropped_truncated_tail = false;
  std::int64_t truncated_tail_fields = 0;  // fields in the dropped row
};

// Reads one file (gzip or plain). Throws DataError as described above.
LdmsFile read_ldms_file(const std::string& path, TruncatedTail tail = TruncatedTail::kDrop);

// One anomaly of a run.
struct AnomalyWindow {
  std::string type;      // "CO", "ML" or "CC"
  std::int64_t start = 0;  // seconds from the run start, inclusive
  std::int64_t end = 0;    // exclusive
  std::string settings;  // "u95", "cL2_m0.8", "s10M"
};

struct RunInfo {
  std::string id;           // path relative to the root, '/'-separated: the run's group name
  std::string application;  // "ExaMiniMD"
  std::string layout;       // "separate", "overlaps" or "" (one anomaly or none)
  std::vector<AnomalyWindow> anomalies;
  // "healthy" or the anomaly types present, sorted and joined with '+': "CC+CO".
  std::string type_label() const;
};

// Parses a run's folder path relative to the root ("ExaMiniMD_CC_CO/separate/ST73_ET354_cL2_m0.8_
// ST501_ET765_u95", "ExaMiniMD"). DataError (naming the folder) when the ST/ET groups do not match
// the anomaly types of the application folder, an ET is not after its ST, or a type is unknown.
RunInfo parse_run_folder(const std::string& relative_path);

// Relative paths of every run folder under root (folders holding a `data/` folder), sorted.
// DataError when root does not exist or holds no run.
std::vector<std::string> find_ldms_runs(const std::string& root);

// One run joined on time: metric names are "<file>.<metric>" (meminfo.MemFree, vmstat.pgfault,
// procstat.user), per-core procstat metrics (per_core_*) excluded as the Refine paper does.
struct LdmsRun {
  RunInfo info;
  std::vector<std::string> metrics;
  std::vector<std::int64_t> seconds;  // from the run start, ascending
  Matrix values;                      // seconds x metrics
  std::vector<DataFile> files;
  std::vector<std::string> notes;     // dropped truncated rows, join losses
};

// Reads meminfo, vmstat and procstat of run folder `root/relative_path`. A missing metric file is
// a DataError naming the run and the file it looked for (with or without .gz).
LdmsRun read_ldms_run(const std::string& root, const std::string& relative_path,
                      TruncatedTail tail = TruncatedTail::kDrop);

// 1 when [begin, end) overlaps the run's anomaly windows by at least `min_seconds` seconds (>= 1).
int window_label(const RunInfo& run, std::int64_t begin, std::int64_t end, std::int64_t min_seconds);
// The type label ("healthy", "CO", "CC+ML") of the anomalies overlapping [begin, end) by at
// least min_seconds.
std::string window_type_label(const RunInfo& run, std::int64_t begin, std::int64_t end, std::int64_t min_seconds);

}  // namespace opsbench
