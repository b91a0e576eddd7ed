// Measurement: timers, peak RSS, latency distributions and energy meters (see measure.h).
#include "opsbench/core/measure.h"

#include <fmt/format.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "nvml_api.h"
#include "opsbench/core/error.h"

namespace opsbench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A "Vm...:   1234 kB" line of /proc/self/status, in bytes; -1 when absent or unreadable.
std::int64_t read_status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      std::int64_t kb = -1;
      if (fields >> kb) return kb * 1024;
      return -1;
    }
  }
  return -1;
}

Figure make_figure(std::string name, double value, std::string unit, std::string source) {
  Figure f;
  f.name = std::move(name);
  f.value = value;
  f.unit = std::move(unit);
  f.source = std::move(source);
  return f;
}

Figure unavailable_figure(std::string name, std::string unit, std::string reason) {
  Figure f;
  f.name = std::move(name);
  f.unit = std::move(unit);
  f.available = false;
  f.reason = std::move(reason);
  return f;
}

// ---- NVML -------------------------------------------------------------------------------------

constexpr std::chrono::milliseconds kNvmlPowerPeriod{100};

class NvmlMeter : public EnergyMeter {
 public:
  NvmlMeter() {
    const auto& api = detail::nvml();
    if (!api.loaded) {
      reason_ = api.reason;
      return;
    }
    unsigned int count = 0;
    const int rc = api.device_get_count(&count);
    if (rc != detail::kNvmlSuccess) {
      reason_ = "nvmlDeviceGetCount_v2 failed: " + api.error(rc);
      return;
    }
    if (count == 0) {
      reason_ = "NVML reports no GPU";
      return;
    }
    for (unsigned int i = 0; i < count; ++i) {
      detail::NvmlDevice device = nullptr;
      const int handle_rc = api.device_get_handle_by_index(i, &device);
      if (handle_rc != detail::kNvmlSuccess) {
        reason_ = fmt::format("nvmlDeviceGetHandleByIndex_v2({}) failed: {}", i, api.error(handle_rc));
        devices_.clear();
        return;
      }
      devices_.push_back(device);
    }
    // The total-energy counter (Volta and newer) is exact; power sampling is the fallback.
    counter_ = api.device_get_total_energy_consumption != nullptr;
    for (auto device : devices_) {
      unsigned long long mj = 0;
      if (counter_ && api.device_get_total_energy_consumption(device, &mj) != detail::kNvmlSuccess) counter_ = false;
    }
    if (!counter_) {
      for (auto device : devices_) {
        unsigned int mw = 0;
        const int power_rc = api.device_get_power_usage(device, &mw);
        if (power_rc != detail::kNvmlSuccess) {
          reason_ = "neither the NVML energy counter nor nvmlDeviceGetPowerUsage works: " + api.error(power_rc);
          devices_.clear();
          return;
        }
      }
    }
    available_ = true;
  }

  ~NvmlMeter() override { stop_sampler(); }

  std::string source() const override {
    if (counter_) return fmt::format("NVML total energy counter (mJ), {} GPU(s)", devices_.size());
    return fmt::format("NVML power sampling every {} ms (trapezoid rule), {} GPU(s)", kNvmlPowerPeriod.count(),
                       devices_.size());
  }
  bool available() const override { return available_; }
  std::string unavailable_reason() const override { return reason_; }

  void start() override {
    if (!available_) throw ModelError("NVML energy meter unavailable: " + reason_);
    start_time_ = Clock::now();
    if (counter_) {
      start_mj_ = read_counter_mj();
      return;
    }
    stop_sampler();
    joules_ = 0;
    stopping_ = false;
    sampler_ = std::thread([this] { sample_loop(); });
  }

  EnergyReading stop() override {
    EnergyReading reading;
    if (counter_) {
      reading.joules = static_cast<double>(read_counter_mj() - start_mj_) / 1000.0;
    } else {
      stop_sampler();
      reading.joules = joules_;
    }
    reading.seconds = seconds_since(start_time_);
    return reading;
  }

 private:
  unsigned long long read_counter_mj() const {
    unsigned long long total = 0;
    for (auto device : devices_) {
      unsigned long long mj = 0;
      const int rc = detail::nvml().device_get_total_energy_consumption(device, &mj);
      if (rc != detail::kNvmlSuccess)
        throw ModelError("nvmlDeviceGetTotalEnergyConsumption failed: " + detail::nvml().error(rc));
      total += mj;
    }
    return total;
  }

