// Splits (contract in split.h).
//
// Randomness: one std::mt19937_64 seeded with the given seed, drawn through portable_random.h
// (bounded draws by rejection, Fisher-Yates from the back), so a seed gives the same split with any
// standard library. Part sizes: the row count n is apportioned to (train, validation, test) by
// floor(ratio * n) and the remainder handed out by largest fractional part, ties going to test,
// then validation, then train; for two parts this is scikit-learn's train_test_split rounding
// (test = ceil, train = floor). Indices inside each part are returned in ascending row order, so
// a part reads like the source data (time order kept); methods that need shuffled batches shuffle
// themselves.
#include "opsbench/datasets/split.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"

namespace opsbench {
namespace {

// Largest-remainder apportionment of `total` by `weights` (summing to 1, or to the total of counts
// when the weights are counts). Ties in the fractional part go to the part listed in `tie_order`
// first. Used for part sizes and for per-class counts (scikit-learn's _approximate_mode, with its
// random tie-break replaced by a fixed order so that no extra random draws are needed).
std::vector<std::size_t> apportion(std::size_t total, const std::vector<double>& shares,
                                   const std::vector<std::size_t>& tie_order) {
  const std::size_t parts = shares.size();
  std::vector<std::size_t> counts(parts);
  std::vector<double> remainder(parts);
  std::size_t assigned = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    // The 1e-9 keeps 0.7 * 10 = 7.000000000000001 and 0.3 * 10 = 2.9999999999999996 from flipping.
    const double exact = shares[i] * static_cast<double>(total);
    const double floored = std::floor(exact + 1e-9);
    counts[i] = static_cast<std::size_t>(std::max(0.0, floored));
    remainder[i] = exact - floored;
    assigned += counts[i];
  }
  std::vector<std::size_t> order = tie_order;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
  for (std::size_t i = 0; assigned < total; i = (i + 1) % parts) {
    ++counts[order[i]];
    ++assigned;
  }
  while (assigned > total) {  // only reachable through rounding of shares summing to just over 1
    for (auto it = order.rbegin(); it != order.rend() && assigned > total; ++it) {
      if (counts[*it] > 0) {
        --counts[*it];
        --assigned;
      }
    }
  }
  return counts;
}

void check_ratios(const SplitRatios& r) {
  if (!(r.train > 0.0) || !(r.test > 0.0) || !(r.validation >= 0.0)) {
    throw ConfigError(fmt::format("split ratios must be train > 0, validation >= 0, test > 0; got {}/{}/{}", r.train,
                                  r.validation, r.test));
  }
  const double sum = r.train + r.validation + r.test;
  if (std::fabs(sum - 1.0) > 1e-9) {
    throw ConfigError(
        fmt::format("split ratios must sum to 1; {}/{}/{} sums to {}", r.train, r.validation, r.test, sum));
  }
}

// Part sizes for n rows: train, validation, test.
std::vector<std::size_t> part_sizes(std::size_t n, const SplitRatios& r) {
  return apportion(n, {r.train, r.validation, r.test}, {2, 1, 0});
}

void require_nonempty(const SplitIndices& s, const SplitRatios& r, std::size_t rows, const char* how) {
  auto fail = [&](const char* part) {
    throw DataError(fmt::format("{} split of {} rows at {}/{}/{} leaves the {} part empty", how, rows, r.train,
                                r.validation, r.test, part));
  };
  if (s.train.empty()) fail("train");
  if (r.validation > 0.0 && s.validation.empty()) fail("validation");
  if (s.test.empty()) fail("test");
}

void sort_parts(SplitIndices& s) {
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.validation.begin(), s.validation.end());
  std::sort(s.test.begin(), s.test.end());
}

const std::vector<int>& require_labels(const Table& table, const char* what) {
  if (!table.has_labels()) throw ConfigError(fmt::format("{} needs a label column; the table has none", what));
  return table.label().values;
}

const std::vector<int>& require_groups(const Table& table, const char* what) {
  if (!table.has_groups()) throw ConfigError(fmt::format("{} needs row groups; the table has none", what));
  return table.groups();
}

// Rows per stratum (class of the primary label; unlabelled rows, -1, form their own stratum).
std::vector<std::vector<std::size_t>> rows_by_class(const std::vector<int>& labels) {
  int max_label = -1;
  for (int v : labels) max_label = std::max(max_label, v);
  std::vector<std::vector<std::size_t>> strata(static_cast<std::size_t>(max_label + 2));
  for (std::size_t i = 0; i < labels.size(); ++i) strata[static_cast<std::size_t>(labels[i] + 1)].push_back(i);
  return strata;
}

std::vector<std::vector<std::size_t>> rows_by_group(const Table& table, const std::vector<int>& groups) {
  std::vector<std::vector<std::size_t>> members(table.group_names().size());
  for (std::size_t i = 0; i < groups.size(); ++i) members[static_cast<std::size_t>(groups[i])].push_back(i);
  return members;
}

