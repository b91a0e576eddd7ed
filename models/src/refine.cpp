// Refine (Algorithm 1 of the Refine paper) on the VAE of vae.h.
//
// One iteration i on the current training rows D_i (D_0 = every training row):
//   1. initial training: a fresh VAE trained `epochs` epochs on D_i; its per-epoch training MAE is
//      the curve;
//   2. knee: Kneedle (convex, decreasing, sensitivity `knee_sensitivity`) on that curve. No knee
//      (flat curve): no_knee=max_epochs uses `epochs` (declared, lineage says knee_found 0);
//      no_knee=error throws ModelError;
//   3. to the knee: a fresh VAE trained knee epochs on D_i; rows of D_i whose MAE is above the
//      `drop_percentile` (95) percentile are removed: D_{i+1};
//   4. retraining: a fresh VAE trained `retrain_epochs` (0 = epochs) on D_{i+1}; its 99th
//      percentile of MAE on D_{i+1} is the threshold, applied to evaluation rows for the lineage;
//   5. stop when: `iterations` are done; the evaluation macro F1 reaches `target_f1` (> 0, only when
//      evaluation rows were given); the relative Wasserstein-1 distance between the MAE
//      distributions on D_{i+1} of this and the previous iteration falls below `stop_wasserstein`
//      (> 0; label-free); or the next removal would leave fewer than `min_train` rows (the iteration
//      is then not applied: "refinement removes every sample" stops, it never trains on nothing).
// The model of the last applied iteration scores. Seeds of every training derive from (ctx.seed,
// iteration, stage), so a resumed run equals an uninterrupted one.
//
// Checkpoints (checkpoint_dir non-empty): after each finished iteration the rows left, the lineage
// and the retrained model are written to <checkpoint_dir>/refine-<fingerprint>/ (state.txt,
// model.pt; written to a temporary name, then renamed). The fingerprint hashes the training matrix,
// the seed and every option except iterations, target_f1, stop_wasserstein and checkpoint_dir, so
// one directory serves many cells, and a run with more iterations continues a shorter one. fit()
// resumes after the last finished iteration; an unfinished iteration is redone from its start.
#include "vae_methods.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/statistics.h"
#include "opsbench/models/kneedle.h"

#ifdef OPSBENCH_HAVE_TORCH
#include "vae.h"
#endif

