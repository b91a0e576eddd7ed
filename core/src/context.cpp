#include "opsbench/core/context.h"

#include <vector>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

std::vector<RuntimeHook>& hooks() {
  static std::vector<RuntimeHook> registered;
  return registered;
}

// SplitMix64 finaliser: spreads every input bit over the output (Steele et al. 2014).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over the bytes, then mixed: stable across platforms, unlike std::hash.
std::uint64_t hash_text(std::uint64_t state, const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ state;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  // The length separates ("ab","c") from ("a","bc").
  return mix(h ^ text.size());
}

}  // namespace

const char* to_string(Device device) { return device == Device::kCuda ? "cuda" : "cpu"; }

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::kCpu;
  if (text == "cuda") return Device::kCuda;
  throw ConfigError("unknown device '" + text + "'; valid: cpu, cuda");
}

std::mt19937_64 Context::rng(std::uint64_t stream) const {
  return std::mt19937_64(mix(seed ^ mix(stream + 0x632be59bd9b4e019ULL)));
}

void Context::apply() const {
  for (const auto& hook : hooks()) hook(*this);
}

std::uint64_t derive_seed(std::uint64_t base_seed, const std::string& suite, const std::string& dataset,
                          const std::string& method_spec, int repetition) {
  std::uint64_t h = mix(base_seed);
  h = hash_text(h, suite);
  h = hash_text(h, dataset);
  h = hash_text(h, method_spec);
  h = mix(h ^ static_cast<std::uint64_t>(repetition));
  return h;
}

void add_runtime_hook(RuntimeHook hook) { hooks().push_back(std::move(hook)); }

}  // namespace opsbench