  double read_power_watts() const {
    double watts = 0;
    for (auto device : devices_) {
      unsigned int mw = 0;
      if (detail::nvml().device_get_power_usage(device, &mw) == detail::kNvmlSuccess) watts += mw / 1000.0;
    }
    return watts;
  }

  void sample_loop() {
    double last_watts = read_power_watts();
    auto last_time = Clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      const bool stopping = wake_.wait_for(lock, kNvmlPowerPeriod, [this] { return stopping_; });
      const double watts = read_power_watts();
      const auto now = Clock::now();
      joules_ += 0.5 * (watts + last_watts) * std::chrono::duration<double>(now - last_time).count();
      last_watts = watts;
      last_time = now;
      if (stopping) return;
    }
  }

  void stop_sampler() {
    if (!sampler_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    sampler_.join();
  }

  bool available_ = false;
  bool counter_ = false;
  std::string reason_;
  std::vector<detail::NvmlDevice> devices_;
  Clock::time_point start_time_;
  unsigned long long start_mj_ = 0;
  std::thread sampler_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  double joules_ = 0;  // written by the sampler, read after join
};

// ---- RAPL -------------------------------------------------------------------------------------

struct RaplDomain {
  std::string name;  // "package-0"
  std::string energy_path;
  std::uint64_t max_range_uj = 0;
  std::uint64_t start_uj = 0;
};

bool read_u64(const std::string& path, std::uint64_t& out) {
  std::ifstream in(path);
  if (!in) return false;
  unsigned long long v = 0;
  if (!(in >> v)) return false;
  out = v;
  return true;
}

class RaplMeter : public EnergyMeter {
 public:
  explicit RaplMeter(const std::string& root) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      reason_ = root + " absent (no powercap/RAPL interface)";
      return;
    }
    // Top-level zones only (intel-rapl:N, one per package); their sub-zones (intel-rapl:N:M) are
    // parts of the package figure and would be counted twice.
    static const std::regex kZone("intel-rapl:[0-9]+");
    std::vector<std::string> zones;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (std::regex_match(name, kZone)) zones.push_back(name);
    }
    std::sort(zones.begin(), zones.end());
    if (zones.empty()) {
      reason_ = "no intel-rapl:N zone under " + root;
      return;
    }
    for (const auto& zone : zones) {
      RaplDomain domain;
      const std::string dir = root + "/" + zone;
      std::ifstream name_file(dir + "/name");
      if (!(name_file && std::getline(name_file, domain.name)) || domain.name.empty()) domain.name = zone;
      domain.energy_path = dir + "/energy_uj";
      std::uint64_t probe = 0;
      if (!read_u64(domain.energy_path, probe)) {
        reason_ = domain.energy_path + " unreadable (permission denied? root-only since Linux 5.10)";
        return;
      }
      if (!read_u64(dir + "/max_energy_range_uj", domain.max_range_uj) || domain.max_range_uj == 0) {
        reason_ = dir + "/max_energy_range_uj unreadable";
        return;
      }
      domains_.push_back(domain);
    }
    available_ = true;
  }

  std::string source() const override {
    std::string names;
    for (const auto& d : domains_) names += (names.empty() ? "" : "+") + d.name;
    return "RAPL " + names + " (energy_uj, wraparound at max_energy_range_uj)";
  }
  bool available() const override { return available_; }
  std::string unavailable_reason() const override { return reason_; }

  void start() override {
    if (!available_) throw ModelError("RAPL energy meter unavailable: " + reason_);
    for (auto& d : domains_) d.start_uj = read_energy(d);
    start_time_ = Clock::now();
  }

  EnergyReading stop() override {
    EnergyReading reading;
    reading.seconds = seconds_since(start_time_);
    for (const auto& d : domains_) {
      const std::uint64_t now = read_energy(d);
      // The counter wraps to 0 after max_energy_range_uj; at most one wrap per phase is assumed
      // (a wrap takes minutes even at hundreds of watts).
      const std::uint64_t delta = now >= d.start_uj ? now - d.start_uj : (d.max_range_uj - d.start_uj) + now;
      reading.joules += static_cast<double>(delta) * 1e-6;
    }
    return reading;
  }

 private:
  static std::uint64_t read_energy(const RaplDomain& d) {
    std::uint64_t v = 0;
    if (!read_u64(d.energy_path, v)) throw ModelError(d.energy_path + " became unreadable");
    return v;
  }

  bool available_ = false;
  std::string reason_;
  std::vector<RaplDomain> domains_;
  Clock::time_point start_time_;
};

