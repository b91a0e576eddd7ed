// Multinomial logistic regression by L-BFGS: see the header.
#include "opsbench/baselines/logistic_regression.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

#include "opsbench/baselines/decision_tree.h"  // check_classifier_input, class_weights
#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"

namespace opsbench {
namespace {

constexpr std::size_t kBlockRows = 2048;  // fixed gradient blocks: sums never depend on the threads
constexpr int kMemory = 10;
constexpr double kRelativeDecrease = 1e7 * 2.220446049250313e-16;

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Softmax of logits z (k entries) in place; returns log of the normaliser.
double softmax(double* z, std::size_t k) {
  const double top = *std::max_element(z, z + k);
  double sum = 0;
  for (std::size_t c = 0; c < k; ++c) {
    z[c] = std::exp(z[c] - top);
    sum += z[c];
  }
  for (std::size_t c = 0; c < k; ++c) z[c] /= sum;
  return top + std::log(sum);
}

// Two classes use scikit-learn's binary parameterisation (one weight vector, class 0's logit fixed
// at 0): with an L2 penalty, K = 2 softmax vectors would halve the effective penalty.
std::size_t first_free(std::size_t k) { return k == 2 ? 1 : 0; }
std::size_t parameter_rows(std::size_t k) { return k - first_free(k); }

// Logits of one row from the parameters (parameter_rows(k) x (d + 1)).
void logits(const double* w, const double* xr, std::size_t d, std::size_t k, double* z) {
  const std::size_t skip = first_free(k);
  for (std::size_t c = 0; c < skip; ++c) z[c] = 0.0;
  for (std::size_t c = skip; c < k; ++c) {
    const double* wc = w + (c - skip) * (d + 1);
    double v = wc[d];
    for (std::size_t j = 0; j < d; ++j) v += wc[j] * xr[j];
    z[c] = v;
  }
}

class Objective {
 public:
  Objective(const Matrix& x, const std::vector<int>& y, const std::vector<double>& s, std::size_t k, double c,
            int threads)
      : x_(x), y_(y), s_(s), k_(k), c_(c), threads_(threads) {
    total_weight_ = std::accumulate(s.begin(), s.end(), 0.0);
  }

  // Loss at w (k x (d+1)), gradient into g.
  double operator()(const std::vector<double>& w, std::vector<double>& g) const {
    const std::size_t d = x_.cols, width = d + 1;
    const std::size_t blocks = (x_.rows + kBlockRows - 1) / kBlockRows;
    std::vector<double> block_loss(blocks, 0.0);
    std::vector<std::vector<double>> block_grad(blocks);
    detail::parallel_blocks(blocks, threads_, [&](std::size_t b) {
      std::vector<double>& gb = block_grad[b];
      gb.assign(w.size(), 0.0);
      std::vector<double> z(k_);
      double loss = 0;
      const std::size_t end = std::min(x_.rows, (b + 1) * kBlockRows);
      for (std::size_t r = b * kBlockRows; r < end; ++r) {
        const double* xr = x_.row(r);
        logits(w.data(), xr, d, k_, z.data());
        const auto yr = static_cast<std::size_t>(y_[r]);
        const double zy = z[yr];
        const double lse = softmax(z.data(), k_);
        const double sr = s_[r];
        loss += sr * (lse - zy);
        for (std::size_t c = first_free(k_); c < k_; ++c) {
          const double e = sr * (z[c] - (c == yr ? 1.0 : 0.0));
          double* gc = gb.data() + (c - first_free(k_)) * width;
          for (std::size_t j = 0; j < d; ++j) gc[j] += e * xr[j];
          gc[d] += e;
        }
      }
      block_loss[b] = loss;
    });
    g.assign(w.size(), 0.0);
    double loss = 0;
    for (std::size_t b = 0; b < blocks; ++b) {
      loss += block_loss[b];
      for (std::size_t i = 0; i < g.size(); ++i) g[i] += block_grad[b][i];
    }
    const double inv = 1.0 / total_weight_;
    const double reg = 1.0 / (c_ * total_weight_);
    loss *= inv;
    for (std::size_t c = 0; c < k_ - first_free(k_); ++c) {
      for (std::size_t j = 0; j < width; ++j) {
        const std::size_t i = c * width + j;
        g[i] *= inv;
        if (j < d) {
          g[i] += reg * w[i];
          loss += 0.5 * reg * w[i] * w[i];
        }
      }
    }
    return loss;
  }

