// Kneedle on curves whose knee is known by construction (worked through by hand in the comments).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "opsbench/models/kneedle.h"

using namespace opsbench::models;

TEST_CASE("a convex decreasing hockey stick has its knee where it flattens", "[models][kneedle]") {
  // x = 1..10. Normalised and inverted: y' = 0 .556 .889 .944 .978 .989 1 1 1 1, x' = k/9, so
  // d = 0 .444 .667 .611 .533 ...: local maximum at index 2, threshold .667 - 1/9 = .556, and
  // d[4] = .533 falls below it: knee at index 2 (x = 3).
  const std::vector<double> y = {10, 5, 2, 1.5, 1.2, 1.1, 1, 1, 1, 1};
  const auto knee = find_knee(y);
  REQUIRE(knee);
  CHECK(knee->index == 2);
  CHECK(knee->x == 3);
  CHECK(knee->y == 2);
}

TEST_CASE("the four direction/curve pairs reduce to the same case", "[models][kneedle]") {
  KneedleOptions o;
  o.direction = KneeDirection::kIncreasing;
  o.curve = KneeCurve::kConcave;
  const auto concave_inc = find_knee({0, 5, 8, 8.5, 8.8, 8.9, 9, 9, 9, 9}, o);
  REQUIRE(concave_inc);
  CHECK(concave_inc->index == 2);
  o.curve = KneeCurve::kConvex;  // mirror image of the hockey stick: knee at index 7
  const auto convex_inc = find_knee({1, 1, 1, 1, 1.1, 1.2, 1.5, 2, 5, 10}, o);
  REQUIRE(convex_inc);
  CHECK(convex_inc->index == 7);
  o.direction = KneeDirection::kDecreasing;
  o.curve = KneeCurve::kConcave;
  const auto concave_dec = find_knee({9, 9, 9, 9, 8.9, 8.8, 8.5, 8, 5, 0}, o);
  REQUIRE(concave_dec);
  CHECK(concave_dec->index == 7);
}

TEST_CASE("flat and straight curves have no knee; bad input is rejected", "[models][kneedle]") {
  CHECK_FALSE(find_knee({3, 3, 3, 3, 3}));
  CHECK_FALSE(find_knee({10, 9, 8, 7, 6, 5}));  // a line: the difference curve is 0 everywhere
  CHECK_FALSE(find_knee({2, 1}));               // fewer than 3 points
  CHECK_THROWS_AS(find_knee({1, 1, 2}, {1, 2, 3}), std::invalid_argument);
  CHECK_THROWS_AS(find_knee({1, 2}, {1, 2, 3}), std::invalid_argument);
}

TEST_CASE("higher sensitivity asks for a flatter tail; smoothing tames noise", "[models][kneedle]") {
  const std::vector<double> y = {10, 5, 2, 1.5, 1.2, 1.1, 1, 1, 1, 1};
  KneedleOptions strict;
  strict.sensitivity = 10;  // threshold far below the difference curve: never confirmed
  CHECK_FALSE(find_knee(y, strict));
  // A noisy loss curve: a wiggle at index 1 makes a spurious local maximum without smoothing.
  const std::vector<double> noisy = {10, 4, 4.6, 1.9, 1.6, 1.2, 1.15, 1.05, 1.0, 1.02, 1.0, 0.99};
  KneedleOptions smooth;
  smooth.smoothing_window = 3;
  const auto k = find_knee(noisy, smooth);
  REQUIRE(k);
  CHECK(k->index >= 2);
  CHECK(k->index <= 4);
}