SplitIndices split_random(std::size_t n, const SplitRatios& r, std::mt19937_64& engine) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  portable_shuffle(order, engine);
  const auto sizes = part_sizes(n, r);
  SplitIndices s;
  s.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(sizes[0]));
  s.validation.assign(order.begin() + static_cast<std::ptrdiff_t>(sizes[0]),
                      order.begin() + static_cast<std::ptrdiff_t>(sizes[0] + sizes[1]));
  s.test.assign(order.begin() + static_cast<std::ptrdiff_t>(sizes[0] + sizes[1]), order.end());
  return s;
}

// As scikit-learn's StratifiedShuffleSplit: part sizes from n, then per class the train count by
// apportioning the train size over class counts, the validation count over what is left.
SplitIndices split_stratified(const std::vector<int>& labels, const SplitRatios& r, std::mt19937_64& engine) {
  auto strata = rows_by_class(labels);
  const auto sizes = part_sizes(labels.size(), r);
  std::vector<std::size_t> counts(strata.size());
  for (std::size_t c = 0; c < strata.size(); ++c) counts[c] = strata[c].size();
  std::vector<std::size_t> class_order(strata.size());
  std::iota(class_order.begin(), class_order.end(), std::size_t{0});
  auto shares_of = [](const std::vector<std::size_t>& c) {
    const double total = static_cast<double>(std::accumulate(c.begin(), c.end(), std::size_t{0}));
    std::vector<double> shares(c.size(), 0.0);
    if (total > 0) {
      for (std::size_t i = 0; i < c.size(); ++i) shares[i] = static_cast<double>(c[i]) / total;
    }
    return shares;
  };
  const auto train_counts = apportion(sizes[0], shares_of(counts), class_order);
  std::vector<std::size_t> left(strata.size());
  for (std::size_t c = 0; c < strata.size(); ++c) left[c] = counts[c] - std::min(counts[c], train_counts[c]);
  const auto validation_counts = apportion(sizes[1], shares_of(left), class_order);
  SplitIndices s;
  for (std::size_t c = 0; c < strata.size(); ++c) {
    auto& rows = strata[c];
    portable_shuffle(rows, engine);
    const std::size_t n_train = std::min(train_counts[c], rows.size());
    const std::size_t n_val = std::min(validation_counts[c], rows.size() - n_train);
    s.train.insert(s.train.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n_train));
    s.validation.insert(s.validation.end(), rows.begin() + static_cast<std::ptrdiff_t>(n_train),
                        rows.begin() + static_cast<std::ptrdiff_t>(n_train + n_val));
    s.test.insert(s.test.end(), rows.begin() + static_cast<std::ptrdiff_t>(n_train + n_val), rows.end());
  }
  return s;
}

// Groups in shuffled order fill the parts one after another; a group goes to the part in which
// the middle of its row range falls, so a large group straddling a boundary lands on the side that
// holds most of it and the row ratios are met as closely as whole groups allow.
SplitIndices split_grouped(const Table& table, const std::vector<int>& groups, const SplitRatios& r,
                           std::mt19937_64& engine) {
  const auto members = rows_by_group(table, groups);
  std::vector<std::size_t> order;
  for (std::size_t g = 0; g < members.size(); ++g) {
    if (!members[g].empty()) order.push_back(g);
  }
  portable_shuffle(order, engine);
  const auto sizes = part_sizes(groups.size(), r);
  const double train_end = static_cast<double>(sizes[0]);
  const double validation_end = static_cast<double>(sizes[0] + sizes[1]);
  SplitIndices s;
  double filled = 0.0;
  for (std::size_t g : order) {
    const double middle = filled + static_cast<double>(members[g].size()) / 2.0;
    auto& part = middle < train_end ? s.train : middle < validation_end ? s.validation : s.test;
    part.insert(part.end(), members[g].begin(), members[g].end());
    filled += static_cast<double>(members[g].size());
  }
  return s;
}

}  // namespace

SplitKind parse_split_kind(const std::string& text) {
  if (text == "random") return SplitKind::kRandom;
  if (text == "stratified") return SplitKind::kStratified;
  if (text == "group") return SplitKind::kGroup;
  throw ConfigError(fmt::format("unknown split kind '{}'; valid: random, stratified, group", text));
}

const char* to_string(SplitKind kind) {
  switch (kind) {
    case SplitKind::kRandom:
      return "random";
    case SplitKind::kStratified:
      return "stratified";
    case SplitKind::kGroup:
      return "group";
  }
  return "?";
}

SplitIndices split_rows(const Table& table, SplitKind kind, const SplitRatios& ratios, std::uint64_t seed) {
  check_ratios(ratios);
  const std::size_t n = table.num_rows();
  std::mt19937_64 engine(seed);
  SplitIndices s;
  switch (kind) {
    case SplitKind::kRandom:
      s = split_random(n, ratios, engine);
      break;
    case SplitKind::kStratified:
      s = split_stratified(require_labels(table, "a stratified split"), ratios, engine);
      break;
    case SplitKind::kGroup:
      s = split_grouped(table, require_groups(table, "a group split"), ratios, engine);
      break;
  }
  require_nonempty(s, ratios, n, to_string(kind));
  sort_parts(s);
  return s;
}

