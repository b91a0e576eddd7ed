// The BERT-family encoder (see bert.h): projections, layers, the model and the classifier head.
// Config parsing, weight loading and state export live in bert_weights.cpp.
#ifdef OPSBENCH_HAVE_TORCH

#include "bert.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "opsbench/core/error.h"
#include "attention_kernels.h"
#include "encoder_pass.h"
#include "packed_linear.h"

namespace opsbench::models {

namespace {

constexpr int kSlots = 6;

enum class Activation { kGeluErf, kGeluTanh, kRelu };

Activation activation_of(const std::string& name) {
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (name == "relu") return Activation::kRelu;
  throw ConfigError("hidden_act '" + name + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

// A bare named container, so that the module tree spells the checkpoint's dotted names
// (`attention.self.query`) without one class per level.
std::shared_ptr<torch::nn::Module> container() { return std::make_shared<torch::nn::Module>(); }

const char* slot_leaf(Slot slot) {
  switch (slot) {
    case Slot::kQuery: return "query";
    case Slot::kKey: return "key";
    case Slot::kValue: return "value";
    default: return "dense";
  }
}

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
      for (std::int64_t i = begin * in; i < end * in; ++i) out[i] = src[i] * scale;
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
// One encoder layer (encoder.layer.N).

namespace {

// Scratch tensors of the packed inference path, shared by the layers of one model (a layer's
// intermediates are dead when it returns): repeated forwards reuse this memory instead of mapping
// fresh pages for every product (page faults and unmapping were ~13% of a MiniLM batch-8 pooled
// forward on one thread). Not for concurrent forwards on one model (neither are the weight caches).
struct InferenceWorkspace {
  torch::Tensor qkv, context, inner;

  // A float32 [sizes] tensor on `slot`'s storage, grown when too small. Inference tensors (made
  // under InferenceMode) cannot be written outside it, so the storage is remade across modes.
  static torch::Tensor take(torch::Tensor& slot, at::IntArrayRef sizes) {
    std::int64_t n = 1;
    for (std::int64_t s : sizes) n *= s;
    if (!slot.defined() || slot.numel() < n || slot.is_inference() != c10::InferenceMode::is_enabled()) {
      slot = at::empty({n}, torch::TensorOptions().dtype(torch::kFloat));
    }
    return slot.narrow(0, 0, n).view(sizes);
  }
};

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c)
      : hidden_(c.hidden_size),
        heads_(c.num_attention_heads),
        eps_(c.layer_norm_eps),
        activation_(activation_of(c.hidden_act)),
        attention_dropout_(c.attention_probs_dropout_prob),
        hidden_dropout_(c.hidden_dropout_prob) {
    auto attention = register_module("attention", container());
    parents_[0] = parents_[1] = parents_[2] = attention->register_module("self", container()).get();
    auto attention_output = attention->register_module("output", container());
    parents_[3] = attention_output.get();
    parents_[4] = register_module("intermediate", container()).get();
    auto output = register_module("output", container());
    parents_[5] = output.get();
    const std::int64_t h = c.hidden_size, m = c.intermediate_size;
    const std::int64_t in[kSlots] = {h, h, h, h, h, m}, out[kSlots] = {h, h, h, h, m, h};
    for (int s = 0; s < kSlots; ++s) {
      slots_[s] = parents_[s]->register_module(slot_leaf(Slot(s)), std::make_shared<DenseProjectionImpl>(in[s], out[s]));
    }
    const auto ln = torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps);
    attention_norm_ = attention_output->register_module("LayerNorm", torch::nn::LayerNorm(ln));
    output_norm_ = output->register_module("LayerNorm", torch::nn::LayerNorm(ln));
  }

  const Projection& slot(Slot s) const { return slots_[static_cast<int>(s)]; }

  void set_slot(Slot s, Projection module) {
    const int i = static_cast<int>(s);
    module->train(is_training());
    slots_[i] = parents_[i]->replace_module(slot_leaf(s), std::move(module));
    release_cache();
  }

  void release_cache() {
    fused_weight_ = fused_bias_ = torch::Tensor();
    fused_key_.clear();
    for (auto& p : packed_) p = PackedCache{};
  }

  // x [batch, length, hidden] -> [batch, length or 1, hidden]. mask_bias: undefined (no padding)
  // or [batch, 1, 1, length] with 0 / lowest float. first_only: only token 0 leaves the layer.
  // workspace: scratch for the packed inference path (used only there).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_bias, bool first_only,
                        InferenceWorkspace& workspace) {
    const std::int64_t batch = x.size(0), length = x.size(1), lq = first_only ? 1 : length;
    const std::int64_t h = hidden_, nh = heads_, d = h / nh;
    // Without autograd, elementwise steps run in place and out= variants write where data must go.
    const bool no_grad = !at::GradMode::is_enabled();
    const bool train = is_training();
    const torch::Tensor x2 = x.reshape({batch * length, h});
    const torch::Tensor xq2 = first_only ? x.select(1, 0) : x2;  // [batch * lq, hidden]

    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    // Inference on the CPU in float32: dense products run on weights packed once (packed_linear.h).
    const bool packed = no_grad && !train && x.device().is_cpu() && x.scalar_type() == torch::kFloat;
    torch::Tensor q, k, v;  // 2-d [rows, hidden], unit column stride; q already scaled when no_grad
    DenseProjectionImpl* qkv_slots[3] = {};
    if (packed && dense_qkv(qkv_slots)) {
      if (first_only) {
        const torch::Tensor kv = run_packed(packed_key_value(qkv_slots), x2, {},
                                            InferenceWorkspace::take(workspace.qkv, {batch * length, 2 * h}));
        k = kv.narrow(1, 0, h);
        v = kv.narrow(1, h, h);
        q = run_packed(packed_query(qkv_slots), xq2, {}, at::empty({batch, h}, x.options()));
      } else {
        const torch::Tensor qkv = run_packed(packed_query_key_value(qkv_slots), x2, {},
                                             InferenceWorkspace::take(workspace.qkv, {batch * length, 3 * h}));
        q = qkv.narrow(1, 0, h);
        k = qkv.narrow(1, h, h);
        v = qkv.narrow(1, 2 * h, h);
      }
    } else if (no_grad && fused_qkv(scale)) {
      if (first_only) {
        const torch::Tensor kv = at::addmm(fused_bias_.narrow(0, h, 2 * h), x2, fused_weight_.narrow(0, h, 2 * h).t());
        k = kv.narrow(1, 0, h);
        v = kv.narrow(1, h, h);
        q = at::addmm(fused_bias_.narrow(0, 0, h), xq2, fused_weight_.narrow(0, 0, h).t());
      } else {
        const torch::Tensor qkv = at::addmm(fused_bias_, x2, fused_weight_.t());
        q = qkv.narrow(1, 0, h);
        k = qkv.narrow(1, h, h);
        v = qkv.narrow(1, 2 * h, h);
      }
    } else {
      q = slots_[0]->forward(xq2).mul(scale);
      k = slots_[1]->forward(x2);
      v = slots_[2]->forward(x2);
    }

    torch::Tensor context;  // [batch * lq, hidden], heads side by side
    if (packed) {
      context = InferenceWorkspace::take(workspace.context, {batch * lq, h});
      AttentionProducts::Shape shape;
      shape.batch = batch;
      shape.heads = nh;
      shape.query_length = lq;
      shape.key_length = length;
      shape.head_dim = d;
      shape.q_stride = q.stride(0);
      shape.k_stride = k.stride(0);
      shape.v_stride = v.stride(0);
      shape.context_stride = h;
      const torch::Tensor bias = mask_bias.defined() ? mask_bias.contiguous() : torch::Tensor();
      attention_.run(shape, q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(),
                     bias.defined() ? bias.data_ptr<float>() : nullptr, context.data_ptr<float>());
    } else if (no_grad) {
      // Per batch row, the heads of q, k and v are strided [heads, len, d] views of the projection
      // outputs (row stride = the outputs' row stride), which BLAS reads in place: no head copies,
      // and the context is written straight into its [len, heads, d] layout.
      const torch::Tensor q4 = q.view({batch, lq, nh, d}), k4 = k.view({batch, length, nh, d});
      const torch::Tensor v4 = v.view({batch, length, nh, d});
      torch::Tensor scores = at::empty({batch, nh, lq, length}, x.options());
      for (std::int64_t b = 0; b < batch; ++b) {
        torch::Tensor out = scores[b];
        at::bmm_out(out, q4[b].transpose(0, 1), k4[b].permute({1, 2, 0}));
      }
      if (mask_bias.defined()) scores.add_(mask_bias);
      torch::Tensor probs = at::softmax(scores, -1);
      if (train && attention_dropout_ > 0) probs = at::dropout(probs, attention_dropout_, true);
      context = at::empty({batch, lq, h}, x.options());
      const torch::Tensor c4 = context.view({batch, lq, nh, d});
      for (std::int64_t b = 0; b < batch; ++b) {
        torch::Tensor out = c4[b].transpose(0, 1);
        at::bmm_out(out, probs[b], v4[b].transpose(0, 1));
      }
      context = context.view({batch * lq, h});
    } else {
      const auto heads_of = [&](const torch::Tensor& t, std::int64_t len) {
        return t.view({batch, len, nh, d}).permute({0, 2, 1, 3}).reshape({batch * nh, len, d});
      };
      torch::Tensor scores = at::bmm(heads_of(q, lq), heads_of(k, length).transpose(1, 2));
      if (mask_bias.defined()) scores = (scores.view({batch, nh, lq, length}) + mask_bias).view({batch * nh, lq, length});
      torch::Tensor probs = at::softmax(scores, -1);
      if (train && attention_dropout_ > 0) probs = at::dropout(probs, attention_dropout_, true);
      context = at::bmm(probs, heads_of(v, length)).view({batch, nh, lq, d}).permute({0, 2, 1, 3}).reshape({batch * lq, h});
    }

    torch::Tensor attended = residual_dense(3, context, xq2, no_grad, train, packed);
    attended = at::layer_norm(attended, {h}, attention_norm_->weight, attention_norm_->bias, eps_);

    torch::Tensor inner;
    auto* intermediate = dynamic_cast<DenseProjectionImpl*>(slots_[4].get());
    if (packed && intermediate != nullptr) {  // the activation runs inside the product's epilogue
      PackedLinear::Epilogue e;
      e.activation = packed_activation();
      inner = run_packed(packed_dense(kIntermediate, *intermediate), attended, e,
                         InferenceWorkspace::take(workspace.inner, {attended.size(0), intermediate->weight.size(0)}));
    } else {
      inner = slots_[4]->forward(attended);
      switch (activation_) {
        case Activation::kGeluErf: inner = no_grad ? at::gelu_(inner, "none") : at::gelu(inner, "none"); break;
        case Activation::kGeluTanh: inner = no_grad ? at::gelu_(inner, "tanh") : at::gelu(inner, "tanh"); break;
        case Activation::kRelu: inner = no_grad ? at::relu_(inner) : at::relu(inner); break;
      }
    }
    torch::Tensor out = residual_dense(5, inner, attended, no_grad, train, packed);
    out = at::layer_norm(out, {h}, output_norm_->weight, output_norm_->bias, eps_);
    return out.view({batch, lq, h});
  }

