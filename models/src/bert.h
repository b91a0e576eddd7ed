// BERT-family encoder in libtorch (private to models/: includes torch), with Hugging Face names.
//
// Architecture (Devlin et al. 2019; Hugging Face BertModel, post-LayerNorm):
//   embeddings = LayerNorm(word[ids] + position[0..L) + token_type[type_ids]) (dropout in training)
//   each layer: a = LayerNorm(x + dense_o(attention(q(x), k(x), v(x), mask)))
//               y = LayerNorm(a + dense_out(act(dense_in(a))))
//   attention: heads of size hidden/heads, softmax(q k^T / sqrt(head) + (1 - mask) * min_float) v
//   pooler = tanh(dense(h[:, 0])); classifier = Linear(hidden, num_labels) over the pooler output.
// Dropout (hidden_dropout_prob after the embeddings and on each sub-layer's output before the
// residual add, attention_probs_dropout_prob on the attention weights) acts in training mode only.
// Parameter names equal the checkpoint's (`embeddings.word_embeddings.weight`,
// `encoder.layer.N.attention.self.query.weight`, `pooler.dense.weight`, ...); a sequence
// classifier adds `classifier.weight/bias` and reads checkpoints with or without the `bert.` prefix.
//
// The six linear maps of a layer are Projection slots so that fine-tuning methods can swap them
// (LoRA on query/value, NF4-quantised frozen bases, pruned MLPs) without touching this file.
// A slot's module is registered under the slot's Hugging Face name, so a plain model's parameter
// names stay the checkpoint's.
//
// Speed (bert.cpp): when autograd is off (NoGradGuard or InferenceMode) and a layer's query, key
// and value slots are all DenseProjections, the three maps run as one GEMM over a concatenated
// [3 hidden, hidden] weight. That copy is cached per layer and rebuilt when any of the six tensors
// changes (data pointer or version counter), so it follows optimiser steps and loading; it costs
// 3 hidden^2 floats per layer while it lives (release_caches() drops it). Dense output slots fold
// the residual add into their GEMM, and elementwise steps run in place. On the CPU in float32 and
// eval mode, every dense product of that path (query/key/value, attention output, intermediate
// with its activation fused, output with its residual) runs on a copy of the weight packed once
// into oneDNN's layout (packed_linear.h), cached and invalidated by the same rule (the concatenated
// copy above is then not made): about one more copy of the encoder's dense weights while it lives,
// plus a scratch workspace shared by the layers. With autograd on, every
// slot runs its own forward(), so gradients reach each slot's parameters. Both paths give the same
// numbers to float rounding (tests check 1e-5).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "opsbench/models/safetensors.h"
#include "weight_rows.h"

namespace opsbench::models {

// config.json fields used by the encoder. from_json_file: DataError naming the file and key for a
// missing or mistyped field. vocab_size, hidden_size, num_hidden_layers, num_attention_heads and
// intermediate_size are required; the others take Hugging Face BertConfig's defaults (above) when
// absent. A present `position_embedding_type` other than "absolute" or `model_type` other than
// "bert" is a ConfigError (those models need code this encoder does not have). Unknown keys are
// ignored. validate(): ConfigError when hidden_size % num_attention_heads != 0, a size is < 1,
// layer_norm_eps <= 0, a dropout is outside [0, 1), pad_token_id is outside the vocabulary, or
// hidden_act is not one of gelu, gelu_new, gelu_pytorch_tanh, relu.
struct BertConfig {
  std::int64_t vocab_size = 30522;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  // gelu: erf form; gelu_new / gelu_pytorch_tanh: tanh form
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::int64_t pad_token_id = 0;
  double initializer_range = 0.02;  // std of the normal initialisation of fresh weights (HF's)

