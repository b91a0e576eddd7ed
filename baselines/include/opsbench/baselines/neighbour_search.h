// Exact k-nearest-neighbour search in Euclidean distance, the engine under lof and knn.
//
// Contract: for every query row, the k training rows with the smallest Euclidean distance, ordered
// by (distance, training row index) ascending. Equal distances are broken by the lower training
// index, which is what scikit-learn 1.2.1's brute-force ArgKmin keeps at the boundary (its heap
// only admits a strictly smaller value). With exclude_self, query row i is a training row and
// training row i is never its own neighbour (scikit-learn's kneighbors(X=None)); duplicates of row
// i at distance 0 are still neighbours.
//
// How (why it is fast and still exact): a fused screening pass computes float32 squared distances
// |q|^2 + |x|^2 - 2 q.x of mean-centred rows in register blocks (4 query rows x 16 training rows,
// training rows stored as 16-wide panels), compares each block's minimum with the row's current
// candidate threshold and pushes only the rare hits into a per-row heap of k + extra candidates.
// No distance matrix is ever stored. The candidates are then re-ranked with exact float64
// distances sum (q_j - x_j)^2, which corrects the cancellation of the |a|^2+|b|^2-2ab form for
// near-duplicates. A row whose screening cannot prove that the true k nearest are among its
// candidates (the gap between the k-th and the last candidate is within the float32 error bound,
// e.g. many exact duplicates) is searched again by an exact float64 scan. So the result is exact
// whatever the data's scale; only the speed depends on it.
//
// The kernel is compiled for AVX-512, AVX2+FMA and baseline x86-64 and chosen at run time.
//
// Determinism: query rows are processed in fixed blocks of 64, each with its own heaps; the thread
// count only changes which thread runs a block, so results are identical for any `threads`.
// Thread-safety: a fitted index is immutable; concurrent query() calls are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench {

// Row-major k nearest neighbours of every query row.
struct Neighbours {
  std::size_t rows = 0;
  std::size_t k = 0;
  std::vector<double> distances;       // rows x k, Euclidean, ascending per row
  std::vector<std::int32_t> indices;   // rows x k, training row indices
  std::size_t fallback_rows = 0;       // rows that needed the exact fallback scan (diagnostics)

  const double* distance_row(std::size_t r) const { return distances.data() + r * k; }
  const std::int32_t* index_row(std::size_t r) const { return indices.data() + r * k; }
};

class NeighbourIndex {
 public:
  // Copies the training rows (finite values are the caller's duty: see require_finite_matrix).
  void fit(const Matrix& train);
  std::size_t size() const { return n_; }
  std::size_t dims() const { return d_; }
  bool empty() const { return n_ == 0; }

  // k nearest training rows of every query row; k <= size() (size() - 1 with exclude_self).
  // exclude_self requires queries.rows == size() and the same rows as the training set.
  Neighbours query(const Matrix& queries, std::size_t k, bool exclude_self, int threads) const;

  // Bytes held: the float64 rows plus the float32 panels and norms.
  std::size_t memory_bytes() const;

 private:
  std::size_t n_ = 0;
  std::size_t d_ = 0;
  std::vector<double> rows_;       // n x d, as given
  std::vector<double> mean_;       // d, centring for the float32 screening
  std::vector<float> panels_;      // ceil(n/16) panels of d x 16 centred values
  std::vector<float> norms_;       // padded to a multiple of 16; +inf on the padding
  double max_norm_ = 0;            // largest centred squared norm, for the error bound
};

// Throws DataError naming the method, row and column of the first NaN/Inf.
void require_finite_matrix(const Matrix& x, const char* what);

}  // namespace opsbench