  // This layer's products, norms and attention kernels for the encoder pass (encoder_pass.h): dense
  // slots packed (cached), others (NF4, LoRA) materialised by their weight_rows writers; false when
  // a slot has no writer (then the model runs op by op).
  bool pass_layer(bool first_only, PackedEncoderLayer& out) {
    out = PackedEncoderLayer{};
    const float scale = static_cast<float>(attention_scale());
    DenseProjectionImpl* qkv[3];
    if (dense_qkv(qkv)) {
      if (first_only) {
        out.projections.push_back({packed_product(packed_key_value(qkv)), hidden_});
        out.first_query = packed_product(packed_query(qkv));
      } else {
        out.projections.push_back({packed_product(packed_query_key_value(qkv)), 0});
      }
    } else {
      // One product over the stacked weights, as the packed path fuses them.
      std::vector<PassProduct> parts;
      for (int s = first_only ? 1 : 0; s < 3; ++s) parts.push_back(materialised(s, s == 0 ? scale : 1.f));
      PassProduct stacked = stack(std::move(parts));
      if (!stacked.defined()) return false;
      out.projections.push_back({std::move(stacked), first_only ? hidden_ : 0});
      if (first_only && !(out.first_query = materialised(0, scale)).defined()) return false;
    }
    const int which[3] = {kAttentionOutput, kIntermediate, kOutput};
    PassProduct* targets[3] = {&out.attention_output, &out.intermediate, &out.output};
    for (int i = 0; i < 3; ++i) {
      auto* dense = dynamic_cast<DenseProjectionImpl*>(slots_[3 + i].get());
      *targets[i] = dense != nullptr ? packed_product(packed_dense(which[i], *dense)) : materialised(3 + i, 1.f);
      if (!targets[i]->defined()) return false;
    }
    out.activation = packed_activation();
    out.attention_norm_weight = attention_norm_->weight.data_ptr<float>();
    out.attention_norm_bias = attention_norm_->bias.data_ptr<float>();
    out.output_norm_weight = output_norm_->weight.data_ptr<float>();
    out.output_norm_bias = output_norm_->bias.data_ptr<float>();
    out.eps = eps_;
    out.attention = &attention_;
    return true;
  }

