// Exact kNN: grouping of equal rows and query(); the screening engine is in
// neighbour_search_screen.cpp. See the header for the contract.
#include "opsbench/baselines/neighbour_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"

namespace opsbench {

void require_finite_matrix(const Matrix& x, const char* what) {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const double* row = x.row(r);
    for (std::size_t c = 0; c < x.cols; ++c)
      if (!std::isfinite(row[c])) throw DataError(fmt::format("{}: non-finite value at row {}, column {}", what, r, c));
  }
}

namespace {

constexpr std::uint32_t kNoGroup = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kBlockRows = 64;  // query rows per work item (fixed: determinism)

// Rows of a matrix grouped by value.
struct RowGroups {
  std::vector<std::uint32_t> group_of;  // row -> group; groups numbered in order of first occurrence
  std::vector<std::size_t> first_row;   // group -> its first (lowest) row
};

std::uint64_t hash_row(const double* row, std::size_t d) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ d;
  for (std::size_t j = 0; j < d; ++j) {
    const double v = row[j] == 0.0 ? 0.0 : row[j];  // -0.0 and +0.0 are the same point
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    h = (h ^ bits) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  return h;
}

bool same_row(const double* a, const double* b, std::size_t d) {
  for (std::size_t j = 0; j < d; ++j)
    if (!(a[j] == b[j])) return false;
  return true;
}

// Groups equal rows (open addressing on a hash of the values): O(n d).
RowGroups group_rows(const Matrix& x) {
  RowGroups g;
  g.group_of.resize(x.rows);
  std::size_t slots = 16;
  while (slots < 2 * x.rows) slots *= 2;
  std::vector<std::uint32_t> table(slots, kNoGroup);
  for (std::size_t r = 0; r < x.rows; ++r) {
    for (std::size_t s = hash_row(x.row(r), x.cols) & (slots - 1);; s = (s + 1) & (slots - 1)) {
      if (table[s] == kNoGroup) {
        table[s] = static_cast<std::uint32_t>(g.first_row.size());
        g.group_of[r] = table[s];
        g.first_row.push_back(r);
        break;
      }
      if (same_row(x.row(g.first_row[table[s]]), x.row(r), x.cols)) {
        g.group_of[r] = table[s];
        break;
      }
    }
  }
  return g;
}

Matrix take_rows(const Matrix& x, const std::vector<std::size_t>& rows) {
  Matrix out(rows.size(), x.cols);
  for (std::size_t i = 0; i < rows.size(); ++i) std::copy(x.row(rows[i]), x.row(rows[i]) + x.cols, out.row(i));
  return out;
}

}  // namespace

void NeighbourIndex::fit(const Matrix& train) {
  if (train.rows > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw DataError("neighbour search: more than 2^31 training rows are not supported");
  n_ = train.rows;
  d_ = train.cols;
  RowGroups groups = group_rows(train);
  distinct_ = take_rows(train, groups.first_row);
  group_of_ = std::move(groups.group_of);
  const std::size_t u = distinct_.rows;
  member_begin_.assign(u + 1, 0);
  for (const auto g : group_of_) ++member_begin_[g + 1];
  for (std::size_t g = 0; g < u; ++g) member_begin_[g + 1] += member_begin_[g];
  members_.resize(n_);
  std::vector<std::uint32_t> fill(member_begin_.begin(), member_begin_.end() - 1);
  for (std::size_t r = 0; r < n_; ++r) members_[fill[group_of_[r]]++] = static_cast<std::uint32_t>(r);
  build_screening_copy();
}

std::size_t NeighbourIndex::memory_bytes() const {
  return (distinct_.data.size() + mean_.size()) * sizeof(double) +
         (group_of_.size() + member_begin_.size() + members_.size()) * sizeof(std::uint32_t) +
         (panels_.size() + norms_.size()) * sizeof(float);
}

void NeighbourIndex::expand(const double* d2, const std::int32_t* group, std::size_t count, std::size_t want,
                            std::vector<std::pair<double, std::int32_t>>& scratch, double* out_d2,
                            std::int32_t* out_index) const {
  // Distinct rows come in (distance, group) order and groups are numbered by their lowest member,
  // so the first `count` groups hold every training row at a distance below the want-th one and,
  // among the rows tied with it, those of lowest index (see the header).
  scratch.clear();
  std::size_t covered = 0;
  bool reached = false;
  double boundary = 0;
  for (std::size_t c = 0; c < count; ++c) {
    if (reached && d2[c] > boundary) break;
    const auto g = static_cast<std::size_t>(group[c]);
    const std::size_t begin = member_begin_[g], size = member_begin_[g + 1] - begin;
    for (std::size_t m = 0; m < std::min(size, want); ++m)
      scratch.emplace_back(d2[c], static_cast<std::int32_t>(members_[begin + m]));
    covered += size;
    if (!reached && covered >= want) {
      reached = true;
      boundary = d2[c];
    }
  }
  std::partial_sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(want), scratch.end());
  for (std::size_t c = 0; c < want; ++c) {
    out_d2[c] = scratch[c].first;
    out_index[c] = scratch[c].second;
  }
}