// Short backend key for figure names: "nvml", "rapl".
std::string backend_key(const EnergyMeter& meter) { return meter.source().rfind("NVML", 0) == 0 ? "nvml" : "rapl"; }

}  // namespace

// ---- time and memory --------------------------------------------------------------------------

double process_cpu_seconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0.0;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::int64_t read_vm_hwm_bytes() { return read_status_kb("VmHWM"); }
std::int64_t read_vm_rss_bytes() { return read_status_kb("VmRSS"); }

bool reset_peak_rss() {
  // "5" resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool written = std::fputs("5", f) >= 0;
  const bool closed = std::fclose(f) == 0;
  return written && closed;
}

namespace {
#ifdef __GLIBC__
constexpr const char* kPeakRssSource = "/proc/self/status VmHWM after malloc_trim and clear_refs reset";
#else
constexpr const char* kPeakRssSource = "/proc/self/status VmHWM after clear_refs reset";
#endif

std::vector<PhaseProbe>& phase_probes() {
  static std::vector<PhaseProbe> probes;
  return probes;
}
}  // namespace

void add_phase_probe(PhaseProbe probe) { phase_probes().push_back(std::move(probe)); }

PhaseMeter::PhaseMeter(std::string phase) : phase_(std::move(phase)) {}

void PhaseMeter::start() {
  for (const auto& probe : phase_probes()) probe.start();
#ifdef __GLIBC__
  // Free heap pages glibc keeps after earlier phases or cells would count in this phase's peak.
  malloc_trim(0);
#endif
  rss_reset_ok_ = reset_peak_rss();
  cpu_start_ = process_cpu_seconds();
  wall_start_ = Clock::now();
}

std::vector<Figure> PhaseMeter::stop() {
  const double wall = seconds_since(wall_start_);
  const double cpu = process_cpu_seconds() - cpu_start_;
  std::vector<Figure> figures;
  figures.push_back(make_figure(phase_ + ".wall", wall, "s", "steady_clock"));
  figures.push_back(make_figure(phase_ + ".cpu", cpu, "s", "getrusage(RUSAGE_SELF)"));
  const std::int64_t hwm = read_vm_hwm_bytes();
  if (hwm < 0) {
    figures.push_back(unavailable_figure(phase_ + ".peak_rss", "bytes", "/proc/self/status VmHWM unreadable"));
  } else {
    figures.push_back(make_figure(phase_ + ".peak_rss", static_cast<double>(hwm), "bytes",
                                  rss_reset_ok_ ? kPeakRssSource
                                                : "/proc/self/status VmHWM (process peak: clear_refs reset refused)"));
  }
  for (const auto& probe : phase_probes()) {
    for (auto& f : probe.stop(phase_)) figures.push_back(std::move(f));
  }
  return figures;
}

// ---- latency ----------------------------------------------------------------------------------

double percentile(std::vector<double> values, double q) {
  if (values.empty()) throw DataError("percentile of an empty sample");
  if (!(q >= 0.0 && q <= 1.0)) throw DataError(fmt::format("percentile: q={} is outside [0, 1]", q));
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least q of the sample at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

std::vector<Figure> measure_latency(const std::function<void(std::size_t begin, std::size_t count)>& run,
                                    std::size_t num_rows, const LatencyOptions& options) {
  std::vector<Figure> figures;
  if (options.repeats < 1) throw DataError("measure_latency: repeats must be >= 1");
  for (const std::size_t batch : options.batch_sizes) {
    if (batch == 0 || batch > num_rows) continue;
    std::size_t next = 0;
    auto next_begin = [&]() {  // consecutive batches, wrapping to the first rows
      if (next + batch > num_rows) next = 0;
      const std::size_t begin = next;
      next += batch;
      return begin;
    };
    for (int i = 0; i < options.warmup; ++i) run(next_begin(), batch);
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(options.repeats));
    for (int i = 0; i < options.repeats; ++i) {
      const std::size_t begin = next_begin();
      const auto start = Clock::now();
      run(begin, batch);
      times.push_back(seconds_since(start));
    }
    double total = 0;
    for (const double t : times) total += t;
    const std::string prefix = fmt::format("latency.b{}", batch);
    const std::string source =
        fmt::format("steady_clock, {} timed batches after {} warm-up", options.repeats, std::max(options.warmup, 0));
    figures.push_back(make_figure(prefix + ".p50", percentile(times, 0.50), "s", source));
    figures.push_back(make_figure(prefix + ".p95", percentile(times, 0.95), "s", source));
    figures.push_back(make_figure(prefix + ".p99", percentile(times, 0.99), "s", source));
    const double throughput = total > 0 ? static_cast<double>(batch) * static_cast<double>(times.size()) / total : 0.0;
    figures.push_back(make_figure(prefix + ".throughput", throughput, "samples/s", source + " (rows / total time)"));
  }
  return figures;
}