namespace opsbench::models {

std::vector<OptionDecl> refine_declarations() {
  auto decls = vae_declarations();
  decls[0].default_value = "50";
  decls.push_back(OptionDecl::integer("iterations", 20, 1, 10000, "maximum refinement iterations"));
  decls.push_back(OptionDecl::integer("retrain_epochs", 0, 0, 100000, "epochs of the retraining on the rows left; 0 = epochs"));
  decls.push_back(OptionDecl::real("drop_percentile", 95, 0, 100, "training rows with MAE above this percentile are removed"));
  decls.push_back(OptionDecl::real("threshold_percentile", 99, 0, 100, "lineage threshold: percentile of the MAE of the rows left"));
  decls.push_back(OptionDecl::real("knee_sensitivity", 1.0, 0, 100, "Kneedle S"));
  decls.push_back(OptionDecl::integer("knee_smoothing", 1, 1, 1000, "moving-average window on the curve before Kneedle; 1 = none"));
  decls.push_back(OptionDecl::choice("no_knee", "max_epochs", {"max_epochs", "error"},
                                     "no knee in the curve (flat): train to `epochs`, or fail"));
  decls.push_back(OptionDecl::real("target_f1", 0, 0, 1, "stop when the evaluation macro F1 reaches it; 0 = off"));
  decls.push_back(OptionDecl::real("stop_wasserstein", 0, 0, 1e6,
                                   "label-free stop: relative W1 between successive MAE distributions below it; 0 = off"));
  decls.push_back(OptionDecl::integer("min_train", 16, 2, 1 << 30, "never train on fewer rows: stop refining instead"));
  decls.push_back(OptionDecl::string("checkpoint_dir", "", "directory for per-iteration checkpoints (resume); empty = off"));
  return decls;
}

#ifdef OPSBENCH_HAVE_TORCH
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct IterationLog {
  int iteration = 0;  // 1-based
  std::size_t before = 0, left = 0;
  std::vector<std::size_t> removed;  // training row indices (of the table given to fit)
  double anomaly_ratio_left = NAN;   // from training labels: evaluation only
  int knee_epoch = 0;
  bool knee_found = false;
  double drop_threshold = 0, threshold = 0, wasserstein = NAN;
  double precision = NAN, recall = NAN, f1 = NAN;
  double t_initial = 0, t_knee = 0, t_retrain = 0, t_inference = 0;
};

// scipy.stats.wasserstein_distance of two samples: integral of |F_a - F_b|.
double wasserstein1(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<double> all(a);
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  double w = 0;
  for (std::size_t k = 0; k + 1 < all.size(); ++k) {
    const double fa = static_cast<double>(std::upper_bound(a.begin(), a.end(), all[k]) - a.begin()) / static_cast<double>(a.size());
    const double fb = static_cast<double>(std::upper_bound(b.begin(), b.end(), all[k]) - b.begin()) / static_cast<double>(b.size());
    w += std::fabs(fa - fb) * (all[k + 1] - all[k]);
  }
  return w;
}

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

std::string fmt17(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class RefineDetector : public Detector {
 public:
  explicit RefineDetector(const Options& o) : options_(o) {
    config_.epochs = static_cast<int>(o.get_int("epochs"));
    config_.batch_size = static_cast<int>(o.get_int("batch_size"));
    config_.learning_rate = o.get_double("lr");
    config_.clip = o.get_double("clip");
    config_.beta = o.get_double("beta");
    retrain_epochs_ = o.get_int("retrain_epochs") > 0 ? static_cast<int>(o.get_int("retrain_epochs")) : config_.epochs;
    knee_.sensitivity = o.get_double("knee_sensitivity");
    knee_.smoothing_window = static_cast<int>(o.get_int("knee_smoothing"));
  }

  void set_evaluation_rows(const Table& rows) override {
    if (!rows.has_labels() || rows.num_rows() == 0) return;
    eval_x_ = rows.to_matrix();
    eval_y_ = rows.label().values;
  }

  void fit(const Table& train, const Context& ctx) override {
    const Matrix x = train.to_matrix();
    const std::size_t min_train = static_cast<std::size_t>(options_.get_int("min_train"));
    if (x.rows < min_train) {
      throw DataError("refine: " + std::to_string(x.rows) + " training rows, fewer than min_train=" + std::to_string(min_train));
    }
    device_ = ctx.device == Device::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    const torch::Tensor all = to_tensor(x, device_);
    const torch::Tensor eval = eval_x_.rows > 0 ? to_tensor(eval_x_, device_) : torch::Tensor();
    std::vector<int> train_labels;
    if (train.has_labels()) train_labels = train.label().values;

    log_.clear();
    stop_reason_ = "iterations";
    resumed_from_ = 0;
    std::vector<std::size_t> rows(x.rows);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    std::vector<double> previous_errors;
    model_ = Vae(nullptr);
    const std::string dir = checkpoint_path(x, ctx.seed);
    if (!dir.empty() && load_checkpoint(dir, x.cols, rows, previous_errors)) resumed_from_ = static_cast<int>(log_.size());
    if (!model_ || stop_reason_ == "iterations") stop_reason_.clear();

    const int max_iter = static_cast<int>(options_.get_int("iterations"));
    const double drop_pct = options_.get_double("drop_percentile");
    const double thr_pct = options_.get_double("threshold_percentile");
    for (int it = static_cast<int>(log_.size()) + 1; it <= max_iter && stop_reason_.empty(); ++it) {
      IterationLog lg;
      lg.iteration = it;
      lg.before = rows.size();
      const torch::Tensor d_i = subset(all, rows);
      const std::uint64_t base = ctx.seed * 1000003ULL + static_cast<std::uint64_t>(it) * 16;

      auto t0 = Clock::now();
      Vae first = make_vae(d_i.size(1), options_.get_int("hidden"), options_.get_int("latent"), base + 1, device_);
      VaeTrainConfig c = config_;
      c.seed = base + 2;
      const std::vector<double> curve = train_vae(first, d_i, c);
      lg.t_initial = since(t0);

      const auto knee = find_knee(curve, knee_);
      lg.knee_found = knee.has_value();
      if (!knee && options_.get_string("no_knee") == "error") {
        throw ModelError("refine: iteration " + std::to_string(it) + ": the training curve has no knee (flat curve); "
                         "no_knee=max_epochs trains to `epochs` instead");
      }
      lg.knee_epoch = knee ? static_cast<int>(knee->x) : config_.epochs;
      t0 = Clock::now();
      Vae to_knee = make_vae(d_i.size(1), options_.get_int("hidden"), options_.get_int("latent"), base + 3, device_);
      c.epochs = lg.knee_epoch;
      c.seed = base + 4;
      train_vae(to_knee, d_i, c);
      const std::vector<double> errors = reconstruction_mae(to_knee, d_i);
      lg.drop_threshold = percentile_linear(errors, drop_pct);
      std::vector<std::size_t> kept;
      for (std::size_t k = 0; k < rows.size(); ++k) (errors[k] > lg.drop_threshold ? lg.removed : kept).push_back(rows[k]);
      lg.t_knee = since(t0);
      if (kept.size() < min_train) {
        stop_reason_ = "min_train";  // the removal would leave too few rows: not applied
        break;
      }

      t0 = Clock::now();
      const torch::Tensor d_next = subset(all, kept);
      Vae model = make_vae(d_next.size(1), options_.get_int("hidden"), options_.get_int("latent"), base + 5, device_);
      c.epochs = retrain_epochs_;
      c.seed = base + 6;
      train_vae(model, d_next, c);
      lg.t_retrain = since(t0);

      t0 = Clock::now();
      const std::vector<double> kept_errors = reconstruction_mae(model, d_next);
      lg.threshold = percentile_linear(kept_errors, thr_pct);
      if (eval.defined()) {
        std::vector<int> pred;
        for (double e : reconstruction_mae(model, eval)) pred.push_back(e > lg.threshold ? 1 : 0);
        lg.precision = precision(eval_y_, pred, Average::kMacro);
        lg.recall = recall(eval_y_, pred, Average::kMacro);
        lg.f1 = f1(eval_y_, pred, Average::kMacro);
      }
      lg.t_inference = since(t0);
      lg.left = kept.size();
      if (!train_labels.empty()) {
        std::size_t anomalous = 0;
        for (std::size_t r : kept) anomalous += train_labels[r] == 1 ? 1 : 0;
        lg.anomaly_ratio_left = static_cast<double>(anomalous) / static_cast<double>(kept.size());
      }
      if (!previous_errors.empty()) {
        double mean = 0;
        for (double e : previous_errors) mean += e / static_cast<double>(previous_errors.size());
        lg.wasserstein = wasserstein1(previous_errors, kept_errors) / (mean > 0 ? mean : 1.0);
      }
      rows = std::move(kept);
      previous_errors = kept_errors;
      model_ = model;
      threshold_ = lg.threshold;
      log_.push_back(lg);

      const double target = options_.get_double("target_f1");
      const double w_bound = options_.get_double("stop_wasserstein");
      if (target > 0 && std::isfinite(lg.f1) && lg.f1 >= target) stop_reason_ = "target_f1";
      if (w_bound > 0 && std::isfinite(lg.wasserstein) && lg.wasserstein < w_bound) stop_reason_ = "stop_wasserstein";
      if (!dir.empty()) save_checkpoint(dir, rows, previous_errors);
    }
    if (stop_reason_.empty()) stop_reason_ = "iterations";
    if (!model_) {
      // Not even one iteration could be applied (min_train): score with a VAE on every row.
      model_ = make_vae(all.size(1), options_.get_int("hidden"), options_.get_int("latent"), ctx.seed + 7, device_);
      VaeTrainConfig c = config_;
      c.seed = ctx.seed + 8;
      train_vae(model_, all, c);
      threshold_ = percentile_linear(reconstruction_mae(model_, all), options_.get_double("threshold_percentile"));
    }
    if (!dir.empty()) save_checkpoint(dir, rows, previous_errors);
  }

  std::vector<double> score(const Table& rows, const Context& /*ctx*/) const override {
    if (!model_) throw ModelError("refine: score() before fit()");
    return reconstruction_mae(model_, to_tensor(rows.to_matrix(), device_));
  }

  std::size_t model_size_bytes() const override { return model_ ? parameter_bytes(model_) : 0; }

  std::vector<Figure> diagnostics() const override;
  std::map<std::string, std::string> diagnostic_info() const override;

 private:
  torch::Tensor subset(const torch::Tensor& all, const std::vector<std::size_t>& rows) const {
    std::vector<std::int64_t> idx(rows.begin(), rows.end());
    return all.index_select(0, torch::tensor(idx, torch::kLong).to(device_)).contiguous();
  }

  std::string checkpoint_path(const Matrix& x, std::uint64_t seed) const;
  bool load_checkpoint(const std::string& dir, std::size_t cols, std::vector<std::size_t>& rows, std::vector<double>& errors);
  void save_checkpoint(const std::string& dir, const std::vector<std::size_t>& rows, const std::vector<double>& errors) const;

  Options options_;
  VaeTrainConfig config_;
  int retrain_epochs_ = 0;
  KneedleOptions knee_;
  Matrix eval_x_;
  std::vector<int> eval_y_;
  torch::Device device_ = torch::kCPU;
  mutable Vae model_{nullptr};
  double threshold_ = 0;
  std::vector<IterationLog> log_;
  std::string stop_reason_;
  int resumed_from_ = 0;
};

std::vector<Figure> RefineDetector::diagnostics() const {
  std::vector<Figure> out;
  const std::string src = "Refine lineage (evaluation rows: threshold = p" + format_double(options_.get_double("threshold_percentile")) +
                          " of the MAE of the training rows left)";
  auto add = [&](const std::string& name, double v, const std::string& unit, const std::string& source) {
    Figure f{name, v, unit, source, std::isfinite(v), ""};
    if (!f.available) f.reason = "no labels for it (evaluation rows or training labels absent, or first iteration)";
    out.push_back(f);
  };
  double total[4] = {0, 0, 0, 0};
  for (const auto& lg : log_) {
    const std::string p = "refine.iter." + std::to_string(lg.iteration) + ".";
    add(p + "f1_macro", lg.f1, "", src);
    add(p + "precision_macro", lg.precision, "", src);
    add(p + "recall_macro", lg.recall, "", src);
    add(p + "anomaly_ratio_left", lg.anomaly_ratio_left, "fraction", "training labels of the rows left (evaluation only)");
    add(p + "samples_left", static_cast<double>(lg.left), "rows", "Refine lineage");
    add(p + "removed", static_cast<double>(lg.removed.size()), "rows", "Refine lineage");
    add(p + "knee_epoch", lg.knee_epoch, "epochs", lg.knee_found ? "Kneedle on the per-epoch training MAE" : "no knee: epochs");
    add(p + "drop_threshold", lg.drop_threshold, "MAE", "drop percentile of the MAE of the model trained to the knee");
    add(p + "threshold", lg.threshold, "MAE", "threshold percentile of the MAE of the retrained model");
    add(p + "wasserstein", lg.wasserstein, "relative", "W1 between successive MAE distributions / previous mean");
    const double t[4] = {lg.t_initial, lg.t_knee, lg.t_retrain, lg.t_inference};
    const char* names[4] = {"initial_training", "to_knee", "retraining", "inference"};
    for (int s = 0; s < 4; ++s) {
      add(p + "time." + names[s], t[s], "s", "steady_clock");
      total[s] += t[s];
    }
  }
  const char* names[4] = {"initial_training", "to_knee", "retraining", "inference"};
  for (int s = 0; s < 4; ++s) {
    add(std::string("refine.stage.") + names[s], total[s], "s", "steady_clock, sum over the iterations run in this fit");
  }
  add("refine.iterations", static_cast<double>(log_.size()), "iterations", "Refine lineage");
  add("refine.threshold", threshold_, "MAE", "threshold of the final model");
  return out;
}

std::map<std::string, std::string> RefineDetector::diagnostic_info() const {
  std::map<std::string, std::string> info;
  info["refine.stop_reason"] = stop_reason_;
  info["refine.resumed_after_iteration"] = std::to_string(resumed_from_);
  for (const auto& lg : log_) {
    std::string ids;
    for (std::size_t r : lg.removed) ids += (ids.empty() ? "" : ",") + std::to_string(r);
    info["refine.iter." + std::to_string(lg.iteration) + ".removed_ids"] = ids;
  }
  return info;
}

std::string RefineDetector::checkpoint_path(const Matrix& x, std::uint64_t seed) const {
  const std::string& dir = options_.get_string("checkpoint_dir");
  if (dir.empty()) return "";
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv1a(h, x.data.data(), x.data.size() * sizeof(double));
  h = fnv1a(h, &x.cols, sizeof x.cols);
  h = fnv1a(h, &seed, sizeof seed);
  for (const auto& [key, value] : options_.values()) {
    if (key == "iterations" || key == "target_f1" || key == "stop_wasserstein" || key == "checkpoint_dir") continue;
    h = fnv1a(h, key.data(), key.size());
    h = fnv1a(h, value.data(), value.size());
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return (std::filesystem::path(dir) / ("refine-" + std::string(hex))).string();
}

void RefineDetector::save_checkpoint(const std::string& dir, const std::vector<std::size_t>& rows,
                                     const std::vector<double>& errors) const {
  std::filesystem::create_directories(dir);
  const auto path = std::filesystem::path(dir);
  torch::save(model_, (path / "model.pt.tmp").string());
  std::ofstream out(path / "state.txt.tmp");
  out << "opsbench-refine-checkpoint 1\nstop " << (stop_reason_.empty() ? "-" : stop_reason_) << "\nthreshold "
      << fmt17(threshold_) << "\nrows";
  for (std::size_t r : rows) out << ' ' << r;
  out << "\nerrors";
  for (double e : errors) out << ' ' << fmt17(e);
  out << '\n';
  for (const auto& lg : log_) {
    out << "iter " << lg.iteration << ' ' << lg.before << ' ' << lg.left << ' ' << fmt17(lg.anomaly_ratio_left) << ' '
        << lg.knee_epoch << ' ' << lg.knee_found << ' ' << fmt17(lg.drop_threshold) << ' ' << fmt17(lg.threshold) << ' '
        << fmt17(lg.wasserstein) << ' ' << fmt17(lg.precision) << ' ' << fmt17(lg.recall) << ' ' << fmt17(lg.f1) << ' '
        << fmt17(lg.t_initial) << ' ' << fmt17(lg.t_knee) << ' ' << fmt17(lg.t_retrain) << ' ' << fmt17(lg.t_inference)
        << "\nremoved";
    for (std::size_t r : lg.removed) out << ' ' << r;
    out << '\n';
  }
  out.close();
  if (!out) throw Error("refine: cannot write checkpoint in " + dir);
  // model first, state last: a state file always names a model that is complete on disk.
  std::filesystem::rename(path / "model.pt.tmp", path / "model.pt");
  std::filesystem::rename(path / "state.txt.tmp", path / "state.txt");
}

bool RefineDetector::load_checkpoint(const std::string& dir, std::size_t cols, std::vector<std::size_t>& rows,
                                     std::vector<double>& errors) {
  const auto path = std::filesystem::path(dir);
  std::ifstream in(path / "state.txt");
  if (!in) return false;
  auto bad = [&](const std::string& what) {
    return DataError((path / "state.txt").string(), 0, 0, "corrupt Refine checkpoint: " + what + "; delete the folder to start over");
  };
  std::string line, word;
  if (!std::getline(in, line) || line != "opsbench-refine-checkpoint 1") throw bad("unknown header");
  std::vector<IterationLog> log;
  std::string stop;
  double threshold = 0;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    s >> word;
    if (word == "stop") {
      s >> stop;
    } else if (word == "threshold") {
      s >> threshold;
    } else if (word == "rows") {
      rows.clear();
      for (std::size_t r; s >> r;) rows.push_back(r);
    } else if (word == "errors") {
      errors.clear();
      for (std::string e; s >> e;) errors.push_back(std::strtod(e.c_str(), nullptr));
    } else if (word == "iter") {
      IterationLog lg;
      std::string v[13];
      s >> lg.iteration >> lg.before >> lg.left;
      for (auto& t : v) s >> t;
      if (!s) throw bad("short iteration line");
      auto d = [&](int k) { return std::strtod(v[k].c_str(), nullptr); };
      lg.anomaly_ratio_left = d(0);
      lg.knee_epoch = static_cast<int>(d(1));
      lg.knee_found = v[2] == "1";
      lg.drop_threshold = d(3), lg.threshold = d(4), lg.wasserstein = d(5);
      lg.precision = d(6), lg.recall = d(7), lg.f1 = d(8);
      lg.t_initial = d(9), lg.t_knee = d(10), lg.t_retrain = d(11), lg.t_inference = d(12);
      log.push_back(lg);
    } else if (word == "removed") {
      if (log.empty()) throw bad("removed before iter");
      for (std::size_t r; s >> r;) log.back().removed.push_back(r);
    }
  }
  if (log.empty()) return false;
  model_ = make_vae(static_cast<std::int64_t>(cols), options_.get_int("hidden"), options_.get_int("latent"), 0, device_);
  torch::load(model_, (path / "model.pt").string());
  model_->to(device_);
  model_->eval();
  log_ = std::move(log);
  stop_reason_ = stop == "-" ? "" : stop;
  threshold_ = threshold;
  return true;
}

}  // namespace

std::unique_ptr<Detector> make_refine_detector(const Options& options) {
  return std::make_unique<RefineDetector>(options);
}
#endif

}  // namespace opsbench::models
