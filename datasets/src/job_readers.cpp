// The job readers of datasets/ (see readers.h): Slurm sacct --parsable2 and SWF (job_traces.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/datasets/csv_dataset.h"
#include "opsbench/datasets/job_traces.h"
#include "google_reader.h"
#include "readers.h"

namespace opsbench {
namespace {

const std::set<std::string> kEndStates = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED",
                                          "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "REQUEUED", "REVOKED",
                                          "TIMEOUT"};
const std::set<std::string> kLiveStates = {"PENDING", "RUNNING", "REQUEUED_HOLD", "REQUEUE_FED", "RESIZING",
                                           "SUSPENDED", "SIGNALING", "STAGE_OUT", "STOPPED", "COMPLETING",
                                           "CONFIGURING", "SPECIAL_EXIT", "REQUEUED_HOLD"};

// Calendar features of an epoch second (UTC): hour, day of week (0 = Monday), day of month.
void calendar(std::int64_t t, double& hour, double& dow, double& dom) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  hour = tm.tm_hour;
  dow = (tm.tm_wday + 6) % 7;
  dom = tm.tm_mday;
}

// Frequency encoding: how many rows share each row's value.
std::vector<double> frequencies(const std::vector<std::string>& values) {
  std::unordered_map<std::string, double> count;
  for (const auto& v : values) count[v] += 1;
  std::vector<double> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = count[values[i]];
  return out;
}

Labels make_labels(const std::string& name, const std::vector<std::string>& states) {
  Labels l;
  l.name = name;
  std::set<std::string> distinct(states.begin(), states.end());
  l.classes.assign(distinct.begin(), distinct.end());
  for (const auto& s : states)
    l.values.push_back(static_cast<int>(std::lower_bound(l.classes.begin(), l.classes.end(), s) - l.classes.begin()));
  return l;
}

double parse_mem_mb(const std::string& text, bool& ok) {
  ok = true;
  if (text.empty()) return NAN;
  std::string t = text;
  if (!t.empty() && (t.back() == 'c' || t.back() == 'n')) t.pop_back();
  double scale = 1.0;  // sacct's default unit is MB
  if (!t.empty() && std::isalpha(static_cast<unsigned char>(t.back()))) {
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(t.back())));
    t.pop_back();
    if (u == 'K') scale = 1.0 / 1024;
    else if (u == 'M') scale = 1;
    else if (u == 'G') scale = 1024;
    else if (u == 'T') scale = 1024.0 * 1024;
    else ok = false;
  }
  double v = 0;
  if (!ok || !parse_double(t, v) || v < 0) {
    ok = false;
    return NAN;
  }
  return v * scale;
}

struct SacctJob {
  bool from_allocation = false;
  std::vector<std::string> fields;
  std::int64_t line = 0;
};

}  // namespace

bool parse_slurm_duration(const std::string& text, double& seconds, bool& missing) {
  missing = false;
  if (text.empty() || text == "UNLIMITED" || text == "Partition_Limit" || text == "INVALID") {
    missing = true;
    seconds = NAN;
    return true;
  }
  std::string rest = text;
  double days = 0;
  const auto dash = rest.find('-');
  if (dash != std::string::npos) {
    if (!parse_double(rest.substr(0, dash), days) || days < 0 || days != std::floor(days)) return false;
    rest = rest.substr(dash + 1);
  }
  std::vector<std::string> parts;
  std::stringstream ss(rest);
  for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
  if (parts.size() < 2 || parts.size() > 3 || (dash != std::string::npos && parts.size() != 3)) return false;
  double total = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    double v = 0;
    if (parts[i].empty() || !parse_double(parts[i], v) || v < 0 || !std::isfinite(v)) return false;
    if (i + 1 < parts.size() && v != std::floor(v)) return false;  // only seconds may be fractional
    if (i > 0 && v >= 60) return false;
    total = total * 60 + v;
  }
  seconds = days * 86400 + total;
  return true;
}

