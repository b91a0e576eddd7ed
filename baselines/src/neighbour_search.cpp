// Exact kNN by fused float32 screening + float64 re-ranking: see the header for the contract.
#include "opsbench/baselines/neighbour_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"

namespace opsbench {
namespace {

constexpr std::size_t kLanes = 16;        // training rows per panel
constexpr std::size_t kMicroRows = 4;     // query rows sharing one panel load
constexpr std::size_t kBlockRows = 64;    // query rows per work item (fixed: determinism)
constexpr std::size_t kChunkPanels = 64;  // training panels per cache chunk (1024 rows)
constexpr float kInf = std::numeric_limits<float>::infinity();
// Unit roundoff of float32.
constexpr double kUnit32 = 0x1.0p-24;

struct Candidate {
  float approx;
  std::int32_t index;
};

// The `capacity` smallest (screening value, index) pairs offered to one row. Offers at or below
// the threshold are appended to a buffer of 2 * capacity; a full buffer is cut back to its
// `capacity` smallest with nth_element and the threshold becomes the largest kept value. That is
// O(1) amortised per offer (a binary heap costs a pop and a push each). The order is total, so
// the final content does not depend on the order of the offers (the symmetric pass offers pairs in
// an order that depends on the schedule), and every pair left out has a screening value >= the
// final threshold. `threshold` points at the row's entry of a shared array (+inf until the first
// cut), which the vector pre-filter reads.
struct CandidateHeap {
  Candidate* data = nullptr;  // 2 * capacity slots
  std::size_t size = 0;
  std::size_t capacity = 0;
  float* threshold = nullptr;

  // A function object (not a function pointer) so the sorts inline it.
  struct Before {
    bool operator()(const Candidate& a, const Candidate& b) const {
      return a.approx < b.approx || (a.approx == b.approx && a.index < b.index);
    }
  };
  static constexpr Before before{};

  void offer(float value, std::int32_t index) {
    data[size++] = {value, index};
    if (size == 2 * capacity) cut();
  }
  void cut() {
    if (size <= capacity) return;
    std::nth_element(data, data + capacity - 1, data + size, before);
    size = capacity;
    *threshold = data[capacity - 1].approx;
  }
};

// 16 floats as one value: GCC lowers it to one zmm, two ymm or four xmm registers per clone.
// The unaligned, aliasing twin is only used to load panels and norms.
typedef float Lanes16 __attribute__((vector_size(64)));
typedef float Lanes16Load __attribute__((vector_size(64), aligned(4), may_alias));
typedef int Mask16 __attribute__((vector_size(64)));

// Bit l set when lane l of `m` is set: the lanes are masked with 2^l and OR-folded 16 -> 1 with
// shuffles (GCC 12 has no reduction builtin for vector extensions).
inline unsigned lane_bits(Mask16 m) {
  m &= Mask16{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  m |= __builtin_shuffle(m, Mask16{8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7});
  m |= __builtin_shuffle(m, Mask16{4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3});
  m |= __builtin_shuffle(m, Mask16{2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1});
  return static_cast<unsigned>(m[0] | m[1]);
}

// Screens kMicroRows query rows (row-major, d floats each, centred) against `panel_count` panels:
// a 4 x 16 register block of dot products per panel, then |q|^2 + |x|^2 - 2 q.x and one test of
// the block against each row's threshold. With `panel_heaps` (the symmetric pass), the same values
// are also offered to the heaps of the panel's rows, with the query rows (global indices
// `query_index`) as candidates. Compiled per instruction set (target_clones).
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) void screen_panels(
    const float* q, const float* qn, std::size_t live_rows, const float* panels, const float* norms,
    std::size_t first_panel, std::size_t panel_count, std::size_t d, std::size_t n, const std::int64_t* query_index,
    bool skip_self, CandidateHeap* heaps, CandidateHeap* panel_heaps, const float* panel_thresholds) {
  static_assert(kMicroRows == 4 && kLanes == 16, "the register block is written out for 4 x 16");
  const float* q0 = q;
  const float* q1 = q + d;
  const float* q2 = q + 2 * d;
  const float* q3 = q + 3 * d;
  for (std::size_t p = first_panel; p < first_panel + panel_count; ++p) {
    const float* panel = panels + p * d * kLanes;
    Lanes16 acc0 = {}, acc1 = {}, acc2 = {}, acc3 = {};
    for (std::size_t j = 0; j < d; ++j) {
      const Lanes16 column = *reinterpret_cast<const Lanes16Load*>(panel + j * kLanes);
      acc0 += q0[j] * column;
      acc1 += q1[j] * column;
      acc2 += q2[j] * column;
      acc3 += q3[j] * column;
    }
    const Lanes16 xn = *reinterpret_cast<const Lanes16Load*>(norms + p * kLanes);
    const Lanes16 accs[kMicroRows] = {acc0, acc1, acc2, acc3};
    for (std::size_t i = 0; i < live_rows; ++i) {
      const Lanes16 d2 = (qn[i] + xn) - 2.0f * accs[i];
      // Only the lanes at or below the row's threshold are visited (rare once the heap is full).
      for (unsigned hits = lane_bits(d2 <= *heaps[i].threshold); hits != 0; hits &= hits - 1) {
        const unsigned l = static_cast<unsigned>(__builtin_ctz(hits));
        const std::size_t index = p * kLanes + l;
        if (d2[l] <= *heaps[i].threshold && index < n &&
            !(skip_self && static_cast<std::int64_t>(index) == query_index[i]))
          heaps[i].offer(d2[l], static_cast<std::int32_t>(index));
      }
      if (panel_heaps == nullptr) continue;
      const Lanes16 panel_threshold = *reinterpret_cast<const Lanes16Load*>(panel_thresholds + p * kLanes);
      for (unsigned hits = lane_bits(d2 <= panel_threshold); hits != 0; hits &= hits - 1) {
        const unsigned l = static_cast<unsigned>(__builtin_ctz(hits));
        const std::size_t index = p * kLanes + l;
        if (index < n && d2[l] <= panel_thresholds[index])
          panel_heaps[index].offer(d2[l], static_cast<std::int32_t>(query_index[i]));
      }
    }
  }
}

double exact_sq_distance(const double* a, const double* b, std::size_t d) {
  double s = 0;
  for (std::size_t j = 0; j < d; ++j) {
    const double diff = a[j] - b[j];
    s += diff * diff;
  }
  return s;
}

struct Ranked {
  double d2;
  std::int32_t index;
  bool operator<(const Ranked& o) const { return d2 < o.d2 || (d2 == o.d2 && index < o.index); }
};

}  // namespace

void require_finite_matrix(const Matrix& x, const char* what) {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const double* row = x.row(r);
    for (std::size_t c = 0; c < x.cols; ++c)
      if (!std::isfinite(row[c])) throw DataError(fmt::format("{}: non-finite value at row {}, column {}", what, r, c));
  }
}

