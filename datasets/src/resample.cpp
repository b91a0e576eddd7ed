// SMOTE, Tomek links and SMOTETomek: see the header for the rules and how they follow
// imbalanced-learn 0.10.
#include "opsbench/datasets/resample.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"
#include "opsbench/core/portable_random.h"

namespace opsbench {
namespace {

constexpr std::size_t kLeafSize = 16;

// Exact k-nearest-neighbour search in a k-d tree (median splits on the widest dimension).
class KdTree {
 public:
  explicit KdTree(const Matrix& x) : x_(x), index_(x.rows) {
    std::iota(index_.begin(), index_.end(), 0);
    if (x.rows > 0) build(0, x.rows);
  }

  // The k nearest rows to row `query` (itself excluded), closest first, ties by row index.
  void query(std::size_t query, std::size_t k, std::vector<std::pair<double, std::size_t>>& heap) const {
    heap.clear();
    if (k == 0) return;
    search(0, x_.row(query), query, k, heap);
    std::sort_heap(heap.begin(), heap.end());
  }

 private:
  struct Node {
    std::size_t begin, end;
    int dim = -1;  // -1: leaf
    double split = 0;
    std::size_t left = 0, right = 0;
  };

  std::size_t build(std::size_t begin, std::size_t end) {
    const std::size_t id = nodes_.size();
    nodes_.push_back({begin, end});
    if (end - begin <= kLeafSize) return id;
    int best_dim = 0;
    double best_spread = -1;
    for (std::size_t d = 0; d < x_.cols; ++d) {
      double lo = INFINITY, hi = -INFINITY;
      for (std::size_t i = begin; i < end; ++i) {
        const double v = x_(index_[i], d);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (hi - lo > best_spread) {
        best_spread = hi - lo;
        best_dim = static_cast<int>(d);
      }
    }
    if (best_spread <= 0) return id;  // all rows identical: stay a leaf
    const std::size_t mid = begin + (end - begin) / 2;
    const auto dim = static_cast<std::size_t>(best_dim);
    std::nth_element(index_.begin() + static_cast<std::ptrdiff_t>(begin),
                     index_.begin() + static_cast<std::ptrdiff_t>(mid),
                     index_.begin() + static_cast<std::ptrdiff_t>(end), [&](std::size_t a, std::size_t b) {
                       const double va = x_(a, dim), vb = x_(b, dim);
                       return va < vb || (va == vb && a < b);
                     });
    const double split = x_(index_[mid], dim);
    const std::size_t left = build(begin, mid);
    const std::size_t right = build(mid, end);
    nodes_[id].dim = best_dim;
    nodes_[id].split = split;
    nodes_[id].left = left;
    nodes_[id].right = right;
    return id;
  }

  void search(std::size_t node_id, const double* q, std::size_t self, std::size_t k,
              std::vector<std::pair<double, std::size_t>>& heap) const {
    const Node& node = nodes_[node_id];
    if (node.dim < 0) {
      for (std::size_t i = node.begin; i < node.end; ++i) {
        const std::size_t r = index_[i];
        if (r == self) continue;
        const double* p = x_.row(r);
        double d2 = 0;
        for (std::size_t c = 0; c < x_.cols; ++c) d2 += (p[c] - q[c]) * (p[c] - q[c]);
        const std::pair<double, std::size_t> item{d2, r};
        if (heap.size() < k) {
          heap.push_back(item);
          std::push_heap(heap.begin(), heap.end());
        } else if (item < heap.front()) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = item;
          std::push_heap(heap.begin(), heap.end());
        }
      }
      return;
    }
    const double diff = q[node.dim] - node.split;
    const std::size_t near = diff < 0 ? node.left : node.right;
    const std::size_t far = diff < 0 ? node.right : node.left;
    search(near, q, self, k, heap);
    // Equal distances must still be visited: a tie with a lower row index wins.
    if (heap.size() < k || diff * diff <= heap.front().first) search(far, q, self, k, heap);
  }

  const Matrix& x_;
  std::vector<std::size_t> index_;
  std::vector<Node> nodes_;
};

void check_input(const Matrix& x, const std::vector<int>& y, int num_classes, const char* what) {
  if (x.rows != y.size()) throw DataError(fmt::format("{}: {} rows but {} labels", what, x.rows, y.size()));
  for (std::size_t i = 0; i < x.data.size(); ++i)
    if (!std::isfinite(x.data[i]))
      throw DataError(fmt::format("{}: non-finite value at row {}, column {}", what, i / x.cols, i % x.cols));
  for (std::size_t r = 0; r < y.size(); ++r)
    if (y[r] < 0 || (num_classes > 0 && y[r] >= num_classes))
      throw DataError(fmt::format("{}: row {} has label {}, outside 0..{}", what, r, y[r], num_classes - 1));
}

Matrix take_rows(const Matrix& x, const std::vector<std::size_t>& rows) {
  Matrix out(rows.size(), x.cols);
  for (std::size_t i = 0; i < rows.size(); ++i) std::copy(x.row(rows[i]), x.row(rows[i]) + x.cols, out.row(i));
  return out;
}

}  // namespace

std::vector<std::size_t> nearest_neighbours(const Matrix& x, int k, int threads) {
  const std::size_t kk = x.rows == 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), x.rows - 1);
  std::vector<std::size_t> out(x.rows * kk);
  if (kk == 0) return out;
  const KdTree tree(x);
  constexpr std::size_t kBlock = 1024;
  detail::parallel_blocks((x.rows + kBlock - 1) / kBlock, threads, [&](std::size_t b) {
    std::vector<std::pair<double, std::size_t>> heap;
    for (std::size_t r = b * kBlock; r < std::min(x.rows, (b + 1) * kBlock); ++r) {
      tree.query(r, kk, heap);
      for (std::size_t j = 0; j < kk; ++j) out[r * kk + j] = heap[j].second;
    }
  });
  return out;
}