Dataset read_sacct(const std::string& path, const JobTraceOptions& options) {
  CsvOptions csv;
  csv.delimiter = '|';
  CsvReader reader(path, csv);
  const auto& header = reader.header();
  auto col = [&](const std::string& name) -> int {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const int c_id = col("JobID"), c_state = col("State");
  if (c_id < 0 || c_state < 0)
    throw DataError(path, 1, 0, "sacct --parsable2 output needs the columns JobID and State in its header");
  std::map<std::string, SacctJob> jobs;
  std::vector<std::string> order;
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    const std::string& id = fields[static_cast<std::size_t>(c_id)];
    if (id.empty()) throw DataError(path, reader.line(), c_id + 1, "empty JobID");
    const auto dot = id.find('.');
    const std::string job = id.substr(0, dot);
    auto [it, fresh] = jobs.try_emplace(job);
    if (fresh) order.push_back(job);
    if (fresh || (dot == std::string::npos && !it->second.from_allocation)) {
      it->second.fields = fields;
      it->second.line = reader.line();
      it->second.from_allocation = dot == std::string::npos;
    }
  }
  const bool all = options.features == "all";
  std::vector<double> hour, dow, dom, req_cpus, req_mem, req_nodes, timelimit, elapsed, wait, alloc, exit_code;
  std::vector<std::string> partition, user, states;
  std::size_t skipped = 0;
  auto field = [&](const SacctJob& j, int c) -> const std::string& {
    static const std::string kEmpty;
    return c < 0 ? kEmpty : j.fields[static_cast<std::size_t>(c)];
  };
  auto number = [&](const SacctJob& j, int c) {
    const std::string& f = field(j, c);
    double v = NAN;
    if (c >= 0 && !is_missing_token(f) && !parse_double(f, v))
      throw DataError(path, j.line, c + 1, fmt::format("'{}' in column {} is not a number", f, header[c]));
    return v;
  };
  auto duration = [&](const SacctJob& j, int c) {
    double v = NAN;
    bool missing = false;
    if (c >= 0 && !parse_slurm_duration(field(j, c), v, missing))
      throw DataError(path, j.line, c + 1,
                      fmt::format("malformed duration '{}' in {} (expected [D-]HH:MM:SS)", field(j, c), header[c]));
    return v;
  };
  auto stamp = [&](const SacctJob& j, int c) -> double {
    const std::string& f = field(j, c);
    if (c < 0 || f.empty() || f == "Unknown" || f == "None") return NAN;
    std::int64_t t = 0;
    if (!parse_timestamp(f, t)) throw DataError(path, j.line, c + 1, "malformed timestamp '" + f + "'");
    return static_cast<double>(t);
  };
  const int c_submit = col("Submit"), c_start = col("Start"), c_elapsed = col("Elapsed"), c_limit = col("Timelimit");
  const int c_req_cpus = col("ReqCPUS"), c_alloc = col("AllocCPUS"), c_mem = col("ReqMem"), c_nodes = col("NNodes");
  const int c_part = col("Partition"), c_user = col("User"), c_exit = col("ExitCode");
  for (const auto& name : order) {
    const SacctJob& j = jobs[name];
    std::string state = field(j, c_state);
    state = state.substr(0, state.find(' '));
    if (!state.empty() && state.back() == '+') state.pop_back();
    if (kLiveStates.count(state)) {
      ++skipped;
      continue;
    }
    if (!kEndStates.count(state))
      throw DataError(path, j.line, c_state + 1, "unknown job state '" + field(j, c_state) + "'");
    states.push_back(state);
    const double submit = stamp(j, c_submit);
    double h = NAN, w = NAN, d = NAN;
    if (!std::isnan(submit)) calendar(static_cast<std::int64_t>(submit), h, w, d);
    hour.push_back(h);
    dow.push_back(w);
    dom.push_back(d);
    req_cpus.push_back(number(j, c_req_cpus));
    bool ok = true;
    req_mem.push_back(parse_mem_mb(field(j, c_mem), ok));
    if (!ok) throw DataError(path, j.line, c_mem + 1, "malformed ReqMem '" + field(j, c_mem) + "'");
    req_nodes.push_back(number(j, c_nodes));
    timelimit.push_back(duration(j, c_limit));
    partition.push_back(field(j, c_part));
    user.push_back(field(j, c_user));
    elapsed.push_back(duration(j, c_elapsed));
    wait.push_back(stamp(j, c_start) - submit);
    alloc.push_back(number(j, c_alloc));
    const std::string& ec = field(j, c_exit);
    double code = NAN;
    if (!ec.empty() && !parse_double(ec.substr(0, ec.find(':')), code))
      throw DataError(path, j.line, c_exit + 1, "malformed ExitCode '" + ec + "' (expected N:M)");
    exit_code.push_back(code);
  }
  if (states.empty()) throw DataError(path, 0, 0, "no finished job in the sacct output");
  Dataset out;
  Table& t = out.table;
  t.add_column(Column::numeric("submit_hour", hour));
  t.add_column(Column::numeric("submit_day_of_week", dow));
  t.add_column(Column::numeric("submit_day_of_month", dom));
  t.add_column(Column::numeric("req_cpus", req_cpus));
  t.add_column(Column::numeric("req_mem_mb", req_mem));
  t.add_column(Column::numeric("req_nodes", req_nodes));
  t.add_column(Column::numeric("timelimit_s", timelimit));
  t.add_column(Column::categorical("partition", partition));
  t.add_column(Column::numeric("user_freq", frequencies(user)));
  t.add_column(Column::numeric("partition_freq", frequencies(partition)));
  if (all) {
    t.add_column(Column::numeric("elapsed_s", elapsed));
    t.add_column(Column::numeric("wait_s", wait));
    t.add_column(Column::numeric("alloc_cpus", alloc));
    t.add_column(Column::numeric("exit_code", exit_code));
  }
  // Columns absent from this sacct output are all-missing: drop them (imputers reject them).
  auto& cols = t.mutable_columns();
  cols.erase(std::remove_if(cols.begin(), cols.end(), [](const Column& c) { return c.missing_count() == c.size(); }),
             cols.end());
  t.add_labels(make_labels("state", states));
  const FileDigest digest = digest_file(path);
  out.files.push_back({path, digest.bytes, digest.sha256});
  out.description = fmt::format("Slurm sacct: {} jobs ({} still pending/running skipped), features {}", states.size(),
                                skipped, options.features);
  return out;
}

