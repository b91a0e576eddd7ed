// RunRecord: the plain result of one cell (dataset x method x repetition). Runners produce these;
// stores and reporters consume them and never reach back into runners or models.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace opsbench {

// One measured figure with its provenance. When a figure cannot be measured here (no energy
// counter, no GPU), available is false, value is meaningless and reason says why.
struct Figure {
  std::string name;    // "fit.wall", "score.peak_rss", "latency.b64.p50", "energy.fit.net", ...
  double value = 0;
  std::string unit;    // "s", "bytes", "samples/s", "J", ...
  std::string source;  // "steady_clock", "getrusage", "/proc/self/status VmHWM", "NVML total energy"...
  bool available = true;
  std::string reason;  // why unavailable
};

enum class CellStatus { kOk, kFailed };
const char* to_string(CellStatus status);

struct RunRecord {
  std::string suite;
  std::string dataset;      // the suite's dataset name
  std::string method;       // canonical spec string: the method's identity
  std::string method_name;  // registry name ("iforest")
  int repetition = 0;
  std::uint64_t seed = 0;
  CellStatus status = CellStatus::kOk;
  std::string error;        // what() of the failure, when failed
  std::map<std::string, double> metrics;        // quality metrics by name
  std::vector<Figure> figures;                   // time, memory, latency, size, energy
  std::map<std::string, std::string> info;       // threshold policy, rows per part, ...
  std::string started_at;   // UTC ISO 8601

  const Figure* figure(const std::string& name) const;
  // Identity of the cell in a store: suite, dataset, method and repetition.
  std::string key() const;
};

}  // namespace opsbench