std::vector<std::vector<std::size_t>> k_fold(const Table& table, SplitKind kind, int k, std::uint64_t seed) {
  if (k < 2) throw ConfigError(fmt::format("k-fold needs k >= 2, got {}", k));
  const auto folds_n = static_cast<std::size_t>(k);
  const std::size_t n = table.num_rows();
  std::mt19937_64 engine(seed);
  std::vector<std::vector<std::size_t>> folds(folds_n);
  switch (kind) {
    case SplitKind::kRandom: {
      // scikit-learn's KFold sizes: the first n % k folds hold one row more.
      std::vector<std::size_t> order(n);
      std::iota(order.begin(), order.end(), std::size_t{0});
      portable_shuffle(order, engine);
      std::size_t at = 0;
      for (std::size_t f = 0; f < folds_n; ++f) {
        const std::size_t size = n / folds_n + (f < n % folds_n ? 1 : 0);
        folds[f].assign(order.begin() + static_cast<std::ptrdiff_t>(at),
                        order.begin() + static_cast<std::ptrdiff_t>(at + size));
        at += size;
      }
      break;
    }
    case SplitKind::kStratified: {
      // Rows dealt round-robin class after class with one running counter: each class is spread
      // over the folds as evenly as possible and fold sizes differ by at most one, the allocation
      // scikit-learn's StratifiedKFold makes.
      auto strata = rows_by_class(require_labels(table, "stratified k-fold"));
      std::size_t next = 0;
      for (auto& rows : strata) {
        portable_shuffle(rows, engine);
        for (std::size_t row : rows) folds[next++ % folds_n].push_back(row);
      }
      break;
    }
    case SplitKind::kGroup: {
      // scikit-learn's GroupKFold: largest group first into the fold with the fewest rows; groups
      // are shuffled first so that equal-sized groups are ordered by the seed.
      const auto members = rows_by_group(table, require_groups(table, "group k-fold"));
      std::vector<std::size_t> order;
      for (std::size_t g = 0; g < members.size(); ++g) {
        if (!members[g].empty()) order.push_back(g);
      }
      if (order.size() < folds_n) {
        throw DataError(
            fmt::format("group k-fold with k={} needs at least {} groups, the table has {}", k, k, order.size()));
      }
      portable_shuffle(order, engine);
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return members[a].size() > members[b].size(); });
      for (std::size_t g : order) {
        std::size_t lightest = 0;
        for (std::size_t f = 1; f < folds_n; ++f) {
          if (folds[f].size() < folds[lightest].size()) lightest = f;
        }
        folds[lightest].insert(folds[lightest].end(), members[g].begin(), members[g].end());
      }
      break;
    }
  }
  for (std::size_t f = 0; f < folds_n; ++f) {
    if (folds[f].empty()) {
      throw DataError(fmt::format("{} k-fold with k={} over {} rows leaves fold {} empty", to_string(kind), k, n, f));
    }
    std::sort(folds[f].begin(), folds[f].end());
  }
  return folds;
}

std::vector<std::size_t> control_contamination(const Table& table, const std::vector<std::size_t>& rows, double ratio,
                                               std::uint64_t seed) {
  if (!(ratio >= 0.0 && ratio < 1.0)) {
    throw ConfigError(fmt::format("train contamination ratio must be in [0, 1), got {}", ratio));
  }
  const auto& labels = require_labels(table, "contamination control");
  std::vector<std::size_t> anomalous;  // positions in `rows`
  std::size_t normal = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= labels.size()) {
      throw DataError(
          fmt::format("contamination control: row {} is outside the table ({} rows)", rows[i], labels.size()));
    }
    const int y = labels[rows[i]];
    if (y == 0) {
      ++normal;
    } else if (y == 1) {
      anomalous.push_back(i);
    } else {
      throw DataError(
          fmt::format("contamination control needs labels 0 (normal) or 1 (anomalous); row {} has {}", rows[i], y));
    }
  }
  // a / (normal + a) <= ratio  <=>  a <= ratio * normal / (1 - ratio); the 1e-9 absorbs rounding of
  // exact cases such as 0.2 * 8 / 0.8 = 2.
  std::size_t keep = static_cast<std::size_t>(std::floor(ratio * static_cast<double>(normal) / (1.0 - ratio) + 1e-9));
  if (ratio > 0.0) keep = std::max<std::size_t>(keep, 1);
  keep = std::min(keep, anomalous.size());
  // Partial Fisher-Yates: the first `keep` positions become a uniform sample without replacement.
  std::mt19937_64 engine(seed);
  for (std::size_t i = 0; i < keep; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(uniform_below(engine, anomalous.size() - i));
    std::swap(anomalous[i], anomalous[j]);
  }
  std::vector<bool> kept(rows.size(), false);
  for (std::size_t i = 0; i < keep; ++i) kept[anomalous[i]] = true;
  std::vector<std::size_t> out;
  out.reserve(normal + keep);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (labels[rows[i]] == 0 || kept[i]) out.push_back(rows[i]);
  }
  return out;
}

}  // namespace opsbench