Resampled smote(const Matrix& x, const std::vector<int>& y, int num_classes, int k_neighbors, std::uint64_t seed,
                int threads) {
  check_input(x, y, num_classes, "smote");
  if (k_neighbors < 1) throw ConfigError("smote: k_neighbors must be >= 1");
  std::vector<std::vector<std::size_t>> members(static_cast<std::size_t>(num_classes));
  for (std::size_t r = 0; r < y.size(); ++r) members[static_cast<std::size_t>(y[r])].push_back(r);
  std::size_t target = 0, majority = 0;
  for (std::size_t c = 0; c < members.size(); ++c)
    if (members[c].size() > target) {
      target = members[c].size();
      majority = c;
    }
  Resampled out;
  out.x = x;
  out.y = y;
  std::mt19937_64 rng(seed ^ 0x5a0b7e5ULL);
  for (std::size_t c = 0; c < members.size(); ++c) {
    const auto& rows = members[c];
    if (c == majority || rows.empty() || rows.size() >= target) continue;
    const std::size_t need = target - rows.size();
    const Matrix xc = take_rows(x, rows);
    const int k = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(k_neighbors), rows.size() - 1));
    const std::vector<std::size_t> nn = nearest_neighbours(xc, k, threads);
    const std::size_t first = out.x.rows;
    out.x.data.resize((first + need) * x.cols);
    out.x.rows = first + need;
    for (std::size_t i = 0; i < need; ++i) {
      const std::size_t a = uniform_below(rng, rows.size());
      std::size_t b = a;
      if (k > 0) b = nn[a * static_cast<std::size_t>(k) + uniform_below(rng, static_cast<std::uint64_t>(k))];
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      const double* pa = xc.row(a);
      const double* pb = xc.row(b);
      double* dst = out.x.row(first + i);
      for (std::size_t j = 0; j < x.cols; ++j) dst[j] = pa[j] + u * (pb[j] - pa[j]);
      out.y.push_back(static_cast<int>(c));
    }
    out.synthetic += need;
  }
  return out;
}

std::vector<std::size_t> tomek_link_rows(const Matrix& x, const std::vector<int>& y, int threads) {
  check_input(x, y, 0, "tomek links");
  const std::vector<std::size_t> nn = nearest_neighbours(x, 1, threads);
  std::vector<std::size_t> out;
  if (nn.empty()) return out;
  for (std::size_t r = 0; r < x.rows; ++r) {
    const std::size_t j = nn[r];
    if (y[j] != y[r] && nn[j] == r) out.push_back(r);
  }
  return out;
}

Resampled remove_tomek_links(const Matrix& x, const std::vector<int>& y, int threads) {
  const std::vector<std::size_t> linked = tomek_link_rows(x, y, threads);
  std::vector<std::uint8_t> drop(x.rows, 0);
  for (std::size_t r : linked) drop[r] = 1;
  std::vector<std::size_t> keep;
  keep.reserve(x.rows - linked.size());
  for (std::size_t r = 0; r < x.rows; ++r)
    if (!drop[r]) keep.push_back(r);
  Resampled out;
  out.x = take_rows(x, keep);
  for (std::size_t r : keep) out.y.push_back(y[r]);
  out.removed = linked.size();
  return out;
}

Resampled smote_tomek(const Matrix& x, const std::vector<int>& y, int num_classes, int k_neighbors, std::uint64_t seed,
                      int threads) {
  Resampled s = smote(x, y, num_classes, k_neighbors, seed, threads);
  Resampled t = remove_tomek_links(s.x, s.y, threads);
  t.synthetic = s.synthetic;
  return t;
}

Table resample_table(const Table& table, const std::string& method, int k_neighbors, std::uint64_t seed, int threads,
                     std::string* note) {
  if (method == "none") {
    if (note) *note = "none";
    return table;
  }
  const Labels& labels = table.label();
  for (std::size_t r = 0; r < labels.values.size(); ++r)
    if (labels.values[r] < 0) throw DataError(fmt::format("resampling: row {} has no label", r));
  const Matrix x = table.to_matrix();
  Resampled res;
  if (method == "smote") {
    res = smote(x, labels.values, labels.num_classes(), k_neighbors, seed, threads);
  } else if (method == "tomek") {
    res = remove_tomek_links(x, labels.values, threads);
  } else if (method == "smote-tomek") {
    res = smote_tomek(x, labels.values, labels.num_classes(), k_neighbors, seed, threads);
  } else {
    throw ConfigError("unknown resampling method '" + method + "'; valid: none, smote, tomek, smote-tomek");
  }
  Table out;
  for (std::size_t c = 0; c < x.cols; ++c) {
    std::vector<double> col(res.x.rows);
    for (std::size_t r = 0; r < res.x.rows; ++r) col[r] = res.x(r, c);
    out.add_column(Column::numeric(table.column(c).name(), std::move(col)));
  }
  Labels l;
  l.name = labels.name;
  l.classes = labels.classes;
  l.values = res.y;
  out.add_labels(std::move(l));
  if (note) {
    std::string counts;
    for (std::size_t c : out.label().class_counts()) counts += (counts.empty() ? "" : "/") + std::to_string(c);
    *note = fmt::format("{}: {} -> {} rows ({} synthetic, {} removed by Tomek links; per class {})", method, x.rows,
                        res.x.rows, res.synthetic, res.removed, counts);
  }
  return out;
}

}  // namespace opsbench
