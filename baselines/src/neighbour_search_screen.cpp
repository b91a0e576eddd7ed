// The screening engine of NeighbourIndex (see neighbour_search.h): the float32 panels, the fused
// 4 x 16 distance kernel with its per-row candidate lists, the exact re-rank with its proof and
// the filtered fallback. neighbour_search.cpp holds the grouping of equal rows and query().
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "opsbench/baselines/neighbour_search.h"
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

// A candidate as one 64-bit key: the screening value's bits mapped to an unsigned code in float
// order (-0 just below +0), then the row index. Comparing keys compares (value, index), without
// branches, which makes the selection in cut() several times cheaper than on a two-field struct.
struct Candidate {
  std::uint64_t key;

  static Candidate of(float value, std::int32_t index) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    bits = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    return {static_cast<std::uint64_t>(bits) << 32 | static_cast<std::uint32_t>(index)};
  }
  float approx() const {
    auto bits = static_cast<std::uint32_t>(key >> 32);
    bits = (bits & 0x80000000u) != 0 ? bits & 0x7fffffffu : ~bits;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  std::int32_t index() const { return static_cast<std::int32_t>(key & 0xffffffffu); }
  bool operator<(const Candidate& o) const { return key < o.key; }
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

  void offer(float value, std::int32_t index) {
    data[size++] = Candidate::of(value, index);
    if (size == 2 * capacity) cut();
  }
  void cut() {
    if (size <= capacity) return;
    std::nth_element(data, data + capacity - 1, data + size);
    size = capacity;
    *threshold = data[capacity - 1].approx();
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

constexpr float kLargest = std::numeric_limits<float>::max();

// Lane-wise minimum (an out-parameter: returning a 64-byte vector from a function that is not
// compiled for AVX-512 changes the ABI, and GCC warns).
inline void min16(Lanes16& out, const Lanes16& a, const Lanes16& b) { out = a < b ? a : b; }
inline float clamp_threshold(float t) { return t < kLargest ? t : kLargest; }

// Screens kMicroRows query rows (row-major, d floats each, centred) against `panel_count` panels:
// a 4 x 16 register block of dot products per panel, then |q|^2 + |x|^2 - 2 q.x and one test of
// the block against each row's threshold. With `panel_heaps` (the symmetric pass), the same values
// are also offered to the heaps of the panel's rows, with the query rows (global indices
// `query_index`) as candidates. One body, compiled per instruction set (see screen_panels below);
// `Bits` turns the block test into a lane mask.
template <typename Bits>
inline void screen_panels_body(const float* q, const float* qn, std::size_t live_rows, const float* panels,
                               const float* norms, std::size_t first_panel, std::size_t panel_count, std::size_t d,
                               std::size_t n, const std::int64_t* query_index, bool skip_self, CandidateHeap* heaps,
                               CandidateHeap* panel_heaps, const float* panel_thresholds) {
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
    const Lanes16 d2s[kMicroRows] = {(qn[0] + xn) - 2.0f * acc0, (qn[1] + xn) - 2.0f * acc1, (qn[2] + xn) - 2.0f * acc2,
                                     (qn[3] + xn) - 2.0f * acc3};
    // One test of the whole 4 x 16 block: the lanes where some query row's value is at or below
    // its threshold or (symmetric pass) at or below the panel row's own threshold. Most blocks
    // have none or one, so the block costs a few subtractions and minima, and the hits are
    // handled lane by lane. d2 <= t <=> d2 - t <= 0 for finite values (gradual underflow keeps the
    // sign); thresholds are clamped to the largest float so that inf - inf cannot make a NaN. An
    // infinite d2 (overflowing data) is then never offered, which only weakens the list: its row
    // fails the proof and is scanned exactly. One float compare feeding one lane mask keeps GCC on
    // vcmpps; OR-ing several compare masks made it scalarise them.
    unsigned lanes = (1u << kLanes) - 1;  // padded query rows (the last block only): every lane
    if (live_rows == kMicroRows) {
      Lanes16 gap, other;
      min16(gap, d2s[0] - clamp_threshold(*heaps[0].threshold), d2s[1] - clamp_threshold(*heaps[1].threshold));
      min16(other, d2s[2] - clamp_threshold(*heaps[2].threshold), d2s[3] - clamp_threshold(*heaps[3].threshold));
      min16(gap, gap, other);
      if (panel_heaps != nullptr) {
        Lanes16 pt = *reinterpret_cast<const Lanes16Load*>(panel_thresholds + p * kLanes), lo;
        min16(pt, pt, kLargest + Lanes16{});
        min16(lo, d2s[0], d2s[1]);
        min16(other, d2s[2], d2s[3]);
        min16(lo, lo, other);
        min16(gap, gap, lo - pt);
      }
      lanes = Bits::at_or_below_zero(gap);
    }
    // The few lanes that may hold a hit (about one per block once the lists are full), scalar.
    for (; lanes != 0; lanes &= lanes - 1) {
      const unsigned l = static_cast<unsigned>(__builtin_ctz(lanes));
      const std::size_t index = p * kLanes + l;
      if (index >= n) break;  // padding lanes are the last ones
      for (std::size_t i = 0; i < live_rows; ++i) {
        const float value = d2s[i][l];
        if (value <= *heaps[i].threshold && !(skip_self && static_cast<std::int64_t>(index) == query_index[i]))
          heaps[i].offer(value, static_cast<std::int32_t>(index));
        if (panel_heaps != nullptr && value <= panel_thresholds[index])
          panel_heaps[index].offer(value, static_cast<std::int32_t>(query_index[i]));
      }
    }
  }
}

// Lane masks: the portable reduction of a vector compare, or AVX-512's compare into a mask
// register (one instruction instead of eight).
struct PortableBits {
  static unsigned at_or_below_zero(const Lanes16& v) { return lane_bits(v <= 0.0f); }
};
struct Avx512Bits {
  __attribute__((target("avx512f"))) static unsigned at_or_below_zero(const Lanes16& v) {
    return _mm512_cmp_ps_mask(reinterpret_cast<const __m512&>(v), _mm512_setzero_ps(), _CMP_LE_OQ);
  }
};

#define OPSBENCH_SCREEN_PARAMS                                                                                         \
  const float *q, const float *qn, std::size_t live_rows, const float *panels, const float *norms,                     \
      std::size_t first_panel, std::size_t panel_count, std::size_t d, std::size_t n, const std::int64_t *query_index, \
      bool skip_self, CandidateHeap *heaps, CandidateHeap *panel_heaps, const float *panel_thresholds
#define OPSBENCH_SCREEN_ARGS                                                                                   \
  q, qn, live_rows, panels, norms, first_panel, panel_count, d, n, query_index, skip_self, heaps, panel_heaps, \
      panel_thresholds

// flatten: the body and the mask helper are inlined here, under this function's instruction set.
__attribute__((target("avx512f"), flatten)) void screen_panels_avx512(OPSBENCH_SCREEN_PARAMS) {
  screen_panels_body<Avx512Bits>(OPSBENCH_SCREEN_ARGS);
}
__attribute__((target_clones("arch=haswell", "default"), flatten)) void screen_panels_portable(OPSBENCH_SCREEN_PARAMS) {
  screen_panels_body<PortableBits>(OPSBENCH_SCREEN_ARGS);
}
void screen_panels(OPSBENCH_SCREEN_PARAMS) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) {
    screen_panels_avx512(OPSBENCH_SCREEN_ARGS);
  } else {
    screen_panels_portable(OPSBENCH_SCREEN_ARGS);
  }
}
#undef OPSBENCH_SCREEN_PARAMS
#undef OPSBENCH_SCREEN_ARGS