Dataset read_swf(const std::string& path, const JobTraceOptions& options) {
  CsvOptions csv;
  csv.delimiter = '\x01';  // one field per line: SWF separates by runs of whitespace, split below
  csv.has_header = false;
  CsvReader reader(path, csv);
  std::int64_t unix_start = 0;
  std::vector<double> hour, dow, req_procs, req_time, req_mem, run_time, wait, alloc, user_id, queue, partition;
  std::vector<std::string> users, states;
  std::size_t skipped = 0;
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    const std::string& line = fields[0];
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] == ';') {
      const auto key = line.find("UnixStartTime:");
      if (key != std::string::npos) {
        double v = 0;
        std::string value = line.substr(key + 14);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r") + 1);
        if (!parse_double(value, v)) throw DataError(path, reader.line(), 0, "malformed UnixStartTime");
        unix_start = static_cast<std::int64_t>(v);
      }
      continue;
    }
    std::istringstream in(line);
    std::vector<double> v;
    std::string token;
    while (in >> token) {
      double x = 0;
      if (!parse_double(token, x))
        throw DataError(path, reader.line(), static_cast<std::int64_t>(v.size() + 1),
                        "SWF field '" + token + "' is not a number");
      v.push_back(x);
    }
    if (v.size() != 18)
      throw DataError(path, reader.line(), 0, fmt::format("SWF line has {} fields; the format has 18", v.size()));
    const int status = static_cast<int>(v[10]);
    if (status == -1) {
      ++skipped;
      continue;
    }
    static const std::map<int, std::string> kStatus = {
        {0, "failed"}, {1, "completed"}, {2, "partial"}, {3, "partial_last_completed"}, {4, "partial_last_failed"},
        {5, "cancelled"}};
    const auto st = kStatus.find(status);
    if (st == kStatus.end())
      throw DataError(path, reader.line(), 11, fmt::format("unknown SWF status {} (valid: -1, 0 to 5)", status));
    states.push_back(st->second);
    auto opt = [](double x) { return x < 0 ? NAN : x; };
    double h = NAN, w = NAN, d = NAN;
    if (v[1] >= 0) calendar(unix_start + static_cast<std::int64_t>(v[1]), h, w, d);
    hour.push_back(h);
    dow.push_back(w);
    req_procs.push_back(opt(v[7]));
    req_time.push_back(opt(v[8]));
    req_mem.push_back(v[9] < 0 ? NAN : v[9] / 1024.0);  // KB per processor -> MB
    users.push_back(fmt::format("{}", v[11]));
    queue.push_back(opt(v[14]));
    partition.push_back(opt(v[15]));
    run_time.push_back(opt(v[3]));
    wait.push_back(opt(v[2]));
    alloc.push_back(opt(v[4]));
  }
  if (states.empty()) throw DataError(path, 0, 0, "no job with a known status in the SWF file");
  Dataset out;
  Table& t = out.table;
  t.add_column(Column::numeric("submit_hour", hour));
  t.add_column(Column::numeric("submit_day_of_week", dow));
  t.add_column(Column::numeric("req_procs", req_procs));
  t.add_column(Column::numeric("req_time_s", req_time));
  t.add_column(Column::numeric("req_mem_mb", req_mem));
  t.add_column(Column::numeric("queue", queue));
  t.add_column(Column::numeric("partition", partition));
  t.add_column(Column::numeric("user_freq", frequencies(users)));
  if (options.features == "all") {
    t.add_column(Column::numeric("run_time_s", run_time));
    t.add_column(Column::numeric("wait_s", wait));
    t.add_column(Column::numeric("alloc_procs", alloc));
  }
  auto& cols = t.mutable_columns();
  cols.erase(std::remove_if(cols.begin(), cols.end(), [](const Column& c) { return c.missing_count() == c.size(); }),
             cols.end());
  t.add_labels(make_labels("status", states));
  const FileDigest digest = digest_file(path);
  out.files.push_back({path, digest.bytes, digest.sha256});
  out.description = fmt::format("SWF: {} jobs ({} with unknown status skipped), features {}", states.size(), skipped,
                                options.features);
  return out;
}

void add_job_readers(Registry& registry) {
  auto entry = [](std::string name, std::string description, Dataset (*read)(const std::string&, const JobTraceOptions&)) {
    ReaderEntry e;
    e.name = std::move(name);
    e.description = std::move(description);
    e.options = {OptionDecl::string("path", "", "the trace file (gzip read transparently; data:REL is under the data root)"),
                 OptionDecl::choice("features", "submit", {"submit", "all"},
                                    "submit: only what is known at submit time; all: also run time, waiting time, "
                                    "allocation (not known at submit time)")};
    e.read = [read](const Options& o, const ReadContext& ctx) {
      if (o.get_string("path").empty()) throw ConfigError("option 'path' is required");
      JobTraceOptions jo;
      jo.features = o.get_string("features");
      return read(resolve_data_path(o.get_string("path"), ctx), jo);
    };
    return e;
  };
  registry.add(entry("sacct", "Slurm sacct --parsable2 output: one row per job (steps folded), end state as label",
                     &read_sacct));
  registry.add(entry("swf", "Standard Workload Format trace: one row per job, status as label", &read_swf));
  registry.add(google2011_reader_entry());
}

}  // namespace opsbench