// ---- energy -----------------------------------------------------------------------------------

std::unique_ptr<EnergyMeter> make_nvml_meter() { return std::make_unique<NvmlMeter>(); }

std::unique_ptr<EnergyMeter> make_rapl_meter(const std::string& powercap_root) {
  return std::make_unique<RaplMeter>(powercap_root);
}

namespace {
std::vector<std::unique_ptr<EnergyMeter>> default_meters() {
  std::vector<std::unique_ptr<EnergyMeter>> meters;
  meters.push_back(make_nvml_meter());
  meters.push_back(make_rapl_meter());
  return meters;
}
}  // namespace

EnergyMonitor::EnergyMonitor(double idle_seconds) : EnergyMonitor(default_meters(), idle_seconds) {}

EnergyMonitor::EnergyMonitor(std::vector<std::unique_ptr<EnergyMeter>> candidates, double idle_seconds) {
  for (auto& meter : candidates) {
    if (meter->available()) {
      meters_.push_back(std::move(meter));
    } else {
      reasons_.push_back((backend_key(*meter) == "nvml" ? "NVML: " : "RAPL: ") + meter->unavailable_reason());
    }
  }
  idle_watts_.assign(meters_.size(), 0.0);
  if (meters_.empty() || idle_seconds <= 0) return;
  for (auto& meter : meters_) meter->start();
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    const EnergyReading idle = meters_[i]->stop();
    idle_watts_[i] = idle.seconds > 0 ? idle.joules / idle.seconds : 0.0;
  }
}

void EnergyMonitor::start() {
  for (auto& meter : meters_) meter->start();
}

std::vector<Figure> EnergyMonitor::stop(const std::string& phase) {
  const std::string prefix = "energy." + phase;
  std::vector<Figure> figures;
  if (meters_.empty()) {
    std::string reason;
    for (const auto& r : reasons_) reason += (reason.empty() ? "" : "; ") + r;
    figures.push_back(unavailable_figure(prefix, "J", reason.empty() ? "no energy meter" : reason));
    return figures;
  }
  // Per backend (energy.<phase>.<backend>.gross/net) and, summed over backends, energy.<phase>.gross/net.
  // A counter that did not move during a phase is not a measurement of 0 J: energy counters update
  // every few to ~100 ms (NVML's total-energy counter on an H100 read 0 J for a 56 ms phase), so such
  // a reading is unavailable with that reason rather than a zero.
  double gross_total = 0, net_total = 0;
  std::string sources;
  std::string unresolved;
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    const EnergyReading reading = meters_[i]->stop();
    const std::string key = prefix + "." + backend_key(*meters_[i]);
    const std::string source = meters_[i]->source();
    if (reading.joules <= 0.0) {
      const std::string why = fmt::format(
          "{}: the counter did not advance during the {:.3f} s phase (shorter than its update interval)", source,
          reading.seconds);
      figures.push_back(unavailable_figure(key + ".gross", "J", why));
      figures.push_back(unavailable_figure(key + ".net", "J", why));
      unresolved += (unresolved.empty() ? "" : "; ") + why;
      continue;
    }
    const double net = reading.joules - idle_watts_[i] * reading.seconds;
    figures.push_back(make_figure(key + ".gross", reading.joules, "J", source));
    figures.push_back(
        make_figure(key + ".net", net, "J",
                    fmt::format("{}, minus idle {:.3f} W x {:.3f} s", source, idle_watts_[i], reading.seconds)));
    gross_total += reading.joules;
    net_total += net;
    sources += (sources.empty() ? "" : " + ") + source;
  }
  if (sources.empty()) {
    figures.push_back(unavailable_figure(prefix + ".gross", "J", unresolved));
    figures.push_back(unavailable_figure(prefix + ".net", "J", unresolved));
    return figures;
  }
  if (!unresolved.empty()) sources += " (without: " + unresolved + ")";
  figures.push_back(make_figure(prefix + ".gross", gross_total, "J", sources));
  figures.push_back(make_figure(prefix + ".net", net_total, "J", sources + ", idle power subtracted"));
  return figures;
}

}  // namespace opsbench
