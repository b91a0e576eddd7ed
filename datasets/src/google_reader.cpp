// Reader "google2011" (google_reader.h): the job_events parts of the Google cluster trace 2011-2
// (part-NNNNN-of-00500.csv.gz, no header; columns time in microseconds, missing_info, job_id,
// event_type, user, scheduling_class, job_name, logical_job_name, the names hashed).
//
// One row per job. The label is the job's last terminal event among EVICT, FAIL, FINISH, KILL and
// LOST (a job evicted and resubmitted ends with whatever came last); only the classes named in the
// option `classes` are kept, jobs without a terminal event (still running at the end of the parts
// read) or without a SUBMIT event (submitted before the trace started) are skipped and counted.
//
// Features are those known when the job is first submitted, from its first SUBMIT event:
// scheduling class, hour of day and day of the trace (time / 1e6 seconds; the trace's 600 s offset
// is not removed), and for the user and the logical job name the number of jobs submitted earlier
// in the parts read (ordered by submit time, then job id). These history counts replace frequency
// encodings over the whole trace, which would let a test row's count include jobs submitted after
// it; the hashed names themselves are not emitted (hundreds of thousands of levels, no meaning).
//
// Memory: parts are streamed one record at a time through CsvReader; per job only a small record is
// kept, and user and logical job names are interned to 32-bit ids (the full trace, 672k jobs, stays
// within a few hundred MB).
#include "google_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"

namespace opsbench {
namespace {

// Terminal event types of the trace, by their event_type code.
const std::map<int, std::string> kTerminal = {{2, "EVICT"}, {3, "FAIL"}, {4, "FINISH"}, {5, "KILL"}, {6, "LOST"}};
constexpr int kSubmit = 0;
constexpr int kMaxEventType = 8;  // 7 and 8 are UPDATE_PENDING / UPDATE_RUNNING
constexpr std::size_t kFields = 8;

struct JobRecord {
  std::int64_t submit_us = -1;  // first SUBMIT; -1 = none seen
  std::int64_t last_end_us = -1;
  std::uint32_t user = 0;
  std::uint32_t logical_name = 0;
  std::int8_t scheduling_class = -1;
  std::int8_t end_state = -1;  // event_type of the last terminal event; -1 = none
};

// Interns strings to dense ids so that a job record holds no string.
class Interner {
 public:
  std::uint32_t id(const std::string& s) {
    const auto it = ids_.try_emplace(s, static_cast<std::uint32_t>(ids_.size())).first;
    return it->second;
  }
  std::size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
};

std::int64_t parse_integer(const std::string& field, const std::string& path, std::int64_t line, int column,
                           const char* what) {
  double v = 0;
  if (!parse_double(field, v) || !std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e18)
    throw DataError(path, line, column, fmt::format("{} '{}' is not an integer", what, field));
  return static_cast<std::int64_t>(v);
}

struct GoogleOptions {
  std::vector<std::string> classes;
  std::int64_t max_parts = 500;
};

// The part files of `dir` in name order, at most max_parts (0 = all).
std::vector<std::string> part_files(const std::string& dir, std::int64_t max_parts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir, 0, 0, "not a directory (google2011 reads a job_events folder of part-*.csv.gz files)");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("part-", 0) == 0 && name.find(".csv") != std::string::npos)
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw DataError(dir, 0, 0, "no part-*.csv[.gz] file in the job_events folder");
  if (max_parts > 0 && static_cast<std::size_t>(max_parts) < files.size()) files.resize(static_cast<std::size_t>(max_parts));
  return files;
}

