// Structured pruning of the MLP intermediate neurons (see pruning.h).
#ifdef OPSBENCH_HAVE_TORCH

#include "pruning.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "lora.h"
#include "nf4.h"
#include "opsbench/core/error.h"

namespace opsbench::models {

namespace {

std::string slot_name(std::int64_t layer, Slot slot) {
  return "encoder.layer." + std::to_string(layer) + "." + slot_path(slot);
}

// The MLP slot kinds pruning understands; ConfigError for the others.
enum class Kind { kDense, kNf4 };
Kind slot_kind(const Projection& p, std::int64_t layer, Slot slot) {
  if (std::dynamic_pointer_cast<DenseProjectionImpl>(p)) return Kind::kDense;
  if (std::dynamic_pointer_cast<Nf4ProjectionImpl>(p)) return Kind::kNf4;
  if (std::dynamic_pointer_cast<LoraProjectionImpl>(p)) {
    throw ConfigError("pruning: " + slot_name(layer, slot) +
                      " holds LoRA adapters; merge them (merge_lora) or adapt only attention slots");
  }
  throw ConfigError("pruning: " + slot_name(layer, slot) + " is neither a dense nor an NF4 projection");
}

}  // namespace

const char* neuron_importance_name(NeuronImportance importance) {
  switch (importance) {
    case NeuronImportance::kMagnitude:
      return "magnitude";
    case NeuronImportance::kWeightGradient:
      return "weight_gradient";
  }
  return "?";
}

NeuronImportance parse_neuron_importance(const std::string& name) {
  if (name == "magnitude") return NeuronImportance::kMagnitude;
  if (name == "weight_gradient") return NeuronImportance::kWeightGradient;
  throw ConfigError("unknown pruning importance '" + name + "', candidates: magnitude, weight_gradient");
}

std::vector<torch::Tensor> magnitude_importance(const BertModel& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> scores;
  for (std::int64_t layer = 0; layer < model->num_layers(); ++layer) {
    const torch::Tensor w_in = model->projection(layer, Slot::kIntermediate)->effective_weight().to(torch::kCPU);
    const torch::Tensor w_out = model->projection(layer, Slot::kOutput)->effective_weight().to(torch::kCPU);
    scores.push_back((w_in.square().sum(1) + w_out.square().sum(0)).sqrt());
  }
  return scores;
}

GradientImportance::GradientImportance(BertModel model) : model_(std::move(model)) {
  const std::int64_t layers = model_->num_layers();
  dense_scores_.resize(static_cast<std::size_t>(layers));
  for (std::int64_t layer = 0; layer < layers; ++layer) {
    const Projection in = model_->projection(layer, Slot::kIntermediate);
    const Projection out = model_->projection(layer, Slot::kOutput);
    const Kind kin = slot_kind(in, layer, Slot::kIntermediate), kout = slot_kind(out, layer, Slot::kOutput);
    if (kin != kout) {
      throw ConfigError("pruning: layer " + std::to_string(layer) + " mixes dense and NF4 MLP slots");
    }
    if (kin == Kind::kNf4) {
      std::dynamic_pointer_cast<Nf4ProjectionImpl>(in)->set_capture(true);
      std::dynamic_pointer_cast<Nf4ProjectionImpl>(out)->set_capture(true);
      continue;
    }
    for (Slot slot : {Slot::kIntermediate, Slot::kOutput}) {
      if (!std::dynamic_pointer_cast<DenseProjectionImpl>(model_->projection(layer, slot))->weight.requires_grad()) {
        throw ConfigError("pruning: weight x gradient importance needs the gradient of " + slot_name(layer, slot) +
                          ".weight, which is frozen; train it, quantise the base (NF4 slots capture their "
                          "gradient) or use magnitude importance");
      }
    }
    dense_scores_[static_cast<std::size_t>(layer)] = torch::zeros({in->out_features()}, torch::kFloat);
  }
}

GradientImportance::~GradientImportance() {
  for (std::int64_t layer = 0; layer < model_->num_layers(); ++layer) {
    for (Slot slot : {Slot::kIntermediate, Slot::kOutput}) {
      if (auto nf4 = std::dynamic_pointer_cast<Nf4ProjectionImpl>(model_->projection(layer, slot))) {
        nf4->set_capture(false);
      }
    }
  }
}

void GradientImportance::accumulate() {
  torch::NoGradGuard no_grad;
  for (std::int64_t layer = 0; layer < model_->num_layers(); ++layer) {
    torch::Tensor& acc = dense_scores_[static_cast<std::size_t>(layer)];
    if (!acc.defined()) continue;
    auto in = std::dynamic_pointer_cast<DenseProjectionImpl>(model_->projection(layer, Slot::kIntermediate));
    auto out = std::dynamic_pointer_cast<DenseProjectionImpl>(model_->projection(layer, Slot::kOutput));
    if (!in || !out || in->out_features() != acc.size(0)) {
      throw ModelError("pruning: the MLP slots of layer " + std::to_string(layer) +
                       " changed since the importance was set up (one GradientImportance per step)");
    }
    for (const auto& [p, slot] : {std::pair{in, Slot::kIntermediate}, std::pair{out, Slot::kOutput}}) {
      if (!p->weight.grad().defined()) {
        throw ModelError("pruning: " + slot_name(layer, slot) +
                         ".weight has no gradient (call accumulate() after "
                         "backward, before the gradients are zeroed)");
      }
    }
    acc.add_((in->weight * in->weight.grad()).abs_().sum(1).to(torch::kCPU));
    acc.add_((out->weight * out->weight.grad()).abs_().sum(0).to(torch::kCPU));
  }
  ++steps_;
}

std::vector<torch::Tensor> GradientImportance::scores() const {
  std::vector<torch::Tensor> result;
  for (std::int64_t layer = 0; layer < model_->num_layers(); ++layer) {
    const torch::Tensor& acc = dense_scores_[static_cast<std::size_t>(layer)];
    if (acc.defined()) {
      if (steps_ == 0) throw ModelError("pruning: weight x gradient importance has no accumulated step");
      result.push_back(acc.clone());
      continue;
    }
    auto in = std::dynamic_pointer_cast<Nf4ProjectionImpl>(model_->projection(layer, Slot::kIntermediate));
    auto out = std::dynamic_pointer_cast<Nf4ProjectionImpl>(model_->projection(layer, Slot::kOutput));
    if (!in || !out || !in->capturing() || !out->capturing()) {
      throw ModelError("pruning: the MLP slots of layer " + std::to_string(layer) +
                       " changed since the importance was set up (one GradientImportance per step)");
    }
    if (in->captured_steps() == 0 || out->captured_steps() == 0) {
      throw ModelError("pruning: no backward pass reached the NF4 MLP slots of layer " + std::to_string(layer) +
                       " (weight x gradient needs a loss whose gradient flows through the encoder)");
    }
    result.push_back((in->captured_row_importance() + out->captured_col_importance()).to(torch::kCPU));
  }
  return result;
}

std::int64_t PruneReport::total_removed() const {
  return std::accumulate(removed.begin(), removed.end(), std::int64_t{0});
}

double PruneReport::pruned_fraction() const {
  if (original == 0 || remaining.empty()) return 0.0;
  const double all = static_cast<double>(original) * static_cast<double>(remaining.size());
  const double left = static_cast<double>(std::accumulate(remaining.begin(), remaining.end(), std::int64_t{0}));
  return 1.0 - left / all;
}

void shrink_mlp(BertModel& model, std::int64_t layer, const std::vector<std::int64_t>& keep) {
  const Projection in = model->projection(layer, Slot::kIntermediate);
  const Projection out = model->projection(layer, Slot::kOutput);
  const Kind kin = slot_kind(in, layer, Slot::kIntermediate), kout = slot_kind(out, layer, Slot::kOutput);
  const std::int64_t size = in->out_features();
  if (keep.empty()) throw ConfigError("pruning: layer " + std::to_string(layer) + " would keep no neuron");
  for (std::size_t i = 0; i < keep.size(); ++i) {
    if (keep[i] < 0 || keep[i] >= size || (i > 0 && keep[i] <= keep[i - 1])) {
      throw ConfigError("pruning: kept neuron indices of layer " + std::to_string(layer) +
                        " must be distinct, ascending and below " + std::to_string(size));
    }
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor w_in = in->effective_weight(), b_in = in->effective_bias();
  const torch::Tensor w_out = out->effective_weight(), b_out = out->effective_bias();
  const torch::Tensor idx = torch::tensor(keep, torch::kLong).to(w_in.device());
  const torch::Tensor new_w_in = w_in.index_select(0, idx).contiguous();
  const torch::Tensor new_b_in = b_in.defined() ? b_in.index_select(0, idx).contiguous() : torch::Tensor();
  const torch::Tensor new_w_out = w_out.index_select(1, idx).contiguous();
  const torch::Tensor new_b_out = b_out.defined() ? b_out.clone() : torch::Tensor();
  Projection new_in, new_out;
  if (kin == Kind::kDense) {
    new_in = std::make_shared<DenseProjectionImpl>(new_w_in, new_b_in);
  } else {
    const bool dq = std::dynamic_pointer_cast<Nf4ProjectionImpl>(in)->double_quantised();
    new_in = std::make_shared<Nf4ProjectionImpl>(new_w_in, new_b_in, dq);
  }
  if (kout == Kind::kDense) {
    new_out = std::make_shared<DenseProjectionImpl>(new_w_out, new_b_out);
  } else {
    const bool dq = std::dynamic_pointer_cast<Nf4ProjectionImpl>(out)->double_quantised();
    new_out = std::make_shared<Nf4ProjectionImpl>(new_w_out, new_b_out, dq);
  }
  // Keep the trainable/frozen state of the dense parameters the slots had.
  for (const auto& [old_p, new_p] : {std::pair{in, new_in}, std::pair{out, new_out}}) {
    auto od = std::dynamic_pointer_cast<DenseProjectionImpl>(old_p);
    auto nd = std::dynamic_pointer_cast<DenseProjectionImpl>(new_p);
    if (!od || !nd) continue;
    nd->weight.set_requires_grad(od->weight.requires_grad());
    if (od->bias.defined() && nd->bias.defined()) nd->bias.set_requires_grad(od->bias.requires_grad());
  }
  model->set_projection(layer, Slot::kIntermediate, new_in);
  model->set_projection(layer, Slot::kOutput, new_out);
}

PruneReport prune_mlp_step(BertModel& model, const std::vector<torch::Tensor>& scores, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    throw ConfigError("pruning: fraction per step must be in (0, 1], got " + std::to_string(fraction));
  }
  const std::int64_t layers = model->num_layers();
  if (static_cast<std::int64_t>(scores.size()) != layers) {
    throw ConfigError("pruning: " + std::to_string(scores.size()) + " score tensors for " + std::to_string(layers) +
                      " layers");
  }
  PruneReport report;
  report.original = model->config().intermediate_size;
  const double per_step = fraction * static_cast<double>(report.original);
  for (std::int64_t layer = 0; layer < layers; ++layer) {
    const std::int64_t size = model->intermediate_size(layer);
    const torch::Tensor s =
        scores[static_cast<std::size_t>(layer)].detach().to(torch::kCPU, torch::kDouble).contiguous();
    if (s.dim() != 1 || s.size(0) != size) {
      throw ConfigError("pruning: scores of layer " + std::to_string(layer) + " have " + std::to_string(s.numel()) +
                        " entries for " + std::to_string(size) + " neurons");
    }
    if (!torch::isfinite(s).all().item<bool>()) {
      throw ModelError("pruning: the importance scores of layer " + std::to_string(layer) + " are not finite");
    }
    const std::int64_t done = report.original - size;
    const auto steps_done = static_cast<std::int64_t>(std::llround(static_cast<double>(done) / per_step));
    const std::int64_t target =
        std::min(report.original - 1, static_cast<std::int64_t>(std::llround(per_step * double(steps_done + 1))));
    const std::int64_t remove = std::clamp<std::int64_t>(target - done, 0, size - 1);
    // Rank: highest score first, ties by lower index, so the lowest-ranked (removed) are the
    // lowest scores, ties the higher index.
    const double* v = s.data_ptr<double>();
    std::vector<std::int64_t> order(static_cast<std::size_t>(size));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return v[a] > v[b]; });
    std::vector<std::int64_t> keep(order.begin(), order.end() - remove);
    std::vector<std::int64_t> gone(order.end() - remove, order.end());
    std::sort(keep.begin(), keep.end());
    std::sort(gone.begin(), gone.end());
    if (remove > 0) shrink_mlp(model, layer, keep);
    report.removed.push_back(remove);
    report.remaining.push_back(size - remove);
    report.removed_neurons.push_back(std::move(gone));
  }
  return report;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
