// The BERT-family encoder (see bert.h): dense projections, the model and the classifier head; one
// layer is bert_layer.cpp.
// Config parsing, weight loading and state export live in bert_weights.cpp.
#ifdef OPSBENCH_HAVE_TORCH

#include "bert.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "bert_layer.h"
#include "encoder_pass.h"
#include "opsbench/core/error.h"

namespace opsbench::models {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// DenseProjection

DenseProjectionImpl::DenseProjectionImpl(std::int64_t in, std::int64_t out, bool with_bias) {
  if (in < 1 || out < 1) throw ConfigError("DenseProjection: in and out features must be >= 1");
  // torch::nn::Linear's initialisation: Kaiming-uniform with a = sqrt(5), i.e. U(+-1/sqrt(in)),
  // for both the weight and the bias.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  weight = register_parameter("weight", torch::empty({out, in}).uniform_(-bound, bound));
  if (with_bias) bias = register_parameter("bias", torch::empty({out}).uniform_(-bound, bound));
}

DenseProjectionImpl::DenseProjectionImpl(torch::Tensor w, torch::Tensor b) {
  if (!w.defined() || w.dim() != 2) throw ConfigError("DenseProjection: weight must be a 2-d tensor [out, in]");
  if (b.defined() && (b.dim() != 1 || b.size(0) != w.size(0))) {
    throw ConfigError("DenseProjection: bias must be [out] = [" + std::to_string(w.size(0)) + "]");
  }
  weight = register_parameter("weight", w.detach().to(torch::kFloat32));
  if (b.defined()) bias = register_parameter("bias", b.detach().to(torch::kFloat32));
}

torch::Tensor DenseProjectionImpl::forward(const torch::Tensor& x) { return at::linear(x, weight, bias); }
std::int64_t DenseProjectionImpl::in_features() const { return weight.size(1); }
std::int64_t DenseProjectionImpl::out_features() const { return weight.size(0); }
torch::Tensor DenseProjectionImpl::effective_weight() const { return weight.detach(); }
torch::Tensor DenseProjectionImpl::effective_bias() const { return bias.defined() ? bias.detach() : torch::Tensor(); }

std::unique_ptr<WeightRowWriter> DenseProjectionImpl::weight_rows(float scale) const {
  if (!weight.device().is_cpu() || weight.scalar_type() != torch::kFloat) return nullptr;
  struct Copy : WeightRowWriter {
    torch::Tensor w;  // contiguous [out, in], kept alive for the pass
    const float* src = nullptr;
    std::int64_t in = 0;
    float scale = 1.f;
    void write(std::int64_t begin, std::int64_t end, float* out) const override {
      const float* from = src + begin * in;
      for (std::int64_t i = 0; i < (end - begin) * in; ++i) out[i] = from[i] * scale;
    }
  };
  auto copy = std::make_unique<Copy>();
  copy->w = weight.detach().contiguous();
  copy->src = copy->w.data_ptr<float>();
  copy->in = copy->w.size(1);
  copy->scale = scale;
  return copy;
}

const char* slot_path(Slot slot) {
  switch (slot) {
    case Slot::kQuery: return "attention.self.query";
    case Slot::kKey: return "attention.self.key";
    case Slot::kValue: return "attention.self.value";
    case Slot::kAttentionOutput: return "attention.output.dense";
    case Slot::kIntermediate: return "intermediate.dense";
    case Slot::kOutput: return "output.dense";
  }
  return "";
}

// ----------------------------------------------------------------------------------------------
// BertModel

struct BertModelImpl::Impl {
  torch::nn::Embedding word{nullptr}, position{nullptr}, token_type{nullptr};
  torch::nn::LayerNorm embedding_norm{nullptr};
  std::vector<BertLayer> layers;
  torch::nn::Linear pooler{nullptr};
  InferenceWorkspace workspace;
  EncoderPassScratch pass_scratch;
};

BertModelImpl::BertModelImpl(BertConfig config) : config_(std::move(config)), impl_(std::make_shared<Impl>()) {
  config_.validate();
  const BertConfig& c = config_;
  const std::int64_t h = c.hidden_size;
  auto embeddings = register_module("embeddings", named_container());
  impl_->word = embeddings->register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, h).padding_idx(c.pad_token_id)));
  impl_->position = embeddings->register_module("position_embeddings",
                                                torch::nn::Embedding(c.max_position_embeddings, h));
  impl_->token_type = embeddings->register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, h));
  impl_->embedding_norm = embeddings->register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps)));
  auto encoder = register_module("encoder", named_container());
  auto list = encoder->register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    impl_->layers.emplace_back(c);
    list->push_back(impl_->layers.back());
  }
  auto pooler = register_module("pooler", named_container());
  impl_->pooler = pooler->register_module("dense", torch::nn::Linear(h, h));

  // Hugging Face's _init_weights: normal(0, initializer_range) for linear weights and embeddings,
  // zero biases and padding row, LayerNorm weight 1 and bias 0.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    torch::Tensor& t = p.value();
    const bool norm = name.find("LayerNorm") != std::string::npos;
    const bool is_weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (norm && is_weight) {
      t.fill_(1.0);
    } else if (norm) {
      t.zero_();
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      t.zero_();
    } else {
      t.normal_(0.0, c.initializer_range);
    }
  }
  impl_->word->weight[c.pad_token_id].zero_();
}

