// Generator "synthetic-workflow": SYNTHETIC jobs shaped like Flow-Bench's, for demos and tests that
// must run without the real data.
//
// Each run is a DAG execution of `jobs_per_run` jobs on `workers` worker hosts. Jobs are compute
// (70%: four task kinds with their own runtime and data sizes, like 1000 Genome's individuals /
// sifting / mutation_overlap / frequency), transfer (15%: stage-in only) or auxiliary (15%:
// directory creation and cleanup on the submit host "local", no data staged). Every quantity is
// lognormal around its kind's typical value, with a per-run speed factor, so runs differ as real
// ones do. A fraction `anomaly_ratio` of runs carries an anomaly on a random subset of 1..workers/2
// workers: "cpu" (fewer cores than advertised: runtime and CPU time of the jobs there grow) or "hdd"
// (throttled disk: stage-in/out delays grow while the bytes moved stay the same). Per job the
// slowdown factor is drawn in [1 + (slowdown-1)/2, slowdown], so some anomalies are subtle.
// Label: 1 for a job on an affected worker of an anomalous run, else 0; group = run.
//
// Determinism: everything is drawn from one mt19937_64 (whose output sequence the C++ standard
// fixes) through hand-written uniform/normal transforms, so a seed gives the same table on every
// platform and standard library.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include "opsbench/core/error.h"
#include "readers.h"

namespace opsbench {
namespace {

constexpr double kPi = 3.14159265358979323846;

class Draw {
 public:
  explicit Draw(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return std::min(n - 1, static_cast<int>(uniform() * n)); }
  double normal() {
    // Box-Muller; 1 - u keeps the log argument in (0, 1].
    const double u = 1.0 - uniform();
    const double v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * kPi * v);
  }
  // Lognormal with the given median and log-scale sigma.
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }

 private:
  std::mt19937_64 engine_;
};

struct TaskKind {
  double runtime;    // median seconds
  double cpu_share;  // typical cpu_time / runtime
  double in_bytes;   // median stage-in bytes
  double out_bytes;  // median stage-out bytes
};

// Four compute kinds loosely after 1000 Genome's tasks.
const TaskKind kCompute[] = {
    {900.0, 0.92, 1.0e9, 4.0e5},
    {60.0, 0.85, 2.0e7, 2.0e5},
    {250.0, 0.90, 3.0e8, 1.5e6},
    {400.0, 0.88, 2.5e8, 8.0e5},
};

struct Jobs {
  std::vector<std::vector<double>> features;  // in kFeatureNames order
  std::vector<std::string> type;
  std::vector<std::string> host;
  std::vector<int> label;
  std::vector<int> group;
};

enum Feature {
  kWmsDelay,
  kQueueDelay,
  kRuntime,
  kPostScriptDelay,
  kStageInDelay,
  kStageOutDelay,
  kStageInBytes,
  kStageOutBytes,
  kCpuTime,
  kNumFeatures
};

const char* const kFeatureNames[kNumFeatures] = {
    "wms_delay",         "queue_delay",     "runtime",
    "post_script_delay", "stage_in_delay",  "stage_out_delay",
    "stage_in_bytes",    "stage_out_bytes", "kickstart_executables_cpu_time"};

// Rounds to `decimals` places; dividing by the power of ten (not multiplying by 0.1) gives the double
// nearest to the decimal value, so 0.3 prints as 0.3.
double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