  static BertConfig from_json_file(const std::string& path);
  static BertConfig from_json_text(const std::string& text, const std::string& source);
  std::string to_json_text() const;  // the same fields, Hugging Face spelling
  void validate() const;
};

// A linear map y = x W^T + b inside a layer. Implementations: DenseProjection (here), LoRA and NF4
// (lora.h, nf4.h). in/out features may shrink (pruning) but never change otherwise.
class ProjectionImpl : public torch::nn::Module {
 public:
  // A writer of scale * the effective weight (CPU float32 only), or nullptr where the projection
  // has none: then a model holding it runs inference layer by layer, op by op.
  virtual std::unique_ptr<WeightRowWriter> weight_rows(float scale) const {
    (void)scale;
    return nullptr;
  }
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual std::int64_t in_features() const = 0;
  virtual std::int64_t out_features() const = 0;
  // The effective weight [out, in] as float32 (dequantised, adapters merged) and the bias [out]
  // (undefined when none), detached, on the module's device.
  virtual torch::Tensor effective_weight() const = 0;
  virtual torch::Tensor effective_bias() const = 0;
};
using Projection = std::shared_ptr<ProjectionImpl>;

// Plain float32 linear map with parameters `weight` [out, in] and `bias` [out] (checkpoint names).
class DenseProjectionImpl : public ProjectionImpl {
 public:
  DenseProjectionImpl(std::int64_t in, std::int64_t out, bool with_bias = true);  // torch Linear init
  DenseProjectionImpl(torch::Tensor weight, torch::Tensor bias);                   // takes the values
  torch::Tensor forward(const torch::Tensor& x) override;
  std::int64_t in_features() const override;
  std::int64_t out_features() const override;
  torch::Tensor effective_weight() const override;
  torch::Tensor effective_bias() const override;
  std::unique_ptr<WeightRowWriter> weight_rows(float scale) const override;
  torch::Tensor weight, bias;
};

enum class Slot { kQuery, kKey, kValue, kAttentionOutput, kIntermediate, kOutput };
const char* slot_path(Slot slot);  // "attention.self.query", ..., "intermediate.dense", "output.dense"

struct BertOutput {
  torch::Tensor last_hidden_state;  // [batch, length, hidden]
  torch::Tensor pooled;             // [batch, hidden]
};

// The encoder: embeddings, encoder.layer.N, pooler. forward(ids, mask, type_ids): int64 [batch,
// length] each; mask 1 = real token (any integer, bool or float dtype; undefined = all real);
// type_ids may be undefined (all 0). ModelError for ranks/shapes that differ, ids outside the
// vocabulary, or a length above max_position_embeddings. Fresh parameters follow Hugging Face's
// initialisation (normal(0, initializer_range) weights and embeddings, zero biases and padding
// row, LayerNorm 1/0), drawn from torch's default generator: seed it first for reproducible weights.
// Tensors and parameters must be on the same device; a slot swapped in must already be there.
class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(BertConfig config);
  BertOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                     const torch::Tensor& token_type_ids = {});
  // The pooler output alone, equal to forward().pooled: the last layer computes its query,
  // attention output and MLP for the first token only (keys and values for all tokens), which
  // saves most of that layer's work. What a sequence classifier needs.
  torch::Tensor pooled_output(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                              const torch::Tensor& token_type_ids = {});
  const BertConfig& config() const { return config_; }
  std::int64_t num_layers() const;
  Projection projection(std::int64_t layer, Slot slot) const;
  // Swaps the module in a slot (registered under the same name). ConfigError when in/out features
  // differ from the slot's, except for kIntermediate/kOutput, whose shared inner size may shrink
  // (pruning replaces both of a layer's MLP slots together).
  void set_projection(std::int64_t layer, Slot slot, Projection module);
  std::int64_t intermediate_size(std::int64_t layer) const;
  // Drops the fused query/key/value weights and the packed weights cached for inference (rebuilt on
  // the next no-grad call).
  void release_caches();

 private:
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                       const torch::Tensor& token_type_ids, bool first_only);
  BertConfig config_;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};
TORCH_MODULE(BertModel);

// Encoder + classifier head over the pooled output (dropout before the head in training), as
// Hugging Face BertForSequenceClassification: names `bert.*`, `classifier.weight/bias`.
class BertClassifierImpl : public torch::nn::Module {
 public:
  BertClassifierImpl(BertConfig config, std::int64_t num_labels);
  // Logits [batch, num_labels] (through BertModelImpl::pooled_output).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids = {});
  BertModel bert{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(BertClassifier);

// Evaluation entry points: switch the model to eval() (it stays there) and run the forward pass under
// c10::InferenceMode (no autograd graph, no version-counter bumps, the fused fast path). The results
// are inference tensors: fine to read, copy or feed to other inference code, but they cannot take
// part in autograd later. Call these (not forward()) for latency measurements and predictions.
BertOutput bert_infer(BertModel& model, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                      const torch::Tensor& token_type_ids = {});
torch::Tensor classifier_infer(BertClassifier& model, const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask, const torch::Tensor& token_type_ids = {});

// Loads checkpoint tensors into the encoder by Hugging Face name. Accepts names with or without the
// `bert.` prefix (a file holding both spellings of one name is a DataError); extra checkpoint
// tensors that are not the encoder's (`cls.*`, `classifier.*`, `embeddings.position_ids`, anything
// outside embeddings./encoder./pooler.) are ignored and their names returned, sorted. A tensor
// inside the encoder's namespaces that the model lacks (say `encoder.layer.6.*` for a 6-layer
// config) is a DataError: the config does not match the checkpoint. Strict: every encoder
// parameter must be present with the exact shape (DataError naming the file, tensor, expected and
// found shapes). Values are converted from F16/BF16 to float32; other dtypes are a DataError.
// Only DenseProjection slots can be loaded (ModelError otherwise: load before swapping slots).
// Nothing is written unless every check passes.
std::vector<std::string> load_bert_weights(BertModel& model, const SafetensorsFile& file);

// The model's parameters and buffers under their names (prefix e.g. "bert."), copied to the CPU
// (what write_safetensors saves): floating tensors as F32, integer buffers in their own dtype
// (U8, I32, I64: NF4 slots contribute their packed buffers). ModelError for other dtypes.
std::vector<StoredTensor> bert_state(const torch::nn::Module& model, const std::string& prefix = "");

// Parameter counts (trainable = requires_grad) and bytes of parameters + buffers as stored.
struct ParameterCounts {
  std::int64_t total = 0;
  std::int64_t trainable = 0;
  std::int64_t bytes = 0;
};
ParameterCounts count_parameters(const torch::nn::Module& model);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
