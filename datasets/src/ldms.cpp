#include "opsbench/datasets/ldms.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"

namespace opsbench {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMetaColumns = 6;  // #Time,Time_usec,ProducerName,component_id,job_id,app_id

// Whole file through zlib (plain files pass through gzread unchanged). The files are ~1 MB each.
std::string slurp(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw DataError(path, 0, 0, "cannot open file");
  std::string text;
  std::vector<char> chunk(1 << 17);
  for (;;) {
    const int n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose_r(file);
      throw DataError(path, 0, 0, "truncated or corrupt gzip stream (" + message + ")");
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  const int rc = gzclose_r(file);
  if (rc != Z_OK) throw DataError(path, 0, 0, "truncated or corrupt gzip stream");
  return text;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = line.find(',', begin);
    out.push_back(line.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string find_metric_file(const std::string& run_dir, const std::string& sub, const std::string& name,
                             const std::string& run_id) {
  const fs::path base = fs::path(run_dir) / "data" / sub / name;
  for (const std::string& candidate : {base.string() + ".gz", base.string()}) {
    if (fs::is_regular_file(candidate)) return candidate;
  }
  throw DataError(base.string() + ".gz", 0, 0,
                  "run '" + run_id + "' has no " + sub + "/" + name + " file (looked for " + name + ".gz and " +
                      name + "): every run needs meminfo, vmstat and procstat");
}

}  // namespace

LdmsFile read_ldms_file(const std::string& path, TruncatedTail tail) {
  const std::string text = slurp(path);
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // [begin, end) of non-empty lines
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::size_t stop = end;
    if (stop > begin && text[stop - 1] == '\r') --stop;
    lines.emplace_back(begin, stop);
    begin = end + 1;
  }
  while (!lines.empty() && lines.back().first == lines.back().second) lines.pop_back();
  if (lines.empty()) throw DataError(path, 1, 0, "empty file: expected an LDMS header line '#Time,...'");

  LdmsFile out;
  out.path = path;
  const auto header = split_fields(text.substr(lines[0].first, lines[0].second - lines[0].first));
  if (header.empty() || header[0] != "#Time") {
    throw DataError(path, 1, 1, "not an LDMS CSV file: the header must start with '#Time'");
  }
  if (header.size() <= kMetaColumns) {
    throw DataError(path, 1, 0, "the header names no metric after the six LDMS metadata columns");
  }
  out.metrics.assign(header.begin() + kMetaColumns, header.end());
  const std::size_t width = header.size();

  // Rows whose width differs from the header, by line: a mismatch in every row is a header mismatch.
  std::size_t wrong_rows = 0;
  std::size_t last_width = 0;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::int64_t> row_lines;
  rows.reserve(lines.size());
  for (std::size_t i = 1; i < lines.size(); ++i) {
    rows.push_back(split_fields(text.substr(lines[i].first, lines[i].second - lines[i].first)));
    row_lines.push_back(static_cast<std::int64_t>(i + 1));
    if (rows.back().size() != width) ++wrong_rows;
    last_width = rows.back().size();
  }
  if (!rows.empty() && wrong_rows == rows.size() && rows.size() > 1) {
    throw DataError(path, 1, 0,
                    "the header names " + std::to_string(width) + " fields but the data rows hold " +
                        std::to_string(rows.front().size()) +
                        ": refusing to guess which columns the names belong to (columns are never shifted)");
  }
  // The final record is suspect when it is short or has no line end: the sampler stopped mid-write,
  // and a cut can fall anywhere, even inside its last number (which would still parse).
  const bool terminated = text.back() == '\n';
  if (!rows.empty() && (last_width < width || !terminated)) {
    if (tail == TruncatedTail::kError) {
      throw DataError(path, row_lines.back(), static_cast<std::int64_t>(last_width),
                      "the last record holds " + std::to_string(last_width) + " of the header's " +
                          std::to_string(width) + " fields" + (terminated ? "" : " and has no line end") +
                          " (cut short mid-write); truncated_tail=drop drops such a row");
    }
    out.dropped_truncated_tail = true;
    out.truncated_tail_fields = static_cast<std::int64_t>(last_width);
    rows.pop_back();
    row_lines.pop_back();
  }

  out.values = Matrix(rows.size(), out.metrics.size());
  out.seconds.reserve(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& fields = rows[r];
    if (fields.size() != width) {
      throw DataError(path, row_lines[r], static_cast<std::int64_t>(std::min(fields.size(), width) + 1),
                      "row holds " + std::to_string(fields.size()) + " fields but the header names " +
                          std::to_string(width));
    }
    double t = 0;
    if (!parse_double(fields[0], t) || !std::isfinite(t)) {
      throw DataError(path, row_lines[r], 1, "#Time '" + fields[0] + "' is not a number");
    }
    out.seconds.push_back(static_cast<std::int64_t>(std::floor(t)));
    double* dst = out.values.row(r);
    for (std::size_t c = kMetaColumns; c < width; ++c) {
      if (!parse_double(fields[c], dst[c - kMetaColumns]) || !std::isfinite(dst[c - kMetaColumns])) {
        throw DataError(path, row_lines[r], static_cast<std::int64_t>(c + 1),
                        "metric " + header[c] + " value '" + fields[c] + "' is not a finite number");
      }
    }
  }
  return out;
}

std::string RunInfo::type_label() const {
  std::set<std::string> types;
  for (const auto& a : anomalies) types.insert(a.type);
  if (types.empty()) return "healthy";
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : "+") + t;
  return out;
}

RunInfo parse_run_folder(const std::string& relative_path) {
  RunInfo info;
  info.id = relative_path;
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t slash = relative_path.find('/', begin);
    std::string part = relative_path.substr(begin, slash == std::string::npos ? std::string::npos : slash - begin);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  if (parts.empty()) throw DataError(relative_path, 0, 0, "empty run folder name");
  std::vector<std::string> app_parts;
  {
    const std::string& app = parts[0];
    std::size_t b = 0;
    for (;;) {
      const std::size_t u = app.find('_', b);
      app_parts.push_back(app.substr(b, u == std::string::npos ? std::string::npos : u - b));
      if (u == std::string::npos) break;
      b = u + 1;
    }
  }
  info.application = app_parts[0];
  const std::vector<std::string> types(app_parts.begin() + 1, app_parts.end());
  for (const auto& t : types) {
    if (t != "CO" && t != "ML" && t != "CC") {
      throw DataError(relative_path, 0, 0, "unknown anomaly type '" + t + "' (known: CO cpuoccupy, ML memleak, CC cachecopy)");
    }
  }
  std::size_t next = 1;
  if (next < parts.size() && (parts[next] == "separate" || parts[next] == "overlaps")) info.layout = parts[next++];
  const std::string params = next < parts.size() ? parts[next] : "";
  if (types.empty()) {
    if (!params.empty()) throw DataError(relative_path, 0, 0, "a run without anomaly types has parameters '" + params + "'");
    return info;
  }
  // Tokens: ST<int> ET<int> then settings until the next ST.
  std::vector<std::string> tokens;
  {
    std::size_t b = 0;
    for (;;) {
      const std::size_t u = params.find('_', b);
      tokens.push_back(params.substr(b, u == std::string::npos ? std::string::npos : u - b));
      if (u == std::string::npos) break;
      b = u + 1;
    }
  }
  auto number_after = [&](const std::string& token, const std::string& prefix, std::int64_t& value) {
    if (!starts_with(token, prefix) || token.size() == prefix.size()) return false;
    char* end = nullptr;
    value = std::strtoll(token.c_str() + prefix.size(), &end, 10);
    return *end == '\0';
  };
  std::size_t i = 0;
  while (i < tokens.size()) {
    AnomalyWindow w;
    if (i + 1 >= tokens.size() || !number_after(tokens[i], "ST", w.start) || !number_after(tokens[i + 1], "ET", w.end)) {
      throw DataError(relative_path, 0, 0, "expected ST<second>_ET<second> at '" + tokens[i] + "' in '" + params + "'");
    }
    if (w.end <= w.start) throw DataError(relative_path, 0, 0, "anomaly window ends before it starts: " + tokens[i] + "_" + tokens[i + 1]);
    i += 2;
    std::int64_t ignored = 0;
    while (i < tokens.size() && !number_after(tokens[i], "ST", ignored)) {
      w.settings += (w.settings.empty() ? "" : "_") + tokens[i];
      ++i;
    }
    info.anomalies.push_back(w);
  }
  if (info.anomalies.size() != types.size()) {
    throw DataError(relative_path, 0, 0, "folder names " + std::to_string(types.size()) + " anomaly types but its parameters hold " +
                                             std::to_string(info.anomalies.size()) + " ST/ET windows");
  }
  for (std::size_t k = 0; k < types.size(); ++k) info.anomalies[k].type = types[k];
  return info;
}

std::vector<std::string> find_ldms_runs(const std::string& root) {
  if (!fs::is_directory(root)) throw DataError(root, 0, 0, "LDMS data folder does not exist");
  std::vector<std::string> runs;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_directory() || it->path().filename() != "data") continue;
    runs.push_back(fs::relative(it->path().parent_path(), root).generic_string());
    it.disable_recursion_pending();
  }
  std::sort(runs.begin(), runs.end());
  if (runs.empty()) throw DataError(root, 0, 0, "no run folder (one holding data/) under the LDMS root");
  return runs;
}

