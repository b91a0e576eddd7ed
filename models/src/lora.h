// Low-rank adapters (LoRA, Hu et al. 2021) and QLoRA's quantised frozen base (Dettmers et al. 2023)
// for the encoder's projection slots (private to models/: includes torch).
//
// LoraProjection: y = base(x) + scaling * (dropout(x) A^T) B^T with A = lora_A [r, in], B = lora_B
// [out, r], scaling = alpha / r (PEFT's default, not rsLoRA). The base (a DenseProjection or an
// Nf4Projection) is frozen by the constructor: its parameters get requires_grad false. Initial
// values as in Hugging Face PEFT: A Kaiming-uniform with a = sqrt(5) (uniform in +-1/sqrt(in),
// drawn from torch's default generator), B zeros, so the adapted map equals the base at first.
// Dropout (PEFT's lora_dropout) acts on the adapter's input only and only in training mode.
// Without autograd the update is added in place to the base's output (dense base), or, for an NF4
// base, folded into the weight it dequantises anyway (Nf4ProjectionImpl::forward_with_update): one
// small [out, r] x [r, in] GEMM instead of two over the activations, the same map up to rounding.
// Names: the base is registered as `base_layer` (PEFT's name), the adapters as parameters `lora_A`
// and `lora_B`, so a query slot's names read `encoder.layer.0.attention.self.query.lora_A`.
//
// merge(): a DenseProjection with W = W_base + scaling * B A and the base's bias, numerically the
// same map in evaluation mode (no dropout). For an NF4 base the merged weight is the dequantised base
// plus the update, in float32: merging gives up the 4-bit storage (re-quantise with
// quantize_base() if it must stay small, at the cost of one more rounding of the update).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bert.h"

namespace opsbench::models {

struct LoraOptions {
  std::int64_t r = 8;
  double alpha = 16;
  double dropout = 0.0;
  // ConfigError when r < 1, alpha <= 0 or not finite, dropout outside [0, 1).
  void validate() const;
};

class LoraProjectionImpl : public ProjectionImpl {
 public:
  LoraProjectionImpl(Projection base, LoraOptions options);
  torch::Tensor forward(const torch::Tensor& x) override;
  std::int64_t in_features() const override { return base_->in_features(); }
  std::int64_t out_features() const override { return base_->out_features(); }
  // The merged weight (base + scaling * B A) and the base's bias, detached.
  torch::Tensor effective_weight() const override;
  torch::Tensor effective_bias() const override { return base_->effective_bias(); }
  // The base's rows plus scaling * B A (eval mode: no dropout), or nullptr when the base has none.
  std::unique_ptr<WeightRowWriter> weight_rows(float scale) const override;

  Projection merge() const;
  const Projection& base() const { return base_; }
  const LoraOptions& options() const { return options_; }
  double scaling() const { return scaling_; }

  torch::Tensor lora_A, lora_B;

 private:
  Projection base_;
  LoraOptions options_;
  double scaling_ = 1.0;
  torch::nn::Dropout dropout_{nullptr};
};
using LoraProjection = std::shared_ptr<LoraProjectionImpl>;

// The default target slots (query and value, as in the LoRA paper and Zhang et al.).
std::vector<Slot> default_lora_slots();

// Wraps the given slots of every layer in a LoraProjection (the current module becomes the frozen
// base) and returns the number of adapter values added: r (in + out) per adapted slot (A: r x in,
// B: out x r). ConfigError when a slot already holds a LoraProjection. Adapters are created on the
// device of the slot's base.
std::int64_t apply_lora(BertModel& model, std::int64_t r, double alpha, double dropout,
                        const std::vector<Slot>& slots = default_lora_slots());

// Sets requires_grad false on every parameter of `model` except the adapters (names ending in
// `lora_A` / `lora_B`) and parameters whose name starts with one of `trainable_prefixes` (e.g.
// {"classifier."} for a task head trained from scratch). Returns the number of trainable values.
std::int64_t freeze_except_adapters(torch::nn::Module& model, const std::vector<std::string>& trainable_prefixes = {});

// Replaces every LoraProjection slot by its merge() (a DenseProjection); returns how many.
std::int64_t merge_lora(BertModel& model);

// QLoRA's base: replaces every layer slot (the six projections of every layer) by an Nf4Projection
// of its current effective weight and bias, frozen. Embeddings, LayerNorms and the pooler stay
// float32. Apply before apply_lora(); ConfigError when a slot already holds a LoraProjection (the
// adapters would be folded into the quantised base). Returns the bytes of weight storage saved.
std::int64_t quantize_base(BertModel& model, bool double_quant = false);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