 private:
  // residual + dropout(slot(x)). A dense slot without autograd adds residual + bias first and lets
  // the GEMM accumulate onto it (beta = 1), which saves a pass over the output.
  torch::Tensor residual_dense(int s, const torch::Tensor& x, const torch::Tensor& residual, bool no_grad, bool train,
                               bool packed) {
    auto* dense = dynamic_cast<DenseProjectionImpl*>(slots_[s].get());
    if (packed && dense != nullptr) {
      PackedLinear::Epilogue e;
      e.accumulate = true;  // onto the residual
      const int which = s == 3 ? kAttentionOutput : kOutput;
      return run_packed(packed_dense(which, *dense), x, e, residual.clone(at::MemoryFormat::Contiguous));
    }
    if (no_grad && dense != nullptr) {
      torch::Tensor acc = dense->bias.defined() ? at::add(residual, dense->bias) : residual.clone();
      return acc.addmm_(x, dense->weight.t());
    }
    torch::Tensor y = slots_[s]->forward(x);
    if (train && hidden_dropout_ > 0) y = at::dropout(y, hidden_dropout_, true);
    return no_grad ? y.add_(residual) : y + residual;
  }

  // True when the query, key and value slots are all dense with biases (then in `dense`).
  bool dense_qkv(DenseProjectionImpl* (&dense)[3]) const {
    for (int s = 0; s < 3; ++s) {
      dense[s] = dynamic_cast<DenseProjectionImpl*>(slots_[s].get());
      if (dense[s] == nullptr || !dense[s]->bias.defined()) return false;
    }
    return true;
  }

