// Splits: which rows go to train, validation and test. Deterministic for a seed.
//
// - kRandom: shuffled rows cut at the ratios.
// - kStratified: per class of the primary label, so every part keeps the class proportions
//   (each class's count rounded as scikit-learn's StratifiedShuffleSplit does it: floor, then the
//   remainder given to the classes with the largest fractional parts).
// - kGroup: whole groups (table.groups()) are assigned, so no group has rows in two parts; groups are
//   shuffled and filled to the row ratios.
// Rows within each part are returned in ascending row order. Shuffles use a portable bounded draw
// (core/portable_random.h), so a seed gives the same split with any standard library.
// Ratios must be > 0 for train and test, >= 0 for validation, and sum to 1 (within 1e-9);
// otherwise ConfigError. An empty part is a DataError naming the part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/table.h"

namespace opsbench {

enum class SplitKind { kRandom, kStratified, kGroup };
SplitKind parse_split_kind(const std::string& text);  // "random" | "stratified" | "group"
const char* to_string(SplitKind kind);

struct SplitRatios {
  double train = 0.6;
  double validation = 0.2;
  double test = 0.2;
};

struct SplitIndices {
  std::vector<std::size_t> train;
  std::vector<std::size_t> validation;
  std::vector<std::size_t> test;
};

SplitIndices split_rows(const Table& table, SplitKind kind, const SplitRatios& ratios, std::uint64_t seed);

// k folds: element i is the held-out rows of fold i (stratified or grouped as `kind` says).
std::vector<std::vector<std::size_t>> k_fold(const Table& table, SplitKind kind, int k, std::uint64_t seed);

// Train-contamination control: keeps every normal row (label 0) of `rows` and a seeded, uniform
// subsample of anomalous rows (label 1) so that anomalies are `ratio` of the result (rounded down,
// at least 1 when ratio > 0). A ratio above what the rows have keeps all anomalies. ratio in [0,1).
std::vector<std::size_t> control_contamination(const Table& table, const std::vector<std::size_t>& rows,
                                               double ratio, std::uint64_t seed);

}  // namespace opsbench
