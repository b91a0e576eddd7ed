#ifdef OPSBENCH_HAVE_TORCH

#include "encoder_training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/portable_random.h"

namespace opsbench::models {

TextClassifierImpl::TextClassifierImpl(const BertConfig& config, std::int64_t num_labels, std::int64_t numeric_dim,
                                       std::vector<std::int64_t> numeric_hidden)
    : numeric_dim_(numeric_dim) {
  bert = register_module("bert", BertModel(config));
  std::int64_t head_in = config.hidden_size;
  if (numeric_dim > 0) {
    numeric = torch::nn::Sequential();
    std::int64_t width = numeric_dim;
    for (std::int64_t h : numeric_hidden) {
      numeric->push_back(torch::nn::Linear(width, h));
      numeric->push_back(torch::nn::ReLU());
      width = h;
    }
    register_module("numeric", numeric);
    head_in += width;
  }
  dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  classifier = register_module("classifier", torch::nn::Linear(head_in, num_labels));
}

torch::Tensor TextClassifierImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask,
                                          const torch::Tensor& numeric_features) {
  torch::Tensor pooled = bert->pooled_output(ids, mask);
  if (numeric_dim_ > 0) {
    if (!numeric_features.defined()) throw ModelError("text classifier: numeric features missing");
    pooled = torch::cat({pooled, numeric->forward(numeric_features)}, 1);
  }
  return classifier->forward(dropout->forward(pooled));
}

namespace {

// Columns beyond the longest real sequence of the rows hold only padding.
std::int64_t longest(const torch::Tensor& mask) {
  return std::max<std::int64_t>(1, mask.sum(1).max().item<std::int64_t>());
}

struct Batch {
  torch::Tensor ids, mask, numeric, labels;
};

Batch slice(const EncodedRows& rows, const torch::Tensor& index, const torch::Device& device) {
  Batch b;
  torch::Tensor mask = rows.mask.index_select(0, index);
  const std::int64_t length = longest(mask);
  b.mask = mask.narrow(1, 0, length).to(device);
  b.ids = rows.ids.index_select(0, index).narrow(1, 0, length).to(device);
  if (rows.numeric.defined()) b.numeric = rows.numeric.index_select(0, index).to(device);
  if (rows.labels.defined()) b.labels = rows.labels.index_select(0, index).to(device);
  return b;
}

void check_rows(const EncodedRows& rows, const char* what) {
  if (rows.size() == 0) throw DataError(std::string("fine-tuning: the ") + what + " rows are empty");
  if (!rows.labels.defined() || rows.labels.size(0) != rows.size())
    throw DataError(std::string("fine-tuning: the ") + what + " rows have no labels");
}

// Snapshot of the trainable parameters (the frozen ones never change).
std::map<std::string, torch::Tensor> snapshot(TextClassifier& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model->named_parameters()) {
    if (p.value().requires_grad()) out[p.key()] = p.value().detach().clone();
  }
  return out;
}

void restore(TextClassifier& model, const std::map<std::string, torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    const auto it = saved.find(p.key());
    if (it != saved.end()) p.value().copy_(it->second);
  }
}

}  // namespace

double selection_f1(const torch::Tensor& probabilities, const torch::Tensor& labels, int num_classes) {
  const torch::Tensor predicted = probabilities.argmax(1).to(torch::kCPU).contiguous();
  const torch::Tensor truth = labels.to(torch::kCPU).to(torch::kLong).contiguous();
  std::vector<int> y_pred(predicted.data_ptr<std::int64_t>(), predicted.data_ptr<std::int64_t>() + predicted.numel());
  std::vector<int> y_true(truth.data_ptr<std::int64_t>(), truth.data_ptr<std::int64_t>() + truth.numel());
  return num_classes == 2 ? f1(y_true, y_pred, Average::kBinary) : f1(y_true, y_pred, Average::kMacro, num_classes);
}