 private:
  const Matrix& x_;
  const std::vector<int>& y_;
  const std::vector<double>& s_;
  std::size_t k_;
  double c_;
  int threads_;
  double total_weight_ = 0;
};

double max_abs(const std::vector<double>& g) {
  double m = 0;
  for (double v : g) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace

std::vector<OptionDecl> LogisticRegressionOptions::declarations() {
  return {
      OptionDecl::real("C", 1.0, 1e-12, 1e12, "inverse L2 regularisation strength (scikit-learn's C)"),
      OptionDecl::real("tol", 1e-4, 1e-16, 1.0, "stop when the largest absolute gradient entry is <= tol"),
      OptionDecl::integer("max_iter", 100, 1, 1000000, "maximum L-BFGS iterations"),
      OptionDecl::choice("class_weight", "none", {"none", "balanced"},
                         "row weights per class: none, or balanced = n / (classes * count)"),
  };
}

LogisticRegressionOptions LogisticRegressionOptions::from(const Options& options) {
  LogisticRegressionOptions o;
  o.c = options.get_double("C");
  o.tol = options.get_double("tol");
  o.max_iter = static_cast<int>(options.get_int("max_iter"));
  o.class_weight = options.get_string("class_weight");
  return o;
}

LogisticRegression::LogisticRegression(LogisticRegressionOptions options) : options_(std::move(options)) {
  if (!(options_.c > 0)) throw ConfigError("logreg: C must be > 0");
}

void LogisticRegression::fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) {
  fit_matrix(train.to_matrix(), labels, num_classes, ctx);
}

Matrix LogisticRegression::predict_proba(const Table& rows, const Context& ctx) const {
  return predict_proba_matrix(rows.to_matrix(), ctx);
}

void LogisticRegression::fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes,
                                    const Context& ctx) {
  check_classifier_input(x, labels, num_classes, "logreg");
  const auto cw = class_weights(options_.class_weight, labels, num_classes);
  std::vector<double> present(static_cast<std::size_t>(num_classes), 0);
  for (int y : labels) present[static_cast<std::size_t>(y)] = 1;
  if (std::accumulate(present.begin(), present.end(), 0.0) < 2)
    throw DataError("logreg fit: the training labels hold a single class; logistic regression needs two");
  std::vector<double> s(x.rows);
  for (std::size_t r = 0; r < x.rows; ++r) s[r] = cw[static_cast<std::size_t>(labels[r])];

  const auto k = static_cast<std::size_t>(num_classes);
  const Objective objective(x, labels, s, k, options_.c, ctx.threads);
  std::vector<double> w(parameter_rows(k) * (x.cols + 1), 0.0), g, w_new, g_new;
  double f = objective(w, g);
  std::deque<std::pair<std::vector<double>, std::vector<double>>> pairs;  // (s, y)
  converged_ = max_abs(g) <= options_.tol;
  iterations_ = 0;
  while (!converged_ && iterations_ < options_.max_iter) {
    // Two-loop recursion for d = -H g.
    std::vector<double> q = g;
    std::vector<double> alpha(pairs.size());
    for (std::size_t i = pairs.size(); i-- > 0;) {
      const auto& [si, yi] = pairs[i];
      alpha[i] = dot(si, q) / dot(yi, si);
      for (std::size_t j = 0; j < q.size(); ++j) q[j] -= alpha[i] * yi[j];
    }
    const double gamma =
        pairs.empty() ? 1.0 / std::max(1.0, std::sqrt(dot(g, g)))
                      : dot(pairs.back().first, pairs.back().second) / dot(pairs.back().second, pairs.back().second);
    for (double& v : q) v *= gamma;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& [si, yi] = pairs[i];
      const double beta = dot(yi, q) / dot(yi, si);
      for (std::size_t j = 0; j < q.size(); ++j) q[j] += si[j] * (alpha[i] - beta);
    }
    std::vector<double> dir(q.size());
    for (std::size_t j = 0; j < q.size(); ++j) dir[j] = -q[j];
    double slope = dot(dir, g);
    if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
      pairs.clear();
      for (std::size_t j = 0; j < q.size(); ++j) dir[j] = -g[j] / std::max(1.0, std::sqrt(dot(g, g)));
      slope = dot(dir, g);
    }
    double step = 1.0;
    double f_new = 0;
    bool accepted = false;
    w_new.resize(w.size());
    for (int tries = 0; tries < 50; ++tries) {
      for (std::size_t j = 0; j < w.size(); ++j) w_new[j] = w[j] + step * dir[j];
      f_new = objective(w_new, g_new);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    ++iterations_;
    if (!accepted) break;  // no decrease possible at machine precision: stop, not converged
    std::vector<double> sv(w.size()), yv(w.size());
    for (std::size_t j = 0; j < w.size(); ++j) {
      sv[j] = w_new[j] - w[j];
      yv[j] = g_new[j] - g[j];
    }
    if (dot(sv, yv) > 1e-12 * std::max(1e-300, dot(yv, yv))) {
      pairs.emplace_back(std::move(sv), std::move(yv));
      if (pairs.size() > static_cast<std::size_t>(kMemory)) pairs.pop_front();
    }
    w.swap(w_new);
    g.swap(g_new);
    // scipy's L-BFGS-B (scikit-learn's solver) also stops, reporting convergence, when the relative
    // decrease of the loss is <= factr * eps = 1e7 * 2.2e-16.
    const double relative = (f - f_new) / std::max({std::abs(f), std::abs(f_new), 1.0});
    f = f_new;
    converged_ = max_abs(g) <= options_.tol || relative <= kRelativeDecrease;
  }
  if (!std::isfinite(f)) throw ModelError("logreg fit: the loss is not finite");
  coef_ = std::move(w);
  classes_ = num_classes;
  num_features_ = x.cols;
  final_loss_ = f;
}

Matrix LogisticRegression::predict_proba_matrix(const Matrix& x, const Context& ctx) const {
  if (coef_.empty()) throw ModelError("logreg: predict_proba() called before fit()");
  if (x.cols != num_features_)
    throw DataError(
        fmt::format("logreg predict: {} feature columns, but the model was fitted on {}", x.cols, num_features_));
  require_finite_rows(x, "logreg");
  const auto k = static_cast<std::size_t>(classes_);
  const std::size_t d = num_features_;
  Matrix out(x.rows, k);
  detail::parallel_blocks((x.rows + kBlockRows - 1) / kBlockRows, ctx.threads, [&](std::size_t b) {
    const std::size_t end = std::min(x.rows, (b + 1) * kBlockRows);
    for (std::size_t r = b * kBlockRows; r < end; ++r) {
      double* o = out.row(r);
      const double* xr = x.row(r);
      logits(coef_.data(), xr, d, k, o);
      softmax(o, k);
    }
  });
  return out;
}

std::map<std::string, std::string> LogisticRegression::diagnostic_info() const {
  return {{"logreg.converged", converged_ ? "true" : "false"},
          {"logreg.iterations", std::to_string(iterations_)},
          {"logreg.loss", format_double(final_loss_)}};
}

}  // namespace opsbench