std::int64_t BertModelImpl::num_layers() const { return static_cast<std::int64_t>(impl_->layers.size()); }

Projection BertModelImpl::projection(std::int64_t layer, Slot slot) const {
  if (layer < 0 || layer >= num_layers()) {
    throw ConfigError("layer " + std::to_string(layer) + " out of range [0, " + std::to_string(num_layers()) + ")");
  }
  return impl_->layers[static_cast<std::size_t>(layer)]->slot(slot);
}

void BertModelImpl::set_projection(std::int64_t layer, Slot slot, Projection module) {
  const Projection current = projection(layer, slot);
  if (!module) throw ConfigError(std::string("set_projection: null module for ") + slot_path(slot));
  const std::int64_t in = module->in_features(), out = module->out_features();
  const std::int64_t h = config_.hidden_size, m = config_.intermediate_size;
  const std::string where = "encoder.layer." + std::to_string(layer) + "." + slot_path(slot);
  bool ok = in == current->in_features() && out == current->out_features();
  if (slot == Slot::kIntermediate) ok = in == h && out >= 1 && out <= m;
  if (slot == Slot::kOutput) ok = out == h && in >= 1 && in <= m;
  if (!ok) {
    throw ConfigError(where + ": module maps " + std::to_string(in) + " -> " + std::to_string(out) +
                      ", the slot needs " + std::to_string(current->in_features()) + " -> " +
                      std::to_string(current->out_features()) +
                      (slot == Slot::kIntermediate || slot == Slot::kOutput ? " (the inner size may shrink)" : ""));
  }
  impl_->layers[static_cast<std::size_t>(layer)]->set_slot(slot, std::move(module));
}

std::int64_t BertModelImpl::intermediate_size(std::int64_t layer) const {
  return projection(layer, Slot::kIntermediate)->out_features();
}

void BertModelImpl::release_caches() {
  for (auto& layer : impl_->layers) layer->release_cache();
  impl_->workspace = InferenceWorkspace{};
  impl_->pass_scratch = EncoderPassScratch{};
}

namespace {

void check_inputs(const BertConfig& c, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& types) {
  if (!ids.defined() || ids.dim() != 2 || ids.scalar_type() != torch::kInt64) {
    throw ModelError("bert: input_ids must be an int64 tensor [batch, length]");
  }
  if (ids.size(0) < 1 || ids.size(1) < 1) throw ModelError("bert: empty batch or sequence");
  const auto shape = ids.sizes().vec();
  if (mask.defined() && mask.sizes().vec() != shape) {
    throw ModelError("bert: attention_mask shape " + shape_text(mask.sizes().vec()) + " differs from input_ids " +
                     shape_text(shape));
  }
  if (types.defined() && (types.sizes().vec() != shape || types.scalar_type() != torch::kInt64)) {
    throw ModelError("bert: token_type_ids must be int64 with the shape of input_ids " + shape_text(shape));
  }
  if (ids.size(1) > c.max_position_embeddings) {
    throw ModelError("bert: length " + std::to_string(ids.size(1)) + " exceeds max_position_embeddings " +
                     std::to_string(c.max_position_embeddings));
  }
  const auto range = at::aminmax(ids);
  const std::int64_t lo = std::get<0>(range).item<std::int64_t>(), hi = std::get<1>(range).item<std::int64_t>();
  if (lo < 0 || hi >= c.vocab_size) {
    throw ModelError("bert: token id " + std::to_string(lo < 0 ? lo : hi) + " outside the vocabulary [0, " +
                     std::to_string(c.vocab_size) + ")");
  }
  if (types.defined()) {
    const auto tr = at::aminmax(types);
    if (std::get<0>(tr).item<std::int64_t>() < 0 || std::get<1>(tr).item<std::int64_t>() >= c.type_vocab_size) {
      throw ModelError("bert: token type id outside [0, " + std::to_string(c.type_vocab_size) + ")");
    }
  }
}

}  // namespace

