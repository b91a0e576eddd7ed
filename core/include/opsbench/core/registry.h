// Registry: the explicit lists of methods, readers and metrics opsbench knows.
//
// Each folder adds its entries in one function (register_baselines(Registry&), ...) called from
// harness' register_all(); nothing self-registers, so nothing is dropped silently by the linker and
// the whole list reads in one place. Names are unique across a kind; an unknown name is a
// ConfigError listing the candidates. Entries are immutable after registration; const access from
// several threads is safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opsbench/core/dataset.h"
#include "opsbench/core/method.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/options.h"

namespace opsbench {

// Levenshtein distance, for "did you mean" hints (registry names, tensor names).
std::size_t edit_distance(const std::string& a, const std::string& b);

enum class MethodKind { kDetector, kClassifier };
const char* to_string(MethodKind kind);

struct MethodEntry {
  std::string name;
  MethodKind kind = MethodKind::kDetector;
  std::string description;
  std::string reference;  // paper or implementation it follows
  std::vector<OptionDecl> options;
  std::function<std::unique_ptr<Detector>(const Options&)> make_detector;      // kDetector
  std::function<std::unique_ptr<Classifier>(const Options&)> make_classifier;  // kClassifier
  // Options for the registry contract test where the defaults need files or minutes (a pretrained
  // checkpoint): a small self-contained configuration, "key=value,...". Empty: the defaults.
  std::string contract_options;
};

struct ReaderEntry {
  std::string name;
  std::string description;
  std::vector<OptionDecl> options;
  bool synthetic = false;  // a generator rather than a reader of files
  std::function<Dataset(const Options&, const ReadContext&)> read;
};

// A method configuration ready to instantiate.
struct ResolvedMethod {
  const MethodEntry* entry = nullptr;
  Options options;
  std::string canonical_spec;
};

class Registry {
 public:
  void add(MethodEntry entry);  // throws std::logic_error on a duplicate name
  void add(ReaderEntry entry);
  void add(MetricEntry entry);

  const MethodEntry& method(const std::string& name) const;  // ConfigError with candidates
  const ReaderEntry& reader(const std::string& name) const;
  const MetricEntry& metric(const std::string& name) const;

  // Parses and validates a spec string ("iforest:n_estimators=50").
  ResolvedMethod resolve_method(const std::string& spec) const;

  const std::vector<MethodEntry>& methods() const { return methods_; }
  const std::vector<ReaderEntry>& readers() const { return readers_; }
  const std::vector<MetricEntry>& metrics() const { return metrics_; }

 private:
  std::vector<MethodEntry> methods_;
  std::vector<ReaderEntry> readers_;
  std::vector<MetricEntry> metrics_;
};

// "unknown method 'ifores'; candidates: iforest, pca" and a closest-match hint where one is near.
std::string unknown_name_message(const std::string& kind, const std::string& name,
                                 const std::vector<std::string>& candidates);

}  // namespace opsbench