  static std::vector<const torch::Tensor*> tensors_of(DenseProjectionImpl* const* dense, int n) {
    std::vector<const torch::Tensor*> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(&dense[i]->weight);
      if (dense[i]->bias.defined()) out.push_back(&dense[i]->bias);
    }
    return out;
  }

  // Identifies the values of `tensors`: storage, size and version counter (bumped by every in-place
  // change: optimiser steps, loading). Inference tensors have no version counter.
  static std::vector<std::int64_t> key_of(const std::vector<const torch::Tensor*>& tensors) {
    std::vector<std::int64_t> key;
    key.reserve(3 * tensors.size());
    for (const torch::Tensor* t : tensors) {
      key.push_back(reinterpret_cast<std::intptr_t>(t->data_ptr()));
      key.push_back(t->numel());
      key.push_back(t->is_inference() ? -1 : static_cast<std::int64_t>(t->_version()));
    }
    return key;
  }

  // True when the query, key and value slots are dense with biases; (re)builds the concatenated
  // weight when any of their tensors moved or changed since it was built. The query rows carry the
  // attention scale 1/sqrt(d) (exact for d a power of 4; else one rounding of the product).
  bool fused_qkv(double scale) {
    DenseProjectionImpl* dense[3];
    if (!dense_qkv(dense)) return false;
    std::vector<std::int64_t> key = key_of(tensors_of(dense, 3));
    if (key != fused_key_ || !fused_weight_.defined()) {
      fused_weight_ = at::cat({dense[0]->weight * scale, dense[1]->weight, dense[2]->weight}, 0);
      fused_bias_ = at::cat({dense[0]->bias * scale, dense[1]->bias, dense[2]->bias}, 0);
      fused_key_ = std::move(key);
    }
    return true;
  }