// Embeddings, then every layer; the last one for the first token alone when first_only.
torch::Tensor BertModelImpl::encode(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& types,
                                    bool first_only) {
  const BertConfig& c = config_;
  Impl& m = *impl_;
  const bool train = is_training();
  check_inputs(c, ids, mask, types);
  const bool no_grad = !at::GradMode::is_enabled();
  const std::int64_t length = ids.size(1);
  // Positions are 0..length-1 in every row: a slice of the table broadcast over the batch, no gather.
  torch::Tensor x = at::embedding(m.word->weight, ids, c.pad_token_id);
  const torch::Tensor position = m.position->weight.narrow(0, 0, length);
  const torch::Tensor type = types.defined() ? at::embedding(m.token_type->weight, types) : m.token_type->weight[0];
  x = no_grad ? x.add_(position).add_(type) : x + position + type;
  x = at::layer_norm(x, {c.hidden_size}, m.embedding_norm->weight, m.embedding_norm->bias, c.layer_norm_eps);
  if (train && c.hidden_dropout_prob > 0) x = at::dropout(x, c.hidden_dropout_prob, true);

  // Additive mask (Hugging Face's extended mask): 0 for real tokens, the lowest float for padding.
  // Left out when nothing is padded, which changes no number.
  torch::Tensor bias;
  if (mask.defined() && !at::all(mask).item<bool>()) {
    bias = (1.0 - mask.to(x.scalar_type())) * std::numeric_limits<float>::lowest();
    bias = bias.view({ids.size(0), 1, 1, length});
  }
  const std::size_t n = m.layers.size();
  // Inference on the CPU in float32 with every slot dense, NF4 or LoRA: all layers in one parallel
  // region (encoder_pass.h).
  if (no_grad && !train && x.device().is_cpu() && x.scalar_type() == torch::kFloat) {
    std::vector<PackedEncoderLayer> pass(n);
    bool ready = true;
    for (std::size_t i = 0; i < n && ready; ++i) ready = m.layers[i]->pass_layer(first_only && i + 1 == n, pass[i]);
    if (ready) {
      const std::int64_t batch = ids.size(0);
      x = x.contiguous();
      const torch::Tensor mask_rows = bias.defined() ? bias.reshape({batch, length}).contiguous() : torch::Tensor();
      torch::Tensor first = first_only ? at::empty({batch, 1, c.hidden_size}, x.options()) : torch::Tensor();
      run_encoder_pass(pass, {batch, length, c.hidden_size, c.num_attention_heads}, x.data_ptr<float>(),
                       mask_rows.defined() ? mask_rows.data_ptr<float>() : nullptr, first_only,
                       first_only ? first.data_ptr<float>() : nullptr, m.pass_scratch);
      return first_only ? first : x;
    }
  }
  for (std::size_t i = 0; i < n; ++i) x = m.layers[i]->forward(x, bias, first_only && i + 1 == n, m.workspace);
  return x;
}

BertOutput BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                  const torch::Tensor& token_type_ids) {
  BertOutput out;
  out.last_hidden_state = encode(input_ids, attention_mask, token_type_ids, false);
  out.pooled = at::tanh(impl_->pooler->forward(out.last_hidden_state.select(1, 0)));
  return out;
}

torch::Tensor BertModelImpl::pooled_output(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                           const torch::Tensor& token_type_ids) {
  const torch::Tensor first = encode(input_ids, attention_mask, token_type_ids, true);
  return at::tanh(impl_->pooler->forward(first.select(1, 0)));
}

// ----------------------------------------------------------------------------------------------
// BertClassifier

BertClassifierImpl::BertClassifierImpl(BertConfig config, std::int64_t num_labels) {
  if (num_labels < 1) throw ConfigError("BertClassifier: num_labels must be >= 1");
  const double p = config.hidden_dropout_prob;
  const double range = config.initializer_range;
  const std::int64_t h = config.hidden_size;
  bert = register_module("bert", BertModel(std::move(config)));
  dropout = register_module("dropout", torch::nn::Dropout(p));
  classifier = register_module("classifier", torch::nn::Linear(h, num_labels));
  torch::NoGradGuard no_grad;
  classifier->weight.normal_(0.0, range);
  classifier->bias.zero_();
}

torch::Tensor BertClassifierImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                          const torch::Tensor& token_type_ids) {
  return classifier->forward(dropout->forward(bert->pooled_output(input_ids, attention_mask, token_type_ids)));
}

BertOutput bert_infer(BertModel& model, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                      const torch::Tensor& token_type_ids) {
  model->eval();
  c10::InferenceMode guard;
  return model->forward(input_ids, attention_mask, token_type_ids);
}

torch::Tensor classifier_infer(BertClassifier& model, const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask, const torch::Tensor& token_type_ids) {
  model->eval();
  c10::InferenceMode guard;
  return model->forward(input_ids, attention_mask, token_type_ids);
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