Neighbours NeighbourIndex::query(const Matrix& queries, std::size_t k, bool exclude_self, int threads) const {
  if (queries.cols != d_)
    throw DataError(fmt::format("neighbour search: {} columns, but the index holds {}", queries.cols, d_));
  const std::size_t available = exclude_self ? n_ - std::min<std::size_t>(n_, 1) : n_;
  if (k == 0 || k > available)
    throw DataError(fmt::format("neighbour search: k={} but only {} training rows are available", k, available));
  if (exclude_self && queries.rows != n_)
    throw std::logic_error("neighbour search: exclude_self needs the training rows as queries");

  Neighbours out;
  out.rows = queries.rows;
  out.k = k;
  out.distances.resize(queries.rows * k);
  out.indices.resize(queries.rows * k);
  if (queries.rows == 0) return out;

  // Every distinct query row is searched once, for its `want` nearest training rows with itself
  // included (with exclude_self, each copy then drops itself from that list).
  const std::size_t want = exclude_self ? k + 1 : k;
  const Matrix* distinct = &distinct_;
  const std::vector<std::uint32_t>* group_of = &group_of_;
  Matrix own;
  RowGroups own_groups;
  if (!exclude_self) {
    own_groups = group_rows(queries);
    own = take_rows(queries, own_groups.first_row);
    distinct = &own;
    group_of = &own_groups.group_of;
  }
  const std::size_t groups_wanted = std::min(want, distinct_.rows);
  const Neighbours near = search_distinct(*distinct, groups_wanted, exclude_self, threads);
  out.fallback_rows = near.fallback_rows;

  std::vector<double> d2(distinct->rows * want);
  std::vector<std::int32_t> index(distinct->rows * want);
  detail::parallel_blocks((distinct->rows + kBlockRows - 1) / kBlockRows, threads, [&](std::size_t b) {
    std::vector<std::pair<double, std::int32_t>> scratch;
    for (std::size_t g = b * kBlockRows; g < std::min(distinct->rows, (b + 1) * kBlockRows); ++g)
      expand(near.distance_row(g), near.index_row(g), groups_wanted, want, scratch, d2.data() + g * want,
             index.data() + g * want);
  });
  detail::parallel_blocks((queries.rows + kBlockRows - 1) / kBlockRows, threads, [&](std::size_t b) {
    for (std::size_t r = b * kBlockRows; r < std::min(queries.rows, (b + 1) * kBlockRows); ++r) {
      const std::size_t g = (*group_of)[r];
      double* dist = out.distances.data() + r * k;
      std::int32_t* idx = out.indices.data() + r * k;
      std::size_t c = 0;
      for (std::size_t e = g * want; e < (g + 1) * want && c < k; ++e) {
        if (exclude_self && index[e] == static_cast<std::int32_t>(r)) continue;
        dist[c] = std::sqrt(d2[e]);
        idx[c] = index[e];
        ++c;
      }
    }
  });
  return out;
}

}  // namespace opsbench