Dataset generate(const Options& options, const ReadContext& ctx) {
  const std::int64_t seed_option = options.get_int("seed");
  const std::uint64_t seed = seed_option != 0 ? static_cast<std::uint64_t>(seed_option) : ctx.seed;
  const int runs = static_cast<int>(options.get_int("runs"));
  const int jobs_per_run = static_cast<int>(options.get_int("jobs_per_run"));
  const int workers = static_cast<int>(options.get_int("workers"));
  const double anomaly_ratio = options.get_double("anomaly_ratio");
  const double slowdown = options.get_double("slowdown");
  const double nan = std::numeric_limits<double>::quiet_NaN();

  Draw draw(seed);
  Jobs jobs;
  jobs.features.resize(kNumFeatures);
  std::vector<std::string> group_names;
  // Exactly round(ratio * runs) anomalous runs, at random positions: the share is what was asked.
  const int anomalous_runs = static_cast<int>(std::lround(anomaly_ratio * runs));
  std::vector<int> order(static_cast<std::size_t>(runs));
  for (int r = 0; r < runs; ++r) order[static_cast<std::size_t>(r)] = r;
  for (int i = runs - 1; i > 0; --i)
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(draw.below(i + 1))]);
  std::vector<bool> run_anomalous(static_cast<std::size_t>(runs), false);
  for (int i = 0; i < anomalous_runs; ++i)
    run_anomalous[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = true;

  int cpu_runs = 0, hdd_runs = 0;
  for (int r = 0; r < runs; ++r) {
    char name[32];
    std::snprintf(name, sizeof name, "run%04d", r + 1);
    group_names.push_back(name);
    const double run_speed = draw.lognormal(1.0, 0.08);  // the whole run slightly faster or slower
    const double bandwidth = draw.lognormal(15.0e6, 0.15);
    std::vector<bool> affected(static_cast<std::size_t>(workers), false);
    bool cpu = false;
    if (run_anomalous[static_cast<std::size_t>(r)]) {
      cpu = draw.uniform() < 0.5;
      (cpu ? cpu_runs : hdd_runs) += 1;
      const int count = 1 + draw.below(std::max(1, workers / 2));
      std::vector<int> hosts(static_cast<std::size_t>(workers));
      for (int w = 0; w < workers; ++w) hosts[static_cast<std::size_t>(w)] = w;
      for (int i = 0; i < count; ++i) {
        const int j = i + draw.below(workers - i);
        std::swap(hosts[static_cast<std::size_t>(i)], hosts[static_cast<std::size_t>(j)]);
        affected[static_cast<std::size_t>(hosts[static_cast<std::size_t>(i)])] = true;
      }
    }
    for (int j = 0; j < jobs_per_run; ++j) {
      double f[kNumFeatures];
      std::fill(f, f + kNumFeatures, nan);
      const double kind_draw = draw.uniform();
      std::string type;
      int worker = -1;
      f[kWmsDelay] = round_to(draw.lognormal(6.0, 0.3), 0);
      f[kQueueDelay] = round_to(draw.lognormal(20.0, 0.7), 0);
      f[kPostScriptDelay] = round_to(5.0 + draw.lognormal(0.3, 0.8), 0);
      if (kind_draw < 0.70) {
        type = "compute";
        worker = draw.below(workers);
        const TaskKind& kind = kCompute[draw.below(4)];
        f[kRuntime] = kind.runtime * run_speed * draw.lognormal(1.0, 0.25);
        f[kCpuTime] = f[kRuntime] * std::min(0.99, kind.cpu_share * draw.lognormal(1.0, 0.04));
        f[kStageInBytes] = kind.in_bytes * draw.lognormal(1.0, 0.2);
        f[kStageInDelay] = 2.0 + f[kStageInBytes] / (bandwidth * draw.lognormal(1.0, 0.25));
        f[kStageOutBytes] = kind.out_bytes * draw.lognormal(1.0, 0.4);
        f[kStageOutDelay] = 1.0 + f[kStageOutBytes] / (bandwidth * 0.02 * draw.lognormal(1.0, 0.3));
      } else if (kind_draw < 0.85) {
        type = "transfer";
        worker = draw.below(workers);
        f[kRuntime] = draw.lognormal(30.0, 0.5) * run_speed;
        f[kCpuTime] = f[kRuntime] * draw.uniform(0.1, 0.3);
        f[kStageInBytes] = draw.lognormal(2.0e8, 0.8);
        f[kStageInDelay] = 2.0 + f[kStageInBytes] / (bandwidth * draw.lognormal(1.0, 0.25));
      } else {
        type = "auxiliary";
        f[kRuntime] = draw.lognormal(4.0, 0.5);
        f[kCpuTime] = f[kRuntime] * draw.uniform(0.05, 0.3);
      }
      const bool hit = worker >= 0 && affected[static_cast<std::size_t>(worker)];
      if (hit) {
        const double factor = draw.uniform(1.0 + (slowdown - 1.0) / 2.0, slowdown);
        if (cpu) {
          f[kRuntime] *= factor;
          f[kCpuTime] *= factor * draw.lognormal(1.0, 0.05);
        } else {
          if (!std::isnan(f[kStageInDelay])) f[kStageInDelay] *= factor;
          if (!std::isnan(f[kStageOutDelay])) f[kStageOutDelay] *= factor;
        }
      }
      // Recorded as Pegasus/kickstart record them: whole seconds and bytes, cpu time to 0.1 s.
      for (int k : {kRuntime, kStageInDelay, kStageOutDelay, kStageInBytes, kStageOutBytes}) {
        if (!std::isnan(f[k])) f[k] = std::max(0.0, round_to(f[k], 0));
      }
      f[kCpuTime] = round_to(f[kCpuTime], 1);
      for (int k = 0; k < kNumFeatures; ++k) jobs.features[static_cast<std::size_t>(k)].push_back(f[k]);
      jobs.type.push_back(type);
      jobs.host.push_back(worker >= 0 ? "worker" + std::to_string(worker + 1) : "local");
      jobs.label.push_back(hit ? 1 : 0);
      jobs.group.push_back(r);
    }
  }

  Dataset dataset;
  dataset.synthetic = true;
  for (int k = 0; k < kNumFeatures; ++k) {
    dataset.table.add_column(Column::numeric(kFeatureNames[k], std::move(jobs.features[static_cast<std::size_t>(k)])));
  }
  dataset.table.add_column(Column::categorical("type", jobs.type));
  dataset.table.add_column(Column::categorical("hostname", jobs.host));
  Labels labels;
  labels.name = "anomalous";
  labels.classes = {"normal", "anomalous"};
  labels.values = std::move(jobs.label);
  std::size_t positives = 0;
  for (int v : labels.values) positives += v == 1 ? 1 : 0;
  dataset.table.add_labels(std::move(labels));
  dataset.table.set_groups(std::move(jobs.group), std::move(group_names));
  const std::size_t total = dataset.table.num_rows();
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f", total == 0 ? 0.0 : 100.0 * static_cast<double>(positives) / total);
  dataset.description = "SYNTHETIC Flow-Bench-shaped workflow jobs (generated, seed " + std::to_string(seed) +
                        "): " + std::to_string(runs) + " runs x " + std::to_string(jobs_per_run) + " jobs on " +
                        std::to_string(workers) + " workers, " + std::to_string(cpu_runs) + " cpu / " +
                        std::to_string(hdd_runs) + " hdd anomalous runs, " + pct + "% anomalous jobs";
  return dataset;
}

}  // namespace

ReaderEntry synthetic_workflow_entry() {
  ReaderEntry entry;
  entry.name = "synthetic-workflow";
  entry.synthetic = true;
  entry.description =
      "SYNTHETIC Flow-Bench-shaped workflow jobs (lognormal delays, runtimes and bytes; compute / transfer / "
      "auxiliary jobs on worker hosts) with CPU or disk slowdowns injected on some workers of some runs; "
      "label = job on an affected worker, group = run. Generated, not measured";
  entry.options = {
      OptionDecl::integer("seed", 0, 0, std::nullopt, "generator seed; 0 = the cell's seed"),
      OptionDecl::integer("runs", 40, 1, 100000, "number of workflow runs (groups)"),
      OptionDecl::integer("jobs_per_run", 50, 1, 1000000, "jobs per run"),
      OptionDecl::integer("workers", 8, 1, 10000, "worker hosts per run"),
      OptionDecl::real("anomaly_ratio", 0.3, 0.0, 1.0, "fraction of runs that carry an anomaly"),
      OptionDecl::real("slowdown", 3.0, 1.0, 1000.0, "largest slowdown factor of an affected job"),
  };
  entry.read = generate;
  return entry;
}

}  // namespace opsbench
