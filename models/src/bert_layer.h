// One encoder layer (encoder.layer.N) of BertModel, private to models/ (bert.cpp builds the model
// from these). Holds the six projection slots (any ProjectionImpl: dense, LoRA, NF4) and the two
// LayerNorms under Hugging Face's names, and runs the layer three ways: with autograd (each slot's
// own forward), without autograd op by op (fused q/k/v, packed oneDNN products where slots are
// dense), and as one layer of the one-region encoder pass (pass_layer, encoder_pass.h).
// Not for concurrent forwards on one layer: the packed weights and the workspace are cached state.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "attention_kernels.h"
#include "bert.h"
#include "encoder_pass.h"
#include "packed_linear.h"

namespace opsbench::models {

constexpr int kLayerSlots = 6;  // query, key, value, attention output, intermediate, output

enum class HiddenActivation { kGeluErf, kGeluTanh, kRelu };
// From config.json's hidden_act; ConfigError names the supported values.
HiddenActivation hidden_activation_of(const std::string& name);

// A bare named container, so that the module tree spells the checkpoint's dotted names
// (`attention.self.query`) without one class per level.
std::shared_ptr<torch::nn::Module> named_container();

// Scratch tensors of the op-by-op inference path, shared by the layers of one model (a layer's
// intermediates are dead when it returns): repeated forwards reuse this memory instead of mapping
// fresh pages for every product (page faults and unmapping were ~13% of a MiniLM batch-8 pooled
// forward on one thread). Not for concurrent forwards on one model (neither are the weight caches).
struct InferenceWorkspace {
  torch::Tensor qkv, context, inner;

  // A float32 [sizes] tensor on `slot`'s storage, grown when too small. Inference tensors (made
  // under InferenceMode) cannot be written outside it, so the storage is remade across modes.
  static torch::Tensor take(torch::Tensor& slot, at::IntArrayRef sizes);
};

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c);

  const Projection& slot(Slot s) const { return slots_[static_cast<int>(s)]; }

  void set_slot(Slot s, Projection module);

  void release_cache();

  // x [batch, length, hidden] -> [batch, length or 1, hidden]. mask_bias: undefined (no padding)
  // or [batch, 1, 1, length] with 0 / lowest float. first_only: only token 0 leaves the layer.
  // workspace: scratch for the packed inference path (used only there).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_bias, bool first_only,
                        InferenceWorkspace& workspace);

  // This layer's products, norms and attention kernels for the encoder pass (encoder_pass.h): dense
  // slots packed (cached), others (NF4, LoRA) materialised by their weight_rows writers; false when
  // a slot has no writer (then the model runs op by op).
  bool pass_layer(bool first_only, PackedEncoderLayer& out);

 private:
  // residual + dropout(slot(x)). A dense slot without autograd adds residual + bias first and lets
  // the GEMM accumulate onto it (beta = 1), which saves a pass over the output.
  torch::Tensor residual_dense(int s, const torch::Tensor& x, const torch::Tensor& residual, bool no_grad, bool train,
                               bool packed);

  // True when the query, key and value slots are all dense with biases (then in `dense`).
  bool dense_qkv(DenseProjectionImpl* (&dense)[3]) const;

  // True when the query, key and value slots are dense with biases; (re)builds the concatenated
  // weight when any of their tensors moved or changed since it was built. The query rows carry the
  // attention scale 1/sqrt(d) (exact for d a power of 4; else one rounding of the product).
  bool fused_qkv(double scale);

  // The packed products of the inference path, each kept while the tensors it was packed from are
  // unchanged (key_of); `build` makes its (weight [out, in], bias or undefined) when not.
  enum PackedProduct { kQueryKeyValue, kQueryOnly, kKeyValue, kAttentionOutput, kIntermediate, kOutput, kProducts };
  struct PackedCache {
    std::vector<std::int64_t> key;
    std::unique_ptr<PackedLinear> linear;
  };

  template <typename Build>
  PackedLinear& packed_linear(int which, const std::vector<const torch::Tensor*>& sources, const Build& build);

  double attention_scale() const { return 1.0 / std::sqrt(static_cast<double>(hidden_ / heads_)); }

  // The fused projections of dense query/key/value slots; the query rows carry 1/sqrt(d).
  PackedLinear& packed_query_key_value(DenseProjectionImpl* const (&qkv)[3]);
  PackedLinear& packed_query(DenseProjectionImpl* const (&qkv)[3]);
  PackedLinear& packed_key_value(DenseProjectionImpl* const (&qkv)[3]);

  // Slot s as a weight the pass writes each forward (times `scale`, with its bias scaled alike);
  // undefined when the slot has no writer.
  PassProduct materialised(int s, float scale) const;

  PackedLinear::Activation packed_activation() const;

  PackedLinear& packed_dense(int which, DenseProjectionImpl& dense);

  std::int64_t hidden_, heads_;
  double eps_;
  HiddenActivation activation_;
  double attention_dropout_, hidden_dropout_;
  torch::nn::Module* parents_[kLayerSlots] = {};
  Projection slots_[kLayerSlots];
  torch::nn::LayerNorm attention_norm_{nullptr}, output_norm_{nullptr};
  torch::Tensor fused_weight_, fused_bias_;
  std::vector<std::int64_t> fused_key_;
  PackedCache packed_[kProducts];
  AttentionProducts attention_;  // the attention products of the packed path
};
TORCH_MODULE(BertLayer);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
