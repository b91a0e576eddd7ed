// Measurement: wall/CPU time, peak RSS per phase, latency distributions and energy.
//
// Every function returns Figures that carry their unit and source. Rules (DESIGN.md):
// - wall time from std::chrono::steady_clock, CPU time from getrusage(RUSAGE_SELF) (all threads);
// - peak RSS per phase: write "5" to /proc/self/clear_refs to reset the high-water mark, then read
//   VmHWM from /proc/self/status at the end. Where the reset is refused, the figure is the process
//   peak so far and its source says so;
// - latency: warm-up batches are run first and excluded (their count is recorded);
// - energy: never a number that was not measured. Without a source the figure is unavailable with
//   the reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opsbench/core/record.h"

namespace opsbench {

// Extra per-phase measurements contributed by other folders, e.g. the CUDA caching allocator's peak
// allocated and reserved bytes (registered by models/ in CUDA builds). start() resets the probe's
// counters; stop(phase) returns its figures for the phase. Register at start-up only.
struct PhaseProbe {
  std::function<void()> start;
  std::function<std::vector<Figure>(const std::string& phase)> stop;
};
void add_phase_probe(PhaseProbe probe);

// Times and meters one phase ("fit", "score"): figures <phase>.wall, <phase>.cpu, <phase>.peak_rss,
// plus those of every registered PhaseProbe.
class PhaseMeter {
 public:
  explicit PhaseMeter(std::string phase);
  void start();
  std::vector<Figure> stop();

 private:
  std::string phase_;
  std::chrono::steady_clock::time_point wall_start_;
  double cpu_start_ = 0;
  bool rss_reset_ok_ = false;
};

double process_cpu_seconds();
std::int64_t read_vm_hwm_bytes();     // -1 when unreadable
std::int64_t read_vm_rss_bytes();     // -1 when unreadable
bool reset_peak_rss();                 // false when /proc/self/clear_refs is not writable

struct LatencyOptions {
  std::vector<std::size_t> batch_sizes{1, 64, 1024};
  int warmup = 1;        // batches run and discarded before timing
  int repeats = 5;       // timed batches per size (drawn round-robin from the rows)
};
// Calls run(begin, count) on consecutive row ranges; figures latency.b<N>.{p50,p95,p99} (seconds per
// batch) and latency.b<N>.throughput (samples/s). Batch sizes larger than num_rows are skipped.
std::vector<Figure> measure_latency(const std::function<void(std::size_t begin, std::size_t count)>& run,
                                    std::size_t num_rows, const LatencyOptions& options);

// Nearest-rank percentile (q in [0,1]) of unsorted values.
double percentile(std::vector<double> values, double q);

// Energy meter backends. start()/stop() bracket a phase; stop() returns joules consumed since
// start() by the device(s) the backend covers.
struct EnergyReading {
  double joules = 0;
  double seconds = 0;
};
class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  virtual std::string source() const = 0;   // "NVML total energy (GPU 0)", "RAPL package-0", ...
  virtual bool available() const = 0;
  virtual std::string unavailable_reason() const = 0;
  virtual void start() = 0;
  virtual EnergyReading stop() = 0;
};
// NVML through dlopen("libnvidia-ml.so.1"): total-energy counter (Volta+), else power sampling.
std::unique_ptr<EnergyMeter> make_nvml_meter();
// RAPL through /sys/class/powercap/intel-rapl:*/energy_uj with wraparound at max_energy_range_uj.
std::unique_ptr<EnergyMeter> make_rapl_meter(const std::string& powercap_root = "/sys/class/powercap");

// All backends that are available, plus the reasons of those that are not. Measures idle power once
// (idle_seconds of sleeping) so that net = gross - idle_power * duration.
class EnergyMonitor {
 public:
  explicit EnergyMonitor(double idle_seconds);
  // With the given backends instead of NVML and RAPL (tests, other sources).
  EnergyMonitor(std::vector<std::unique_ptr<EnergyMeter>> meters, double idle_seconds);
  bool available() const { return !meters_.empty(); }
  const std::vector<std::string>& unavailable_reasons() const { return reasons_; }
  void start();
  // Figures energy.<phase>.<backend>.{gross,net} and their sums energy.<phase>.{gross,net} (J), or
  // one unavailable figure energy.<phase> naming every backend's reason. A backend whose counter did
  // not advance during the phase gives unavailable figures (below its resolution), never 0 J.
  std::vector<Figure> stop(const std::string& phase);

 private:
  std::vector<std::unique_ptr<EnergyMeter>> meters_;
  std::vector<double> idle_watts_;
  std::vector<std::string> reasons_;
};

}  // namespace opsbench