Dataset read_google2011(const std::string& dir, const GoogleOptions& options) {
  std::vector<int> wanted;  // event types kept as classes
  for (const auto& c : options.classes) {
    const auto it = std::find_if(kTerminal.begin(), kTerminal.end(), [&](const auto& kv) { return kv.second == c; });
    if (it == kTerminal.end())
      throw ConfigError("google2011: unknown class '" + c + "' in option classes (valid: EVICT, FAIL, FINISH, KILL, LOST)");
    wanted.push_back(it->first);
  }
  if (wanted.empty()) throw ConfigError("google2011: option classes is empty");

  std::unordered_map<std::int64_t, JobRecord> jobs;
  Interner users, names;
  Dataset out;
  CsvOptions csv;
  csv.has_header = false;
  std::vector<std::string> f;
  std::uint64_t events = 0;
  for (const std::string& path : part_files(dir, options.max_parts)) {
    CsvReader reader(path, csv);
    while (reader.next(f)) {
      const std::int64_t line = reader.line();
      if (f.size() != kFields)
        throw DataError(path, line, 0, fmt::format("job_events record has {} fields; the format has {}", f.size(), kFields));
      ++events;
      const std::int64_t time = parse_integer(f[0], path, line, 1, "time");
      const std::int64_t job_id = parse_integer(f[2], path, line, 3, "job_id");
      const std::int64_t type = parse_integer(f[3], path, line, 4, "event_type");
      if (type < 0 || type > kMaxEventType)
        throw DataError(path, line, 4, fmt::format("unknown event_type {} (valid: 0 to {})", type, kMaxEventType));
      JobRecord& job = jobs[job_id];
      if (type == kSubmit && job.submit_us < 0) {
        job.submit_us = time;
        const std::int64_t cls = is_missing_token(f[5]) ? -1 : parse_integer(f[5], path, line, 6, "scheduling_class");
        if (cls < -1 || cls > 3)
          throw DataError(path, line, 6, fmt::format("scheduling_class {} out of range (0 to 3)", cls));
        job.scheduling_class = static_cast<std::int8_t>(cls);
        job.user = users.id(f[4]);
        job.logical_name = names.id(f[7]);
      } else if (kTerminal.count(static_cast<int>(type)) && time >= job.last_end_us) {
        job.last_end_us = time;
        job.end_state = static_cast<std::int8_t>(type);
      }
    }
    const FileDigest digest = digest_file(path);
    out.files.push_back({path, digest.bytes, digest.sha256});
  }

  // Kept jobs in submit order (ties by job id), so that history counts and rows are deterministic.
  struct Kept {
    std::int64_t submit_us;
    std::int64_t job_id;
    const JobRecord* job;
  };
  std::vector<Kept> kept;
  std::size_t no_submit = 0, no_end = 0, other_class = 0;
  for (const auto& [id, job] : jobs) {
    if (job.submit_us < 0) ++no_submit;
    else if (job.end_state < 0) ++no_end;
    else if (std::find(wanted.begin(), wanted.end(), job.end_state) == wanted.end()) ++other_class;
    else kept.push_back({job.submit_us, id, &job});
  }
  if (kept.empty()) throw DataError(dir, 0, 0, "no job with a SUBMIT and a kept end state in the parts read");
  std::sort(kept.begin(), kept.end(),
            [](const Kept& a, const Kept& b) { return a.submit_us != b.submit_us ? a.submit_us < b.submit_us : a.job_id < b.job_id; });

  std::vector<int> class_codes(wanted);
  std::sort(class_codes.begin(), class_codes.end(),
            [](int a, int b) { return kTerminal.at(a) < kTerminal.at(b); });  // classes in name order
  Labels labels;
  labels.name = "end_state";
  for (int c : class_codes) labels.classes.push_back(kTerminal.at(c));
  const std::size_t n = kept.size();
  std::vector<double> sched(n), hour(n), day(n), user_prior(n), name_prior(n);
  std::vector<std::uint32_t> user_seen(users.size(), 0), name_seen(names.size(), 0);
  labels.values.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const JobRecord& j = *kept[i].job;
    const double seconds = static_cast<double>(j.submit_us) / 1e6;
    sched[i] = j.scheduling_class < 0 ? NAN : j.scheduling_class;
    hour[i] = std::fmod(std::floor(seconds / 3600.0), 24.0);
    day[i] = std::floor(seconds / 86400.0);
    user_prior[i] = user_seen[j.user]++;
    name_prior[i] = name_seen[j.logical_name]++;
    labels.values.push_back(static_cast<int>(
        std::find(class_codes.begin(), class_codes.end(), static_cast<int>(j.end_state)) - class_codes.begin()));
  }
  jobs.clear();
  Table& t = out.table;
  t.add_column(Column::numeric("scheduling_class", std::move(sched)));
  t.add_column(Column::numeric("submit_hour", std::move(hour)));
  t.add_column(Column::numeric("submit_day", std::move(day)));
  t.add_column(Column::numeric("user_prior_jobs", std::move(user_prior)));
  t.add_column(Column::numeric("logical_name_prior_jobs", std::move(name_prior)));
  t.add_labels(std::move(labels));
  out.description = fmt::format(
      "Google cluster trace 2011-2 job_events: {} parts, {} events, {} jobs kept ({} without SUBMIT, {} without end "
      "event, {} with an end state outside classes skipped)",
      out.files.size(), events, n, no_submit, no_end, other_class);
  return out;
}

}  // namespace

ReaderEntry google2011_reader_entry() {
  ReaderEntry e;
  e.name = "google2011";
  e.description = "Google cluster trace 2011-2 job_events: one row per job, submit-time features, end state as label";
  e.options = {
      OptionDecl::string("path", "", "the job_events folder of part-*.csv.gz files (data:REL is under the data root)"),
      OptionDecl::list("classes", "FINISH;KILL;FAIL",
                       "end states kept as classes (of EVICT, FAIL, FINISH, KILL, LOST); jobs ending otherwise are skipped"),
      OptionDecl::integer("max_parts", 500, 0.0, 100000.0,
                          "read at most this many part files in name order; 0 = all")};
  e.read = [](const Options& o, const ReadContext& ctx) {
    if (o.get_string("path").empty()) throw ConfigError("option 'path' is required");
    GoogleOptions go;
    go.classes = o.get_list("classes");
    go.max_parts = o.get_int("max_parts");
    return read_google2011(resolve_data_path(o.get_string("path"), ctx), go);
  };
  return e;
}

}  // namespace opsbench
