#include "opsbench/core/registry.h"

#include <algorithm>
#include <stdexcept>

#include "opsbench/core/error.h"

namespace opsbench {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

template <typename Entry>
const Entry& find(const std::vector<Entry>& entries, const std::string& kind, const std::string& name) {
  for (const auto& e : entries) {
    if (e.name == name) return e;
  }
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  throw ConfigError(unknown_name_message(kind, name, names));
}

template <typename Entry>
void add_unique(std::vector<Entry>& entries, Entry entry, const char* kind) {
  for (const auto& e : entries) {
    if (e.name == entry.name) throw std::logic_error(std::string("duplicate ") + kind + " '" + entry.name + "'");
  }
  entries.push_back(std::move(entry));
}

}  // namespace

const char* to_string(MethodKind kind) { return kind == MethodKind::kDetector ? "detector" : "classifier"; }

std::string unknown_name_message(const std::string& kind, const std::string& name,
                                 const std::vector<std::string>& candidates) {
  std::string out = "unknown " + kind + " '" + name + "'; candidates: ";
  std::string best;
  std::size_t best_distance = 3;  // suggest only near misses
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (i) out += ", ";
    out += candidates[i];
    const std::size_t d = edit_distance(name, candidates[i]);
    if (d < best_distance) {
      best_distance = d;
      best = candidates[i];
    }
  }
  if (candidates.empty()) out += "(none)";
  if (!best.empty()) out += " (did you mean '" + best + "'?)";
  return out;
}

void Registry::add(MethodEntry entry) { add_unique(methods_, std::move(entry), "method"); }
void Registry::add(ReaderEntry entry) { add_unique(readers_, std::move(entry), "reader"); }
void Registry::add(MetricEntry entry) { add_unique(metrics_, std::move(entry), "metric"); }

const MethodEntry& Registry::method(const std::string& name) const { return find(methods_, "method", name); }
const ReaderEntry& Registry::reader(const std::string& name) const { return find(readers_, "reader", name); }
const MetricEntry& Registry::metric(const std::string& name) const { return find(metrics_, "metric", name); }

ResolvedMethod Registry::resolve_method(const std::string& spec_text) const {
  const Spec spec = parse_spec(spec_text);
  ResolvedMethod resolved;
  resolved.entry = &method(spec.name);
  resolved.options = resolve(resolved.entry->options, spec.values, "method " + spec.name);
  resolved.canonical_spec = canonical(spec.name, resolved.options);
  return resolved;
}

}  // namespace opsbench
