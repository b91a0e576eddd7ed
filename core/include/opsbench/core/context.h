// Context: what a method needs from its surroundings to run reproducibly.
//
// Seeds: a suite-level base seed is combined with (suite, dataset, method spec, repetition) by
// derive_seed(), so a cell's seed never depends on which other cells ran or in what order.
// apply() seeds every registered runtime (libtorch registers itself from models/) and sets their
// thread counts; methods take their own std RNGs from rng() and their thread count from threads.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace opsbench {

enum class Device { kCpu, kCuda };

const char* to_string(Device device);
Device parse_device(const std::string& text);  // "cpu" | "cuda"; ConfigError otherwise

struct Context {
  std::uint64_t seed = 0;
  int threads = 1;  // >= 1; methods must give the same results for any value (deterministic)
  Device device = Device::kCpu;

  // A fresh engine seeded from `seed` and a stream id, so parts of a method draw independently.
  std::mt19937_64 rng(std::uint64_t stream = 0) const;

  // Seeds and sizes every registered runtime for this context (call before each fit).
  void apply() const;
};

// Deterministic 64-bit seed from the cell's identity (stable across builds and platforms).
std::uint64_t derive_seed(std::uint64_t base_seed, const std::string& suite, const std::string& dataset,
                          const std::string& method_spec, int repetition);

// Hooks called by Context::apply(). Registered once at start-up (not thread-safe to register).
using RuntimeHook = std::function<void(const Context&)>;
void add_runtime_hook(RuntimeHook hook);

}  // namespace opsbench