  // The packed products of the inference path, each kept while the tensors it was packed from are
  // unchanged (key_of); `build` makes its (weight [out, in], bias or undefined) when not.
  enum PackedProduct { kQueryKeyValue, kQueryOnly, kKeyValue, kAttentionOutput, kIntermediate, kOutput, kProducts };
  struct PackedCache {
    std::vector<std::int64_t> key;
    std::unique_ptr<PackedLinear> linear;
  };

  template <typename Build>
  PackedLinear& packed_linear(int which, const std::vector<const torch::Tensor*>& sources, const Build& build) {
    PackedCache& cache = packed_[which];
    std::vector<std::int64_t> key = key_of(sources);
    if (!cache.linear || key != cache.key) {
      const auto [weight, bias] = build();
      const torch::Tensor w = weight.detach().contiguous();
      const torch::Tensor b = bias.defined() ? bias.detach().contiguous() : torch::Tensor();
      cache.linear = std::make_unique<PackedLinear>(w.data_ptr<float>(), b.defined() ? b.data_ptr<float>() : nullptr,
                                                    w.size(0), w.size(1));
      cache.key = std::move(key);
    }
    return *cache.linear;
  }

  double attention_scale() const { return 1.0 / std::sqrt(static_cast<double>(hidden_ / heads_)); }

  // The fused projections of dense query/key/value slots; the query rows carry 1/sqrt(d).
  PackedLinear& packed_query_key_value(DenseProjectionImpl* const (&qkv)[3]) {
    return packed_linear(kQueryKeyValue, tensors_of(qkv, 3), [&] {
      const double scale = attention_scale();
      return std::make_pair(at::cat({qkv[0]->weight * scale, qkv[1]->weight, qkv[2]->weight}, 0),
                            at::cat({qkv[0]->bias * scale, qkv[1]->bias, qkv[2]->bias}, 0));
    });
  }
  PackedLinear& packed_query(DenseProjectionImpl* const (&qkv)[3]) {
    return packed_linear(kQueryOnly, tensors_of(qkv, 3), [&] {
      return std::make_pair(qkv[0]->weight * attention_scale(), qkv[0]->bias * attention_scale());
    });
  }
  PackedLinear& packed_key_value(DenseProjectionImpl* const (&qkv)[3]) {
    return packed_linear(kKeyValue, tensors_of(qkv, 3), [&] {
      return std::make_pair(at::cat({qkv[1]->weight, qkv[2]->weight}, 0), at::cat({qkv[1]->bias, qkv[2]->bias}, 0));
    });
  }

  static PassProduct packed_product(PackedLinear& linear) {
    PassProduct p;
    p.packed = &linear;
    return p;
  }

  // Slot s as a weight the pass writes each forward (times `scale`, with its bias scaled alike);
  // undefined when the slot has no writer.
  PassProduct materialised(int s, float scale) const {
    PassProduct p;
    p.writer = slots_[s]->weight_rows(scale);
    if (!p.writer) return p;
    p.out = slots_[s]->out_features();
    p.in = slots_[s]->in_features();
    const torch::Tensor bias = slots_[s]->effective_bias();
    if (bias.defined()) {
      const torch::Tensor b = (bias.to(torch::kFloat) * scale).contiguous();
      p.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    }
    return p;
  }