void NeighbourIndex::fit(const Matrix& train) {
  if (train.rows > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw DataError("neighbour search: more than 2^31 training rows are not supported");
  n_ = train.rows;
  d_ = train.cols;
  rows_ = train.data;
  mean_.assign(d_, 0.0);
  for (std::size_t r = 0; r < n_; ++r)
    for (std::size_t j = 0; j < d_; ++j) mean_[j] += train(r, j);
  for (auto& m : mean_) m /= static_cast<double>(std::max<std::size_t>(n_, 1));
  const std::size_t num_panels = (n_ + kLanes - 1) / kLanes;
  panels_.assign(num_panels * d_ * kLanes, 0.0f);
  norms_.assign(num_panels * kLanes, kInf);
  max_norm_ = 0;
  for (std::size_t r = 0; r < n_; ++r) {
    const std::size_t p = r / kLanes, l = r % kLanes;
    float norm = 0;
    for (std::size_t j = 0; j < d_; ++j) {
      const auto v = static_cast<float>(train(r, j) - mean_[j]);
      panels_[(p * d_ + j) * kLanes + l] = v;
      norm += v * v;
    }
    norms_[r] = norm;
    max_norm_ = std::max(max_norm_, static_cast<double>(norm));
  }
}

std::size_t NeighbourIndex::memory_bytes() const {
  return rows_.size() * sizeof(double) + mean_.size() * sizeof(double) + panels_.size() * sizeof(float) +
         norms_.size() * sizeof(float);
}

namespace {

// What the re-ranking of one row needs besides the heap.
struct FinishContext {
  const Matrix& queries;
  const std::vector<double>& rows;  // training rows
  std::size_t n, d, k, available, capacity;
  bool exclude_self;
  double error_factor, max_norm;
  Neighbours& out;
};

// Turns row `row`'s screening candidates into its exact k nearest (see the header); returns true
// when the exact fallback scan was needed.
bool finish_row(const FinishContext& f, std::size_t row, CandidateHeap& heap, float qn, std::vector<Ranked>& ranked) {
  const double* qrow = f.queries.row(row);
  heap.cut();
  std::sort(heap.data, heap.data + heap.size, CandidateHeap::before);
  // Exact distances of the candidates, then the proof: every other row has a screening value >=
  // the last candidate's (A), so its true squared distance is >= A - bound; when that exceeds the
  // exact k-th candidate distance, no other row can enter the k nearest. Using the exact k-th
  // (not its screening value) keeps rows whose k nearest are exact duplicates provable.
  ranked.clear();
  for (std::size_t c = 0; c < heap.size; ++c) {
    const std::int32_t index = heap.data[c].index;
    ranked.push_back({exact_sq_distance(qrow, f.rows.data() + static_cast<std::size_t>(index) * f.d, f.d), index});
  }
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(f.k), ranked.end());
  bool proven = heap.size == f.available;  // every row is a candidate
  if (!proven && heap.size == f.capacity) {
    const double bound = f.error_factor * (static_cast<double>(qn) + f.max_norm);
    proven = static_cast<double>(heap.data[f.capacity - 1].approx) - bound > ranked[f.k - 1].d2;
  }
  if (proven) {
  } else {
    // Exact scan: a max-heap of the k best (distance, index) pairs so far.
    ranked.clear();
    for (std::size_t t = 0; t < f.n; ++t) {
      if (f.exclude_self && t == row) continue;
      const Ranked r{exact_sq_distance(qrow, f.rows.data() + t * f.d, f.d), static_cast<std::int32_t>(t)};
      if (ranked.size() < f.k) {
        ranked.push_back(r);
        std::push_heap(ranked.begin(), ranked.end());
      } else if (r < ranked.front()) {
        std::pop_heap(ranked.begin(), ranked.end());
        ranked.back() = r;
        std::push_heap(ranked.begin(), ranked.end());
      }
    }
    std::sort(ranked.begin(), ranked.end());
  }
  double* dist = f.out.distances.data() + row * f.k;
  std::int32_t* idx = f.out.indices.data() + row * f.k;
  for (std::size_t c = 0; c < f.k; ++c) {
    dist[c] = std::sqrt(ranked[c].d2);
    idx[c] = ranked[c].index;
  }
  return !proven;
}

// Round-robin schedule of all block pairs (a < b): every round pairs each block at most once, so
// the tiles of a round touch disjoint heaps and run in parallel without locks.
std::vector<std::vector<std::pair<std::size_t, std::size_t>>> pair_rounds(std::size_t blocks) {
  const std::size_t m = blocks % 2 == 0 ? blocks : blocks + 1;  // m - 1 = a dummy block when odd
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> rounds;
  for (std::size_t r = 0; r + 1 < m; ++r) {
    std::vector<std::pair<std::size_t, std::size_t>> round;
    auto add = [&](std::size_t a, std::size_t b) {
      if (a >= blocks || b >= blocks) return;
      round.emplace_back(std::min(a, b), std::max(a, b));
    };
    add(m - 1, r);
    for (std::size_t t = 1; t < m / 2; ++t) add((r + t) % (m - 1), (r + m - 1 - t) % (m - 1));
    rounds.push_back(std::move(round));
  }
  return rounds;
}

// Symmetric pass over the training rows: rows per block (a multiple of the panel width).
constexpr std::size_t kSymmetricBlock = 512;

}  // namespace

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

  const std::size_t capacity = std::min(available, k + std::max<std::size_t>(8, k / 2));
  const std::size_t num_panels = (n_ + kLanes - 1) / kLanes;
  // Worst-case error of a float32 screening value relative to |q|^2 + |x|^2 (rounding of the
  // centred inputs, the d-term dot product and the final sum), with a factor 2 of margin.
  const double error_factor = 2.0 * (2.0 * static_cast<double>(d_) + 8.0) * kUnit32;
  const FinishContext finish{queries,  rows_,        n_,           d_,        k,  available,
                             capacity, exclude_self, error_factor, max_norm_, out};

  // Centred float32 copy of query rows [begin, end), padded with zero rows to `padded`.
  auto centre = [&](std::size_t begin, std::size_t end, std::size_t padded, std::vector<float>& q,
                    std::vector<float>& qn) {
    q.assign(padded * d_, 0.0f);
    qn.assign(padded, 0.0f);
    for (std::size_t i = 0; i < end - begin; ++i) {
      float norm = 0;
      for (std::size_t j = 0; j < d_; ++j) {
        const auto v = static_cast<float>(queries(begin + i, j) - mean_[j]);
        q[i * d_ + j] = v;
        norm += v * v;
      }
      qn[i] = norm;
    }
  };

  if (exclude_self) {
    // The training rows against themselves: d2(i, j) == d2(j, i) bit for bit (same floats, same
    // summation order), so each off-diagonal tile is computed once and offered to both sides.
    const std::size_t blocks = (n_ + kSymmetricBlock - 1) / kSymmetricBlock;
    const std::size_t panels_per_block = kSymmetricBlock / kLanes;
    std::vector<float> q, qn;
    centre(0, n_, blocks * kSymmetricBlock, q, qn);
    std::vector<std::int64_t> index(blocks * kSymmetricBlock);
    for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<std::int64_t>(i);
    std::vector<float> thresholds(num_panels * kLanes, -kInf);
    std::fill(thresholds.begin(), thresholds.begin() + static_cast<std::ptrdiff_t>(n_), kInf);
    std::vector<Candidate> storage(n_ * 2 * capacity);
    std::vector<CandidateHeap> heaps(n_);
    for (std::size_t i = 0; i < n_; ++i) heaps[i] = {storage.data() + i * 2 * capacity, 0, capacity, &thresholds[i]};
    auto tile = [&](std::size_t a, std::size_t b) {
      const std::size_t begin = a * kSymmetricBlock;
      const std::size_t end = std::min(n_, begin + kSymmetricBlock);
      const std::size_t first_panel = b * panels_per_block;
      const std::size_t panel_count = std::min(panels_per_block, num_panels - first_panel);
      for (std::size_t i = begin; i < end; i += kMicroRows)
        screen_panels(q.data() + i * d_, qn.data() + i, std::min(kMicroRows, end - i), panels_.data(), norms_.data(),
                      first_panel, panel_count, d_, n_, index.data() + i, /*skip_self=*/a == b, heaps.data() + i,
                      a == b ? nullptr : heaps.data(), thresholds.data());
    };
    detail::parallel_blocks(blocks, threads, [&](std::size_t b) { tile(b, b); });
    for (const auto& round : pair_rounds(blocks))
      detail::parallel_blocks(round.size(), threads, [&](std::size_t t) { tile(round[t].first, round[t].second); });
    const std::size_t finish_blocks = (n_ + kBlockRows - 1) / kBlockRows;
    std::vector<std::size_t> fallbacks(finish_blocks, 0);
    detail::parallel_blocks(finish_blocks, threads, [&](std::size_t b) {
      std::vector<Ranked> ranked;
      for (std::size_t r = b * kBlockRows; r < std::min(n_, (b + 1) * kBlockRows); ++r)
        fallbacks[b] += finish_row(finish, r, heaps[r], qn[r], ranked);
    });
    for (const auto f : fallbacks) out.fallback_rows += f;
    return out;
  }

  const std::size_t blocks = (queries.rows + kBlockRows - 1) / kBlockRows;
  std::vector<std::size_t> fallbacks(blocks, 0);
  detail::parallel_blocks(blocks, threads, [&](std::size_t b) {
    const std::size_t begin = b * kBlockRows;
    const std::size_t end = std::min(queries.rows, begin + kBlockRows);
    const std::size_t count = end - begin;
    const std::size_t padded = (count + kMicroRows - 1) / kMicroRows * kMicroRows;
    std::vector<float> q, qn;
    centre(begin, end, padded, q, qn);
    const std::vector<std::int64_t> no_index(padded, -1);
    std::vector<float> thresholds(padded, kInf);
    std::vector<Candidate> storage(padded * 2 * capacity);
    std::vector<CandidateHeap> heaps(padded);
    for (std::size_t i = 0; i < padded; ++i)
      heaps[i] = {storage.data() + i * 2 * capacity, 0, capacity, &thresholds[i]};
    for (std::size_t first = 0; first < num_panels; first += kChunkPanels) {
      const std::size_t panel_count = std::min(kChunkPanels, num_panels - first);
      for (std::size_t i = 0; i < count; i += kMicroRows)
        screen_panels(q.data() + i * d_, qn.data() + i, std::min(kMicroRows, count - i), panels_.data(), norms_.data(),
                      first, panel_count, d_, n_, no_index.data() + i, /*skip_self=*/false, heaps.data() + i, nullptr,
                      nullptr);
    }
    std::vector<Ranked> ranked;
    for (std::size_t i = 0; i < count; ++i) fallbacks[b] += finish_row(finish, begin + i, heaps[i], qn[i], ranked);
  });
  for (const auto f : fallbacks) out.fallback_rows += f;
  return out;
}

}  // namespace opsbench
