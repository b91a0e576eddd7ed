// LoRA adapters, merging and QLoRA's quantised base (see lora.h).
#ifdef OPSBENCH_HAVE_TORCH

#include "lora.h"

#include <cmath>

#include "blocked_weight.h"
#include "nf4.h"
#include "opsbench/core/error.h"
#include "packed_linear.h"

namespace opsbench::models {

namespace {

const std::vector<Slot>& all_slots() {
  static const std::vector<Slot> slots = {Slot::kQuery,           Slot::kKey,          Slot::kValue,
                                          Slot::kAttentionOutput, Slot::kIntermediate, Slot::kOutput};
  return slots;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void LoraOptions::validate() const {
  if (r < 1) throw ConfigError("lora: r must be >= 1, got " + std::to_string(r));
  if (!(alpha > 0) || !std::isfinite(alpha)) throw ConfigError("lora: alpha must be > 0, got " + std::to_string(alpha));
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    throw ConfigError("lora: dropout must be in [0, 1), got " + std::to_string(dropout));
  }
}

LoraProjectionImpl::LoraProjectionImpl(Projection base, LoraOptions options)
    : base_(std::move(base)), options_(options) {
  if (!base_) throw ConfigError("lora: no base projection");
  options_.validate();
  if (std::dynamic_pointer_cast<LoraProjectionImpl>(base_)) {
    throw ConfigError("lora: the base is already a LoRA projection (merge it first)");
  }
  scaling_ = options_.alpha / static_cast<double>(options_.r);
  register_module("base_layer", base_);
  for (auto& p : base_->parameters()) p.set_requires_grad(false);
  // The adapters live where the base lives (a base without parameters, e.g. NF4 without bias, is
  // found through its buffers).
  torch::Device device = torch::kCPU;
  if (!base_->buffers().empty()) device = base_->buffers().front().device();
  if (!base_->parameters().empty()) device = base_->parameters().front().device();
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  torch::Tensor a = torch::empty({options_.r, in_features()}, opts);
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_uniform_(a, std::sqrt(5.0));
  }
  lora_A = register_parameter("lora_A", a);
  lora_B = register_parameter("lora_B", torch::zeros({out_features(), options_.r}, opts));
  dropout_ = register_module("lora_dropout", torch::nn::Dropout(options_.dropout));
}

torch::Tensor LoraProjectionImpl::forward(const torch::Tensor& x) {
  const bool dropping = is_training() && options_.dropout > 0;
  const bool no_autograd =
      !torch::GradMode::is_enabled() || (!x.requires_grad() && !lora_A.requires_grad() && !lora_B.requires_grad());
  if (no_autograd && !dropping) {
    // QLoRA inference: the NF4 base dequantises into a scratch weight anyway, so the update B A is
    // added there (one [out, r] x [r, in] GEMM) instead of two GEMMs over the activations.
    if (auto* nf4 = dynamic_cast<Nf4ProjectionImpl*>(base_.get())) {
      return nf4->forward_with_update(x, lora_B.detach(), lora_A.detach(), scaling_);
    }
  }
  torch::Tensor y = base_->forward(x);
  const torch::Tensor in = dropping ? dropout_->forward(x) : x;
  // The rank-r intermediate is the small tensor, so the scaling is applied there.
  const torch::Tensor h = torch::matmul(in, lora_A.t()).mul(scaling_);
  const bool no_graph = !torch::GradMode::is_enabled() || (!y.requires_grad() && !h.requires_grad());
  if (no_graph && y.is_contiguous()) {
    // Inference: add the update into the base's output in place (one GEMM with beta = 1).
    y.view({-1, out_features()}).addmm_(h.reshape({-1, options_.r}), lora_B.t());
    return y;
  }
  return y + torch::matmul(h, lora_B.t());
}

torch::Tensor LoraProjectionImpl::effective_weight() const {
  torch::NoGradGuard no_grad;
  return base_->effective_weight() + torch::mm(lora_B.detach(), lora_A.detach()) * scaling_;
}

std::unique_ptr<WeightRowWriter> LoraProjectionImpl::weight_rows(float scale) const {
  std::unique_ptr<WeightRowWriter> base = base_->weight_rows(scale);
  if (!base || !lora_A.device().is_cpu() || lora_A.scalar_type() != torch::kFloat) return nullptr;
  struct Rows : WeightRowWriter {
    std::unique_ptr<WeightRowWriter> base;
    torch::Tensor a_t, b_t;    // A [r, in], B [out, r], contiguous, kept alive for the pass
    torch::Tensor at_t, bt_t;  // their transposes, contiguous: A^T [in, r], B^T [r, out]
    std::int64_t r = 0, in = 0, out = 0;
    float alpha = 1.f;
    void write(std::int64_t begin, std::int64_t end, float* rows) const override {
      base->write(begin, end, rows);
      add_product(b_t.data_ptr<float>() + begin * r, end - begin, r, a_t.data_ptr<float>(), in, alpha, rows, in);
    }
    // A block of a blocked layout holds its rows of W transposed, [in padded, row_block] row-major
    // (blocked_weight.h), so B A adds there as A^T B^T (the padding left zero).
    bool write_packed(std::int64_t begin, std::int64_t end, const BlockedLayout& layout,
                      float* packed_block) const override {
      if (!base->write_packed(begin, end, layout, packed_block)) return false;
      add_product(at_t.data_ptr<float>(), in, r, bt_t.data_ptr<float>() + begin, end - begin, alpha, packed_block,
                  layout.row_block(), out);
      return true;
    }
  };
  auto rows = std::make_unique<Rows>();
  rows->base = std::move(base);
  rows->a_t = lora_A.detach().contiguous();
  rows->b_t = lora_B.detach().contiguous();
  rows->at_t = rows->a_t.t().contiguous();
  rows->bt_t = rows->b_t.t().contiguous();
  rows->r = lora_A.size(0);
  rows->in = lora_A.size(1);
  rows->out = lora_B.size(0);
  rows->alpha = static_cast<float>(scaling_ * scale);
  return rows;
}

Projection LoraProjectionImpl::merge() const {
  torch::NoGradGuard no_grad;
  torch::Tensor bias = effective_bias();
  return std::make_shared<DenseProjectionImpl>(effective_weight(), bias.defined() ? bias.clone() : bias);
}

std::vector<Slot> default_lora_slots() { return {Slot::kQuery, Slot::kValue}; }

std::int64_t apply_lora(BertModel& model, std::int64_t r, double alpha, double dropout,
                        const std::vector<Slot>& slots) {
  LoraOptions options{r, alpha, dropout};
  options.validate();
  std::int64_t added = 0;
  for (std::int64_t layer = 0; layer < model->num_layers(); ++layer) {
    for (Slot slot : slots) {
      Projection current = model->projection(layer, slot);
      if (std::dynamic_pointer_cast<LoraProjectionImpl>(current)) {
        throw ConfigError(std::string("apply_lora: encoder.layer.") + std::to_string(layer) + "." + slot_path(slot) +
                          " already holds LoRA adapters");
      }
      auto lora = std::make_shared<LoraProjectionImpl>(current, options);
      added += lora->lora_A.numel() + lora->lora_B.numel();
      model->set_projection(layer, slot, lora);
    }
  }
  return added;
}

std::int64_t freeze_except_adapters(torch::nn::Module& model, const std::vector<std::string>& trainable_prefixes) {
  std::int64_t trainable = 0;
  for (auto& item : model.named_parameters()) {
    bool keep = ends_with(item.key(), "lora_A") || ends_with(item.key(), "lora_B");
    for (const auto& prefix : trainable_prefixes) keep = keep || item.key().rfind(prefix, 0) == 0;
    item.value().set_requires_grad(keep);
    if (keep) trainable += item.value().numel();
  }
  return trainable;
}

std::int64_t merge_lora(BertModel& model) {
  std::int64_t merged = 0;
  for (std::int64_t layer = 0; layer < model->num_layers(); ++layer) {
    for (Slot slot : all_slots()) {
      if (auto lora = std::dynamic_pointer_cast<LoraProjectionImpl>(model->projection(layer, slot))) {
        model->set_projection(layer, slot, lora->merge());
        ++merged;
      }
    }
  }
  return merged;
}

std::int64_t quantize_base(BertModel& model, bool double_quant) {
  std::int64_t saved = 0;
  for (std::int64_t layer = 0; layer < model->num_layers(); ++layer) {
    for (Slot slot : all_slots()) {
      Projection current = model->projection(layer, slot);
      if (std::dynamic_pointer_cast<LoraProjectionImpl>(current)) {
        throw ConfigError(std::string("quantize_base: encoder.layer.") + std::to_string(layer) + "." + slot_path(slot) +
                          " holds LoRA adapters; quantise the base before apply_lora()");
      }
      if (std::dynamic_pointer_cast<Nf4ProjectionImpl>(current)) continue;
      std::int64_t before = 0;
      for (const auto& p : current->parameters()) before += static_cast<std::int64_t>(p.nbytes());
      for (const auto& b : current->buffers()) before += static_cast<std::int64_t>(b.nbytes());
      auto nf4 = Nf4ProjectionImpl::from_projection(*current, double_quant);
      saved += before - nf4->storage_bytes();
      model->set_projection(layer, slot, nf4);
    }
  }
  return saved;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
