// Reader "loghub": loghub structured logs (`<System>_2k.log_structured.csv`, one parsed line per row
// with `EventId`) grouped into sessions or time windows, as an event-count matrix (one column per
// EventId, named by it, in numeric order: E7 before E12).
//
// Grouping:
// - "block": the HDFS way. Every `blk_<id>` in a line's Content (a line may name several blocks)
//   adds the line's event to that block's session; lines naming no block are skipped. Rows are the
//   blocks in order of first appearance. Labels come from `labels` (loghub's anomaly_label.csv,
//   `BlockId,Label` with Normal/Anomaly); a block absent from it is a DataError. Without `labels` the
//   table is unlabelled (the 2k HDFS sample ships none), which detection suites reject: use BGL, or
//   give the labels of the full HDFS_v1 release.
// - "window": the BGL way. Lines are placed by their epoch-seconds time column into windows
//   [t0 + i*step, t0 + i*step + window), t0 = the earliest line; step = window gives fixed windows,
//   a smaller step sliding (overlapping) ones. Windows without lines are no rows. A window is
//   anomalous (label 1) when any line in it has `Label` != "-" (loghub's convention); a file without
//   a `Label` column gives an unlabelled table. Note that sliding windows share lines, so a random
//   split puts copies of one line on both sides.
// - "auto": block for a system named HDFS, window otherwise.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <unordered_map>

#include "event_counts.h"
#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "readers.h"

namespace opsbench {

ReaderEntry loghub_reader_entry();

namespace {

namespace fs = std::filesystem;

std::ptrdiff_t column_of(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : it - header.begin();
}

std::string header_list(const std::vector<std::string>& header) {
  std::string s;
  for (const auto& h : header) s += (s.empty() ? "" : ", ") + h;
  return s;
}

// The distinct `blk_-?[0-9]+` ids in a line, in order of appearance.
std::vector<std::string> block_ids(const std::string& content) {
  std::vector<std::string> ids;
  std::size_t pos = 0;
  while ((pos = content.find("blk_", pos)) != std::string::npos) {
    std::size_t end = pos + 4;
    if (end < content.size() && content[end] == '-') ++end;
    const std::size_t digits = end;
    while (end < content.size() && content[end] >= '0' && content[end] <= '9') ++end;
    if (end > digits) {
      std::string id = content.substr(pos, end - pos);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    }
    pos = end;
  }
  return ids;
}

std::map<std::string, int> read_block_labels(const std::string& path) {
  CsvReader reader(path);
  const auto& header = reader.header();
  const auto b = column_of(header, "BlockId");
  const auto l = column_of(header, "Label");
  if (b < 0 || l < 0) throw DataError(path, 1, 0, "expected columns BlockId,Label; header: " + header_list(header));
  std::map<std::string, int> labels;
  std::vector<std::string> f;
  while (reader.next(f)) {
    const std::string& v = f[static_cast<std::size_t>(l)];
    if (v != "Normal" && v != "Anomaly") {
      throw DataError(path, reader.line(), l + 1, "label '" + v + "' is neither Normal nor Anomaly");
    }
    labels[f[static_cast<std::size_t>(b)]] = v == "Anomaly" ? 1 : 0;
  }
  return labels;
}

struct Line {
  double time = 0;
  int event = 0;
  bool anomalous = false;
};

Dataset read_loghub(const Options& options, const ReadContext& ctx) {
  const std::string system = options.get_string("system");
  std::string path = options.get_string("file");
  if (path.empty()) {
    const fs::path dir = fs::path(resolve_data_path(options.get_string("root"), ctx)) / system;
    const std::string stem = system + "_2k.log_structured.csv";
    std::error_code ec;
    path = fs::is_regular_file(dir / stem, ec) ? (dir / stem).string() : (dir / (stem + ".gz")).string();
    if (!fs::is_regular_file(path, ec)) {
      throw ConfigError("reader loghub: neither " + (dir / stem).string() + " nor its .gz exists");
    }
  } else {
    path = resolve_data_path(path, ctx);
  }
  std::string grouping = options.get_string("grouping");
  if (grouping == "auto") grouping = system == "HDFS" ? "block" : "window";

  CsvReader reader(path);
  const auto& header = reader.header();
  const auto event_col = column_of(header, "EventId");
  if (event_col < 0) throw DataError(path, 1, 0, "no column 'EventId'; header: " + header_list(header));
  EventCounts counts;
  Dataset dataset;
  Labels labels;
  labels.name = "label";
  labels.classes = {"normal", "anomalous"};
  std::vector<std::string> fields;
  std::string unit;

  if (grouping == "block") {
    const auto content_col = column_of(header, "Content");
    if (content_col < 0) throw DataError(path, 1, 0, "no column 'Content'; header: " + header_list(header));
    std::unordered_map<std::string, std::size_t> block_row;
    std::vector<std::string> blocks;
    std::vector<std::vector<int>> events;
    while (reader.next(fields)) {
      const int ev = counts.intern(fields[static_cast<std::size_t>(event_col)]);
      for (const auto& id : block_ids(fields[static_cast<std::size_t>(content_col)])) {
        auto [it, added] = block_row.emplace(id, blocks.size());
        if (added) {
          blocks.push_back(id);
          events.emplace_back();
        }
        events[it->second].push_back(ev);
      }
    }
    if (blocks.empty()) throw DataError(path, 0, 0, "no line names a block (blk_<id>)");
    for (auto& e : events) counts.add_row(std::move(e));
    const std::string label_path = options.get_string("labels");
    if (!label_path.empty()) {
      const std::string resolved = resolve_data_path(label_path, ctx);
      const auto block_labels = read_block_labels(resolved);
      for (const auto& id : blocks) {
        auto it = block_labels.find(id);
        if (it == block_labels.end()) throw DataError(resolved, 0, 0, "no label for block " + id);
        labels.values.push_back(it->second);
      }
      const FileDigest digest = digest_file(resolved);
      dataset.files.push_back(DataFile{resolved, digest.bytes, digest.sha256});
    }
    unit = std::to_string(blocks.size()) + " block sessions";
  } else {
    std::string time_name = options.get_string("time_column");
    if (time_name.empty()) time_name = column_of(header, "Timestamp") >= 0 ? "Timestamp" : "Time";
    const auto time_col = column_of(header, time_name);
    if (time_col < 0) {
      throw DataError(path, 1, 0, "no time column '" + time_name + "'; header: " + header_list(header));
    }
    const auto label_col = column_of(header, "Label");
    const double window = options.get_double("window");
    const double step = options.get_double("step") > 0 ? options.get_double("step") : window;
    if (step > window) throw ConfigError("reader loghub: step " + std::to_string(step) + " exceeds window " +
                                         std::to_string(window) + " (lines between windows would be lost)");
    std::vector<Line> lines;
    while (reader.next(fields)) {
      Line line;
      const std::string& t = fields[static_cast<std::size_t>(time_col)];
      if (!parse_double(t, line.time) || !std::isfinite(line.time)) {
        throw DataError(path, reader.line(), time_col + 1, "time '" + t + "' is not epoch seconds");
      }
      line.event = counts.intern(fields[static_cast<std::size_t>(event_col)]);
      line.anomalous = label_col >= 0 && fields[static_cast<std::size_t>(label_col)] != "-";
      lines.push_back(line);
    }
    if (lines.empty()) throw DataError(path, 0, 0, "no log lines");
    std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.time < b.time; });
    const double t0 = lines.front().time;
    // Window i covers [t0 + i*step, t0 + i*step + window). Walk the windows that hold lines:
    // lo = first line at or after the window start; empty stretches are jumped over.
    std::size_t lo = 0;
    for (double i = 0; lo < lines.size(); ++i) {
      const double start = t0 + i * step;
      while (lo < lines.size() && lines[lo].time < start) ++lo;
      if (lo == lines.size()) break;
      if (lines[lo].time >= start + window) {
        // First window holding line lo: smallest i' with t0 + i'*step + window > time.
        i = std::max(i, std::floor((lines[lo].time - t0 - window) / step) + 1) - 1;
        continue;
      }
      std::vector<int> events;
      bool anomalous = false;
      for (std::size_t j = lo; j < lines.size() && lines[j].time < start + window; ++j) {
        events.push_back(lines[j].event);
        anomalous = anomalous || lines[j].anomalous;
      }
      counts.add_row(std::move(events));
      if (label_col >= 0) labels.values.push_back(anomalous ? 1 : 0);
    }
    char w[64];
    std::snprintf(w, sizeof w, "%g s windows, step %g s", window, step);
    unit = std::to_string(counts.num_rows()) + " " + w;
  }