LdmsRun read_ldms_run(const std::string& root, const std::string& relative_path, TruncatedTail tail) {
  LdmsRun run;
  run.info = parse_run_folder(relative_path);
  const std::string dir = (fs::path(root) / relative_path).string();
  const std::pair<const char*, const char*> kFiles[] = {
      {"memory_metrics", "meminfo"}, {"memory_metrics", "vmstat"}, {"process_metrics", "procstat"}};
  std::vector<LdmsFile> files;
  std::vector<std::string> names;
  for (const auto& [sub, name] : kFiles) {
    const std::string path = find_metric_file(dir, sub, name, relative_path);
    files.push_back(read_ldms_file(path, tail));
    names.push_back(name);
    const FileDigest digest = digest_file(path);
    run.files.push_back(DataFile{path, digest.bytes, digest.sha256});
    if (files.back().dropped_truncated_tail) {
      run.notes.push_back(std::string(name) + ": dropped the cut-short last row (" +
                          std::to_string(files.back().truncated_tail_fields) + " of " +
                          std::to_string(files.back().metrics.size() + kMetaColumns) + " fields)");
    }
  }
  // Row index of each second per file (first occurrence wins).
  std::vector<std::map<std::int64_t, std::size_t>> index(files.size());
  std::int64_t start = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    if (files[f].seconds.empty()) {
      throw DataError(files[f].path, 0, 0, "no data rows in run '" + relative_path + "'");
    }
    for (std::size_t r = 0; r < files[f].seconds.size(); ++r) index[f].emplace(files[f].seconds[r], r);
    start = f == 0 ? files[f].seconds.front() : std::min(start, files[f].seconds.front());
  }
  std::vector<std::int64_t> common;
  for (const auto& [second, row] : index[0]) {
    (void)row;
    bool all = true;
    for (std::size_t f = 1; f < files.size(); ++f) all = all && index[f].count(second) != 0;
    if (all) common.push_back(second);
  }
  if (common.empty()) throw DataError(dir, 0, 0, "meminfo, vmstat and procstat share no second");
  // Columns: every non-per-core metric of each file, prefixed by the file name.
  std::vector<std::pair<std::size_t, std::size_t>> columns;  // (file, metric)
  for (std::size_t f = 0; f < files.size(); ++f) {
    for (std::size_t m = 0; m < files[f].metrics.size(); ++m) {
      if (starts_with(files[f].metrics[m], "per_core_")) continue;
      run.metrics.push_back(names[f] + "." + files[f].metrics[m]);
      columns.emplace_back(f, m);
    }
  }
  run.values = Matrix(common.size(), columns.size());
  for (std::size_t r = 0; r < common.size(); ++r) {
    run.seconds.push_back(common[r] - start);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto& file = files[columns[c].first];
      run.values(r, c) = file.values(index[columns[c].first].at(common[r]), columns[c].second);
    }
  }
  std::size_t longest = 0;
  for (const auto& f : files) longest = std::max(longest, f.seconds.size());
  if (longest > common.size()) {
    run.notes.push_back("join on seconds kept " + std::to_string(common.size()) + " of up to " +
                        std::to_string(longest) + " rows");
  }
  return run;
}

namespace {
std::int64_t overlap(const AnomalyWindow& w, std::int64_t begin, std::int64_t end) {
  return std::max<std::int64_t>(0, std::min(end, w.end) - std::max(begin, w.start));
}
}  // namespace

int window_label(const RunInfo& run, std::int64_t begin, std::int64_t end, std::int64_t min_seconds) {
  min_seconds = std::max<std::int64_t>(1, min_seconds);
  for (const auto& w : run.anomalies) {
    if (overlap(w, begin, end) >= min_seconds) return 1;
  }
  return 0;
}

std::string window_type_label(const RunInfo& run, std::int64_t begin, std::int64_t end, std::int64_t min_seconds) {
  min_seconds = std::max<std::int64_t>(1, min_seconds);
  std::set<std::string> types;
  for (const auto& w : run.anomalies) {
    if (overlap(w, begin, end) >= min_seconds) types.insert(w.type);
  }
  if (types.empty()) return "healthy";
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : "+") + t;
  return out;
}

}  // namespace opsbench