torch::Tensor predict_probabilities(TextClassifier& model, const EncodedRows& rows, int batch_size,
                                    const torch::Device& device) {
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  const std::int64_t n = rows.size();
  for (std::int64_t begin = 0; begin < n; begin += batch_size) {
    const std::int64_t len = std::min<std::int64_t>(batch_size, n - begin);
    const Batch b = slice(rows, torch::arange(begin, begin + len, torch::kLong), device);
    parts.push_back(torch::softmax(model->forward(b.ids, b.mask, b.numeric).to(torch::kDouble), 1).to(torch::kCPU));
  }
  if (was_training) model->train();
  return parts.empty() ? torch::zeros({0, 0}, torch::kDouble) : torch::cat(parts, 0);
}

FineTuneResult fine_tune(TextClassifier& model, const EncodedRows& train, const EncodedRows* validation,
                         int num_classes, const FineTuneConfig& config, const GradientHook& on_gradients) {
  check_rows(train, "training");
  if (validation && validation->size() > 0) check_rows(*validation, "validation");
  const bool validate = validation && validation->size() > 0;
  const auto start = std::chrono::steady_clock::now();

  std::vector<torch::Tensor> decayed, undecayed;
  for (const auto& p : model->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    const std::string& name = p.key();
    const bool no_decay = name.size() >= 4 && (name.compare(name.size() - 4, 4, "bias") == 0 ||
                                               name.find("LayerNorm") != std::string::npos);
    (no_decay ? undecayed : decayed).push_back(p.value());
  }
  if (decayed.empty() && undecayed.empty()) throw ModelError("fine-tuning: no parameter requires a gradient");
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decayed.empty())
    groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay)));
  if (!undecayed.empty())
    groups.emplace_back(undecayed,
                        std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(config.lr).weight_decay(0)));
  torch::optim::AdamW optimizer(std::move(groups), torch::optim::AdamWOptions(config.lr));
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters())
    if (p.requires_grad()) trainable.push_back(p);

  const std::int64_t n = train.size();
  const std::int64_t steps_per_epoch = (n + config.batch_size - 1) / config.batch_size;
  const std::int64_t total_steps = std::max<std::int64_t>(1, steps_per_epoch * config.epochs);
  const auto warmup = static_cast<std::int64_t>(std::ceil(config.warmup_fraction * static_cast<double>(total_steps)));
  auto lr_at = [&](std::int64_t step) {
    if (step < warmup) return config.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
    return config.lr * std::max(0.0, static_cast<double>(total_steps - step) /
                                          static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup)));
  };

  std::mt19937_64 rng(config.seed ^ 0x62657274ULL);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  FineTuneResult result;
  std::map<std::string, torch::Tensor> best;
  double best_f1 = -1;
  int since_best = 0;
  std::int64_t step = 0;
  model->train();
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    portable_shuffle(order, rng);
    const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kLong).clone();
    double loss_sum = 0;
    for (std::int64_t begin = 0; begin < n; begin += config.batch_size, ++step) {
      const std::int64_t len = std::min<std::int64_t>(config.batch_size, n - begin);
      const Batch b = slice(train, perm.narrow(0, begin, len), config.device);
      for (auto& group : optimizer.param_groups()) group.options().set_lr(lr_at(step));
      optimizer.zero_grad();
      const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(b.ids, b.mask, b.numeric), b.labels);
      loss.backward();
      if (on_gradients) on_gradients(step);
      torch::nn::utils::clip_grad_norm_(trainable, 1.0);
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(len);
    }
    const double mean_loss = loss_sum / static_cast<double>(n);
    if (!std::isfinite(mean_loss))
      throw ModelError("fine-tuning diverged (non-finite loss) at epoch " + std::to_string(epoch) + "; lower lr");
    result.train_loss.push_back(mean_loss);
    result.epochs_run = epoch;
    if (!validate) {
      result.best_epoch = epoch;
      continue;
    }
    const double f = selection_f1(predict_probabilities(model, *validation, config.eval_batch_size, config.device),
                                  validation->labels, num_classes);
    result.validation_f1.push_back(f);
    if (f > best_f1) {
      best_f1 = f;
      result.best_epoch = epoch;
      best = snapshot(model);
      since_best = 0;
    } else if (config.patience > 0 && ++since_best >= config.patience) {
      break;
    }
  }
  if (validate && !best.empty()) restore(model, best);
  model->eval();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