  std::vector<std::size_t> rows(counts.num_rows());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  counts.write_columns(dataset.table, rows, "");
  std::size_t anomalous = 0;
  const bool labelled = !labels.values.empty();
  if (labelled) {
    for (int v : labels.values) anomalous += static_cast<std::size_t>(v);
    dataset.table.add_labels(std::move(labels));
  }
  const FileDigest digest = digest_file(path);
  dataset.files.insert(dataset.files.begin(), DataFile{path, digest.bytes, digest.sha256});
  dataset.description = "loghub " + system + ": " + unit + ", " + std::to_string(dataset.table.num_columns()) +
                        " event-count columns, " +
                        (labelled ? std::to_string(anomalous) + " anomalous" : std::string("unlabelled"));
  return dataset;
}

}  // namespace

ReaderEntry loghub_reader_entry() {
  ReaderEntry entry;
  entry.name = "loghub";
  entry.description =
      "loghub structured logs (<System>_2k.log_structured.csv) as event counts per EventId: HDFS lines grouped by "
      "block id, BGL and others by time window (labelled anomalous when any line's Label is not '-')";
  entry.options = {
      OptionDecl::string("root", "data:logs/loghub", "folder holding <System>/<System>_2k.log_structured.csv(.gz)"),
      OptionDecl::string("system", "BGL", "loghub system name (BGL, HDFS, HPC, Thunderbird, ...)"),
      OptionDecl::string("file", "", "explicit structured CSV instead of root/system (data: prefix allowed)"),
      OptionDecl::choice("grouping", "auto", {"auto", "block", "window"},
                         "block: HDFS sessions by blk_ id; window: time windows; auto: block for HDFS"),
      OptionDecl::real("window", 3600.0, 1e-3, std::nullopt, "window length in seconds (grouping=window)"),
      OptionDecl::real("step", 0.0, 0.0, std::nullopt,
                       "seconds between window starts; 0 = window (fixed windows), smaller = sliding"),
      OptionDecl::string("time_column", "", "epoch-seconds column; empty = Timestamp, else Time"),
      OptionDecl::string("labels", "", "BlockId,Label CSV (anomaly_label.csv) for grouping=block; empty = unlabelled"),
  };
  entry.read = read_loghub;
  return entry;
}

}  // namespace opsbench
