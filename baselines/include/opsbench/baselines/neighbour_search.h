// Exact k-nearest-neighbour search in Euclidean distance, the engine under lof and knn.
//
// Contract: for every query row, the k training rows with the smallest Euclidean distance, ordered
// by (distance, training row index) ascending. Equal distances are broken by the lower training
// index: the stable brute-force order. scikit-learn 1.2.1 agrees except where different rows tie
// exactly at the k-th distance: its heap admits only strictly smaller values, but which tied row
// a later, closer row evicts depends on the heap layout (and differs between its brute, kd_tree
// and ball_tree algorithms). Copies of one row are interchangeable, so they never matter for LOF
// or kNN scores; ties between different rows (integer grids, event counts) can. With exclude_self, query row i is a
// training row and training row i is never its own neighbour (scikit-learn's kneighbors(X=None)); duplicates of row i
// at distance 0 are still neighbours.
//
// Duplicates: fit() groups equal training rows (numbered by their lowest row) and searches only the
// distinct rows; query() also searches each distinct query row once. A distinct query's `want`
// nearest training rows (k, or k + 1 with exclude_self, itself included) come from its `want`
// nearest distinct rows in (distance, group) order, each expanded to its lowest `want` member rows:
// since a group's number is its lowest row, the groups tied at the boundary that hold the
// lowest-index rows are among them, so the expansion, sorted by (squared distance, row index), is
// exactly the brute-force answer. Copies of a row get the same list (minus themselves with
// exclude_self). Distances are computed from the same values, so the results are bit-identical to
// a search without grouping; data with many copies (event counts, zero-imputed features) costs the
// distinct rows only.
//
// How (why it is fast and still exact): a fused screening pass computes float32 squared distances
// |q|^2 + |x|^2 - 2 q.x of mean-centred rows in register blocks (4 query rows x 16 training rows,
// training rows stored as 16-wide panels), tests the whole block against the rows' candidate
// thresholds at once and pushes only the rare hits into a per-row list of k + extra candidates.
// No distance matrix is ever stored. The candidates are then re-ranked with exact float64
// distances sum (q_j - x_j)^2, which corrects the cancellation of the |a|^2+|b|^2-2ab form for
// near-duplicates. The proof: every non-candidate's screening value is >= the last candidate's,
// and its error is bounded by the float32 error factor times |q|^2 + |x|^2, where only rows with
// |x| <= |q| + sqrt(D) (D = exact k-th candidate distance) matter, since farther ones cannot beat
// D whatever their screening value. A row whose screening cannot prove that the true k nearest
// are among its candidates (near-duplicate clusters) is searched again: every row whose screening
// value, less its own error bound, is <= D is re-ranked exactly (a float32 pass over the panels,
// then float64 for the few that pass). So the result is exact whatever the data's scale; only the
// speed depends on it.
//
// The kernel is compiled for AVX-512, AVX2+FMA and baseline x86-64 and chosen at run time.
//
// Determinism: query rows are processed in fixed blocks of 64, each with its own heaps; the thread
// count only changes which thread runs a block, so results are identical for any `threads`.
// Thread-safety: a fitted index is immutable; concurrent query() calls are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench {

// Row-major k nearest neighbours of every query row.
struct Neighbours {
  std::size_t rows = 0;
  std::size_t k = 0;
  std::vector<double> distances;      // rows x k, Euclidean, ascending per row
  std::vector<std::int32_t> indices;  // rows x k, training row indices
  std::size_t fallback_rows = 0;      // distinct query rows that needed the exact fallback scan

  const double* distance_row(std::size_t r) const { return distances.data() + r * k; }
  const std::int32_t* index_row(std::size_t r) const { return indices.data() + r * k; }
};

class NeighbourIndex {
 public:
  // Copies the training rows (finite values are the caller's duty: see require_finite_matrix).
  void fit(const Matrix& train);
  std::size_t size() const { return n_; }
  // Distinct training rows (equal rows counted once): what the search works on.
  std::size_t distinct_rows() const { return distinct_.rows; }
  std::size_t dims() const { return d_; }
  bool empty() const { return n_ == 0; }

  // k nearest training rows of every query row; k <= size() (size() - 1 with exclude_self).
  // exclude_self requires queries.rows == size() and the same rows as the training set.
  Neighbours query(const Matrix& queries, std::size_t k, bool exclude_self, int threads) const;

  // Bytes held: the distinct float64 rows, the row -> group maps, the float32 panels and norms.
  std::size_t memory_bytes() const;

 private:
  // Fills mean_, panels_, norms_ and max_norm_ from distinct_ (neighbour_search_screen.cpp).
  void build_screening_copy();
  // The k nearest distinct rows of every (distinct) query row, as squared distances; `symmetric`:
  // the queries are distinct_ itself.
  Neighbours search_distinct(const Matrix& queries, std::size_t k, bool symmetric, int threads) const;
  // A distinct query's `count` nearest groups -> its `want` nearest training rows (squared).
  void expand(const double* d2, const std::int32_t* group, std::size_t count, std::size_t want,
              std::vector<std::pair<double, std::int32_t>>& scratch, double* out_d2, std::int32_t* out_index) const;

  std::size_t n_ = 0;  // training rows
  std::size_t d_ = 0;
  Matrix distinct_;                          // distinct training rows, in order of first occurrence
  std::vector<std::uint32_t> group_of_;      // training row -> its distinct row
  std::vector<std::uint32_t> member_begin_;  // group g holds members_[member_begin_[g], member_begin_[g+1])
  std::vector<std::uint32_t> members_;       // training rows by group, ascending within a group
  std::vector<double> mean_;                 // d, centring for the float32 screening
  std::vector<float> panels_;                // ceil(u/16) panels of d x 16 centred distinct rows
  std::vector<float> norms_;                 // padded to a multiple of 16; +inf on the padding
  double max_norm_ = 0;                      // largest centred squared norm, for the error bound
};

// Throws DataError naming the method, row and column of the first NaN/Inf.
void require_finite_matrix(const Matrix& x, const char* what);

}  // namespace opsbench
