// Class rebalancing by resampling: SMOTE, Tomek-link removal and SMOTETomek, following
// imbalanced-learn 0.10 (SMOTE(k_neighbors=5, sampling_strategy="auto"), TomekLinks,
// SMOTETomek = SMOTE then TomekLinks(sampling_strategy="all")).
//
// SMOTE: every class except the largest is brought up to the largest class's count (ties: the
// first largest class is left alone, as imbalanced-learn's "auto" does). A synthetic row is
// x_i + u * (x_nn - x_i) where x_i is a uniformly drawn row of the class, x_nn one of its k nearest
// neighbours within the class (Euclidean, the row itself excluded, ties broken by row order) drawn
// uniformly, and u uniform in [0, 1). Declared behaviour for small classes (imbalanced-learn raises
// instead): a class with c rows uses k = min(k, c - 1) neighbours; a class with one row gets copies
// of it; a class with no row gets none. Synthetic rows are appended after the original rows, class
// by class in class order.
//
// Tomek links: rows i and j of different classes that are each other's nearest neighbour (over
// all rows; ties broken by row order). TomekLinks(sampling_strategy="all") removes both rows of
// every link. Exact duplicates of a row are its nearest neighbours at distance 0, so with many
// duplicates (integer features) which duplicate is "the" nearest neighbour is a tie; imbalanced-
// learn's answer then depends on scikit-learn's neighbour search order and may differ from ours.
//
// Neighbour search is exact (a k-d tree), run on up to `threads` threads; results do not depend on
// the thread count. Random draws use the portable rules of core/portable_random.h from `seed`.
// Features must be finite numbers (DataError otherwise); labels in [0, num_classes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/matrix.h"
#include "opsbench/core/table.h"

namespace opsbench {

struct Resampled {
  Matrix x;
  std::vector<int> y;
  std::size_t synthetic = 0;  // rows added by SMOTE
  std::size_t removed = 0;    // rows removed by Tomek links
};

Resampled smote(const Matrix& x, const std::vector<int>& y, int num_classes, int k_neighbors, std::uint64_t seed,
                int threads = 1);

// Rows (ascending) that belong to at least one Tomek link.
std::vector<std::size_t> tomek_link_rows(const Matrix& x, const std::vector<int>& y, int threads = 1);

// Removes every row of every Tomek link.
Resampled remove_tomek_links(const Matrix& x, const std::vector<int>& y, int threads = 1);

Resampled smote_tomek(const Matrix& x, const std::vector<int>& y, int num_classes, int k_neighbors,
                      std::uint64_t seed, int threads = 1);

// k nearest neighbours of every row of `x` among the rows of `x` (itself excluded), by Euclidean
// distance, ties by row index: row-major rows x k (k capped at rows - 1).
std::vector<std::size_t> nearest_neighbours(const Matrix& x, int k, int threads = 1);

// A table resampled by `method` ("smote" | "tomek" | "smote-tomek" | "none") on its feature matrix
// (Table::to_matrix(): numeric, no missing values) and primary label. The result has the same
// numeric column names, the primary label (other label columns and row groups are dropped: synthetic
// rows have none). `note` receives a one-line summary ("smote-tomek: 8000 -> 30111 rows, ...").
Table resample_table(const Table& table, const std::string& method, int k_neighbors, std::uint64_t seed,
                     int threads, std::string* note = nullptr);

}  // namespace opsbench
