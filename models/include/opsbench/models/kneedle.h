// Kneedle knee/elbow detection (Satopää, Albrecht, Irwin and Raghavan, "Finding a 'Kneedle' in a
// Haystack", ICDCS workshops 2011), offline variant as the `kneed` package computes it. Torch-free.
//
// Steps: (1) optional smoothing of y by a centred moving average of `smoothing_window` points
// (1 = none; the window shrinks at the ends); (2) x and y normalised to [0, 1]; (3) the curve is
// turned into a concave increasing one: convex curves use 1 - y, decreasing ones are read in
// reverse x order (with x mirrored), so every (direction, curve) pair reduces to the paper's case;
// (4) difference curve d = y' - x'; (5) its local maxima (d[i-1] < d[i] >= d[i+1]: strictly
// greater than the left and not below the right neighbour); each local maximum i sets a threshold
// T = d[i] - S * mean(diff(x')); (6) scanning forward, the first local maximum after which d drops
// below its threshold before the next local maximum is the knee.
//
// The knee is returned as an index into the input (and its x). No knee (a flat curve, fewer than 3
// points, no local maximum, or d never falling below a threshold) is std::nullopt: the caller
// decides what that means (Refine declares it in its options).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace opsbench::models {

enum class KneeDirection { kIncreasing, kDecreasing };
enum class KneeCurve { kConcave, kConvex };

struct KneedleOptions {
  double sensitivity = 1.0;  // S: larger = more conservative (needs a flatter tail)
  KneeDirection direction = KneeDirection::kDecreasing;
  KneeCurve curve = KneeCurve::kConvex;  // a training-loss curve is convex decreasing
  int smoothing_window = 1;              // >= 1
};

struct Knee {
  std::size_t index = 0;
  double x = 0;
  double y = 0;  // the input y at the knee (unsmoothed)
};

// x strictly increasing, same length as y; std::invalid_argument otherwise (programmer error).
std::optional<Knee> find_knee(const std::vector<double>& x, const std::vector<double>& y,
                              const KneedleOptions& options = {});

// Convenience for a per-epoch curve: x = 1..n.
std::optional<Knee> find_knee(const std::vector<double>& y, const KneedleOptions& options = {});

}  // namespace opsbench::models
