// Portable random draws on top of std::mt19937_64.
//
// The engine itself is fully specified by the C++ standard, but std::uniform_int_distribution,
// std::shuffle and std::sample are not: libstdc++, libc++ and MSVC turn the same engine output into
// different integers. Splits, bootstrap resamples and subsamples must be identical on every
// platform for a seed, so opsbench draws bounded integers with the fixed rule below and shuffles
// with its own Fisher-Yates loop. Changing either changes every seeded split: treat as frozen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace opsbench {

// Uniform integer in [0, bound) for bound >= 1, by rejection: engine outputs below
// (2^64 - bound) mod bound are redrawn, so the remaining range is a whole multiple of bound and
// `x % bound` is exactly uniform. Expected draws < 2 for any bound.
inline std::uint64_t uniform_below(std::mt19937_64& engine, std::uint64_t bound) {
  // (2^64 - bound) % bound computed in 64-bit arithmetic: unsigned negation is 2^64 - bound.
  const std::uint64_t reject_below = (0 - bound) % bound;
  std::uint64_t x = engine();
  while (x < reject_below) x = engine();
  return x % bound;
}

// Fisher-Yates (Durstenfeld) shuffle from the back: position i swaps with a uniform j in [0, i].
template <typename T>
void portable_shuffle(std::vector<T>& items, std::mt19937_64& engine) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(engine, i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace opsbench