// The fallback's filter: every distinct row whose screening value, less its own error bound
// `slack` * (|q|^2 + |x|^2), is at or below `limit`, appended to `out`. The same float32 values as
// the screening (same panels, norms and formula), 4 panels per step.
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) void rescan_panels(
    const float* q, float qn, const float* panels, const float* norms, std::size_t num_panels, std::size_t d,
    std::size_t n, float slack, float limit, std::vector<std::int32_t>& out) {
  auto emit = [&](std::size_t p, const Lanes16& acc) {
    const Lanes16 xn = *reinterpret_cast<const Lanes16Load*>(norms + p * kLanes);
    const Lanes16 sum = qn + xn;
    const Lanes16 lower = (sum - 2.0f * acc) - slack * sum;  // inf - inf = NaN on padding: no hit
    for (unsigned hits = lane_bits(lower <= limit); hits != 0; hits &= hits - 1) {
      const std::size_t index = p * kLanes + static_cast<unsigned>(__builtin_ctz(hits));
      if (index < n) out.push_back(static_cast<std::int32_t>(index));
    }
  };
  std::size_t p = 0;
  for (; p + 4 <= num_panels; p += 4) {
    const float* panel = panels + p * d * kLanes;
    Lanes16 acc0 = {}, acc1 = {}, acc2 = {}, acc3 = {};
    for (std::size_t j = 0; j < d; ++j) {
      acc0 += q[j] * *reinterpret_cast<const Lanes16Load*>(panel + j * kLanes);
      acc1 += q[j] * *reinterpret_cast<const Lanes16Load*>(panel + (d + j) * kLanes);
      acc2 += q[j] * *reinterpret_cast<const Lanes16Load*>(panel + (2 * d + j) * kLanes);
      acc3 += q[j] * *reinterpret_cast<const Lanes16Load*>(panel + (3 * d + j) * kLanes);
    }
    emit(p, acc0);
    emit(p + 1, acc1);
    emit(p + 2, acc2);
    emit(p + 3, acc3);
  }
  for (; p < num_panels; ++p) {
    const float* panel = panels + p * d * kLanes;
    Lanes16 acc = {};
    for (std::size_t j = 0; j < d; ++j) acc += q[j] * *reinterpret_cast<const Lanes16Load*>(panel + j * kLanes);
    emit(p, acc);
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

void NeighbourIndex::build_screening_copy() {
  // Centred float32 copy of the distinct rows, in panels of 16 rows.
  const std::size_t u = distinct_.rows;
  mean_.assign(d_, 0.0);
  for (std::size_t r = 0; r < u; ++r)
    for (std::size_t j = 0; j < d_; ++j) mean_[j] += distinct_(r, j);
  for (auto& m : mean_) m /= static_cast<double>(std::max<std::size_t>(u, 1));
  const std::size_t num_panels = (u + kLanes - 1) / kLanes;
  panels_.assign(num_panels * d_ * kLanes, 0.0f);
  norms_.assign(num_panels * kLanes, kInf);
  max_norm_ = 0;
  for (std::size_t r = 0; r < u; ++r) {
    const std::size_t p = r / kLanes, l = r % kLanes;
    float norm = 0;
    for (std::size_t j = 0; j < d_; ++j) {
      const auto v = static_cast<float>(distinct_(r, j) - mean_[j]);
      panels_[(p * d_ + j) * kLanes + l] = v;
      norm += v * v;
    }
    norms_[r] = norm;
    max_norm_ = std::max(max_norm_, static_cast<double>(norm));
  }
}

namespace {

// What the re-ranking of one row needs besides the heap.
struct FinishContext {
  const Matrix& queries;
  const Matrix& rows;  // distinct training rows
  std::size_t n, d, k, capacity;
  double error_factor, max_norm;
  const float* panels;  // the screening copy, for the fallback's filter
  const float* norms;
  std::size_t num_panels;
  Neighbours& out;  // squared distances
};

// Turns row `row`'s screening candidates into its exact k nearest distinct rows, as squared
// distances (see the header); returns true when the fallback was needed. `qf`: the row's centred
// float32 copy, `qn` its squared norm.
bool finish_row(const FinishContext& f, std::size_t row, CandidateHeap& heap, const float* qf, float qn,
                std::vector<Ranked>& ranked, std::vector<std::int32_t>& near) {
  const double* qrow = f.queries.row(row);
  heap.cut();
  std::sort(heap.data, heap.data + heap.size);
  // Exact distances of the candidates, then the proof: every other row has a screening value >=
  // the last candidate's (A), so its true squared distance is >= A - bound; when that exceeds the
  // exact k-th candidate distance, no other row can enter the k nearest.
  // The candidates' rows are scattered over the training matrix: ask for all of them first so
  // the cache misses overlap.
  for (std::size_t c = 0; c < heap.size; ++c) {
    const double* row = f.rows.row(static_cast<std::size_t>(heap.data[c].index()));
    for (std::size_t j = 0; j < f.d; j += 8) __builtin_prefetch(row + j);
  }
  ranked.clear();
  for (std::size_t c = 0; c < heap.size; ++c) {
    const std::int32_t index = heap.data[c].index();
    ranked.push_back({exact_sq_distance(qrow, f.rows.row(static_cast<std::size_t>(index)), f.d), index});
  }
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(f.k), ranked.end());
  bool proven = heap.size == f.n;  // every row is a candidate
  if (!proven && heap.size == f.capacity) {
    // A row whose centred norm |x| exceeds |q| + sqrt(D) is farther than the k-th candidate
    // (D) whatever its screening value, since |q - x| >= |x| - |q|; so the error bound only needs
    // the norms up to that reach, not the largest norm of the data. Float norms are within a
    // factor (1 +- error_factor) of the exact ones; 1e-12 covers the rounding of this test.
    const double d_k = ranked[f.k - 1].d2;
    double reach = f.max_norm;
    if (f.error_factor < 0.5) {
      const double r = (std::sqrt(d_k) * (1 + 1e-12) + std::sqrt(static_cast<double>(qn)) * (1 + f.error_factor)) /
                       (1 - f.error_factor);
      reach = std::min(reach, r * r * (1 + 1e-12));
    }
    const double bound = f.error_factor * (static_cast<double>(qn) + reach);
    proven = static_cast<double>(heap.data[f.capacity - 1].approx()) - bound > d_k;
  }
  if (!proven) {
    // Fallback: the exact k-th candidate distance D bounds the true k-th from above, so only rows
    // whose screening value minus their own error bound is <= D can be among the k nearest (or
    // tie with the k-th); all of them are re-ranked exactly, the others are provably farther. The
    // bound is per row (|q|^2 + |x|^2, not the largest norm) and 1.5 times the screening's, to
    // cover the rounding of the test itself; `limit` is D rounded up to a float.
    const double d_k = ranked[f.k - 1].d2;
    auto limit = static_cast<float>(d_k);
    if (static_cast<double>(limit) < d_k) limit = std::nextafter(limit, kInf);
    near.clear();
    rescan_panels(qf, qn, f.panels, f.norms, f.num_panels, f.d, f.n, static_cast<float>(1.5 * f.error_factor), limit,
                  near);
    if (near.size() < f.k) {
      // Cannot happen while the error bound holds (the k candidates within D pass the filter);
      // kept as a guard: every row.
      near.resize(f.n);
      for (std::size_t t = 0; t < f.n; ++t) near[t] = static_cast<std::int32_t>(t);
    }
    ranked.clear();
    for (const auto t : near)
      ranked.push_back({exact_sq_distance(qrow, f.rows.row(static_cast<std::size_t>(t)), f.d), t});
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(f.k), ranked.end());
  }
  double* dist = f.out.distances.data() + row * f.k;
  std::int32_t* idx = f.out.indices.data() + row * f.k;
  for (std::size_t c = 0; c < f.k; ++c) {
    dist[c] = ranked[c].d2;
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

Neighbours NeighbourIndex::search_distinct(const Matrix& queries, std::size_t k, bool symmetric, int threads) const {
  const std::size_t u = distinct_.rows;
  Neighbours out;
  out.rows = queries.rows;
  out.k = k;
  out.distances.resize(queries.rows * k);
  out.indices.resize(queries.rows * k);

  const std::size_t capacity = std::min(u, k + std::max<std::size_t>(4, k / 4));
  const std::size_t num_panels = (u + kLanes - 1) / kLanes;
  // Worst-case error of a float32 screening value relative to |q|^2 + |x|^2 (rounding of the
  // centred inputs, the d-term dot product and the final sum), with a factor 2 of margin.
  const double error_factor = 2.0 * (2.0 * static_cast<double>(d_) + 8.0) * kUnit32;
  const FinishContext finish{queries,        distinct_,     u,          d_, k, capacity, error_factor, max_norm_,
                             panels_.data(), norms_.data(), num_panels, out};

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

  if (symmetric) {
    // The distinct training rows against themselves (each row finds itself at distance 0):
    // d2(i, j) == d2(j, i) bit for bit (same floats, same summation order), so each off-diagonal
    // tile is computed once and offered to both sides.
    const std::size_t blocks = (u + kSymmetricBlock - 1) / kSymmetricBlock;
    const std::size_t panels_per_block = kSymmetricBlock / kLanes;
    std::vector<float> q, qn;
    centre(0, u, blocks * kSymmetricBlock, q, qn);
    std::vector<std::int64_t> index(blocks * kSymmetricBlock);
    for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<std::int64_t>(i);
    std::vector<float> thresholds(num_panels * kLanes, -kInf);
    std::fill(thresholds.begin(), thresholds.begin() + static_cast<std::ptrdiff_t>(u), kInf);
    std::vector<Candidate> storage(u * 2 * capacity);
    std::vector<CandidateHeap> heaps(u);
    for (std::size_t i = 0; i < u; ++i) heaps[i] = {storage.data() + i * 2 * capacity, 0, capacity, &thresholds[i]};
    auto tile = [&](std::size_t a, std::size_t b) {
      const std::size_t begin = a * kSymmetricBlock;
      const std::size_t end = std::min(u, begin + kSymmetricBlock);
      const std::size_t first_panel = b * panels_per_block;
      const std::size_t panel_count = std::min(panels_per_block, num_panels - first_panel);
      for (std::size_t i = begin; i < end; i += kMicroRows)
        screen_panels(q.data() + i * d_, qn.data() + i, std::min(kMicroRows, end - i), panels_.data(), norms_.data(),
                      first_panel, panel_count, d_, u, index.data() + i, /*skip_self=*/false, heaps.data() + i,
                      a == b ? nullptr : heaps.data(), thresholds.data());
    };
    detail::parallel_blocks(blocks, threads, [&](std::size_t b) { tile(b, b); });
    for (const auto& round : pair_rounds(blocks))
      detail::parallel_blocks(round.size(), threads, [&](std::size_t t) { tile(round[t].first, round[t].second); });
    const std::size_t finish_blocks = (u + kBlockRows - 1) / kBlockRows;
    std::vector<std::size_t> fallbacks(finish_blocks, 0);
    detail::parallel_blocks(finish_blocks, threads, [&](std::size_t b) {
      std::vector<Ranked> ranked;
      std::vector<std::int32_t> near;
      for (std::size_t r = b * kBlockRows; r < std::min(u, (b + 1) * kBlockRows); ++r)
        fallbacks[b] += finish_row(finish, r, heaps[r], q.data() + r * d_, qn[r], ranked, near);
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
                      first, panel_count, d_, u, no_index.data() + i, /*skip_self=*/false, heaps.data() + i, nullptr,
                      nullptr);
    }
    std::vector<Ranked> ranked;
    std::vector<std::int32_t> near;
    for (std::size_t i = 0; i < count; ++i)
      fallbacks[b] += finish_row(finish, begin + i, heaps[i], q.data() + i * d_, qn[i], ranked, near);
  });
  for (const auto f : fallbacks) out.fallback_rows += f;
  return out;
}

}  // namespace opsbench