  // The products' weights stacked row-wise into one (same in features), biases likewise; undefined
  // when any part is.
  static PassProduct stack(std::vector<PassProduct> parts) {
    struct Stacked : WeightRowWriter {
      std::vector<std::unique_ptr<WeightRowWriter>> writers;
      std::vector<std::int64_t> first_row;  // of each part, plus the total at the end
      std::int64_t in = 0;
      void write(std::int64_t begin, std::int64_t end, float* w) const override {
        for (std::size_t i = 0; i < writers.size(); ++i) {
          const std::int64_t lo = std::max(begin, first_row[i]), hi = std::min(end, first_row[i + 1]);
          if (lo < hi) writers[i]->write(lo - first_row[i], hi - first_row[i], w + first_row[i] * in);
        }
      }
    };
    PassProduct out;
    auto stacked = std::make_unique<Stacked>();
    stacked->first_row.push_back(0);
    const bool biased = !parts.empty() && !parts.front().bias.empty();
    for (PassProduct& p : parts) {
      if (!p.defined() || p.bias.empty() != !biased) return PassProduct{};
      out.in = stacked->in = p.in;
      out.out += p.out;
      out.bias.insert(out.bias.end(), p.bias.begin(), p.bias.end());
      stacked->writers.push_back(std::move(p.writer));
      stacked->first_row.push_back(out.out);
    }
    out.writer = std::move(stacked);
    return out;
  }

  PackedLinear::Activation packed_activation() const {
    switch (activation_) {
      case Activation::kGeluErf: return PackedLinear::Activation::kGeluErf;
      case Activation::kGeluTanh: return PackedLinear::Activation::kGeluTanh;
      case Activation::kRelu: break;
    }
    return PackedLinear::Activation::kRelu;
  }

  PackedLinear& packed_dense(int which, DenseProjectionImpl& dense) {
    DenseProjectionImpl* one[1] = {&dense};
    return packed_linear(which, tensors_of(one, 1), [&] { return std::make_pair(dense.weight, dense.bias); });
  }

  // y = act(x W^T + b [+ y when e.accumulate]) through `linear`; x and y 2-d float32 on the CPU with
  // unit column stride (x is made so), y [rows, out]. Returns y.
  static torch::Tensor run_packed(PackedLinear& linear, const torch::Tensor& x_in, PackedLinear::Epilogue e,
                                  torch::Tensor y) {
    const torch::Tensor x = x_in.stride(1) == 1 ? x_in : x_in.contiguous();
    linear.apply(x.data_ptr<float>(), x.size(0), x.stride(0), y.data_ptr<float>(), y.stride(0), e);
    return y;
  }

  std::int64_t hidden_, heads_;
  double eps_;
  Activation activation_;
  double attention_dropout_, hidden_dropout_;
  torch::nn::Module* parents_[kSlots] = {};
  Projection slots_[kSlots];
  torch::nn::LayerNorm attention_norm_{nullptr}, output_norm_{nullptr};
  torch::Tensor fused_weight_, fused_bias_;
  std::vector<std::int64_t> fused_key_;
  PackedCache packed_[kProducts];
  AttentionProducts attention_;  // the attention products of the packed path
};
TORCH_MODULE(BertLayer);

}  // namespace

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
  auto embeddings = register_module("embeddings", container());
  impl_->word = embeddings->register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, h).padding_idx(c.pad_token_id)));
  impl_->position = embeddings->register_module("position_embeddings",
                                                torch::nn::Embedding(c.max_position_embeddings, h));
  impl_->token_type = embeddings->register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, h));
  impl_->embedding_norm = embeddings->register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps)));
  auto encoder = register_module("encoder", container());
  auto list = encoder->register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    impl_->layers.emplace_back(c);
    list->push_back(impl_->layers.back());
  }
  auto pooler = register_module("pooler", container());
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
