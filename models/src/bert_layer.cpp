// BertLayerImpl (see bert_layer.h).
#ifdef OPSBENCH_HAVE_TORCH

#include "bert_layer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "opsbench/core/error.h"

namespace opsbench::models {

namespace {

const char* slot_leaf(Slot slot) {
  switch (slot) {
    case Slot::kQuery:
      return "query";
    case Slot::kKey:
      return "key";
    case Slot::kValue:
      return "value";
    default:
      return "dense";
  }
}

std::vector<const torch::Tensor*> tensors_of(DenseProjectionImpl* const* dense, int n) {
  std::vector<const torch::Tensor*> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(&dense[i]->weight);
    if (dense[i]->bias.defined()) out.push_back(&dense[i]->bias);
  }
  return out;
}

// Identifies the values of `tensors`: storage, size and version counter (bumped by every in-place
// change: optimiser steps, loading). Inference tensors have no version counter.
std::vector<std::int64_t> key_of(const std::vector<const torch::Tensor*>& tensors) {
  std::vector<std::int64_t> key;
  key.reserve(3 * tensors.size());
  for (const torch::Tensor* t : tensors) {
    key.push_back(reinterpret_cast<std::intptr_t>(t->data_ptr()));
    key.push_back(t->numel());
    key.push_back(t->is_inference() ? -1 : static_cast<std::int64_t>(t->_version()));
  }
  return key;
}

PassProduct packed_product(PackedLinear& linear) {
  PassProduct p;
  p.packed = &linear;
  return p;
}

// The products' weights stacked row-wise into one (same in features), biases likewise; undefined
// when any part is.
PassProduct stack(std::vector<PassProduct> parts) {
  struct Stacked : WeightRowWriter {
    std::vector<std::unique_ptr<WeightRowWriter>> writers;
    std::vector<std::int64_t> first_row;  // of each part, plus the total at the end
    std::int64_t in = 0;
    void write(std::int64_t begin, std::int64_t end, float* w) const override {
      for (std::size_t i = 0; i < writers.size(); ++i) {
        const std::int64_t lo = std::max(begin, first_row[i]), hi = std::min(end, first_row[i + 1]);
        if (lo < hi) writers[i]->write(lo - first_row[i], hi - first_row[i], w + (lo - begin) * in);
      }
    }
    bool write_packed(std::int64_t begin, std::int64_t end, const BlockedLayout& layout,
                      float* packed_block) const override {
      for (std::size_t i = 0; i < writers.size(); ++i) {  // a block within one part only
        if (begin >= first_row[i] && end <= first_row[i + 1])
          return writers[i]->write_packed(begin - first_row[i], end - first_row[i], layout, packed_block);
      }
      return false;
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

// y = act(x W^T + b [+ y when e.accumulate]) through `linear`; x and y 2-d float32 on the CPU with
// unit column stride (x is made so), y [rows, out]. Returns y.
torch::Tensor run_packed(PackedLinear& linear, const torch::Tensor& x_in, PackedLinear::Epilogue e, torch::Tensor y) {
  const torch::Tensor x = x_in.stride(1) == 1 ? x_in : x_in.contiguous();
  linear.apply(x.data_ptr<float>(), x.size(0), x.stride(0), y.data_ptr<float>(), y.stride(0), e);
  return y;
}

}  // namespace

HiddenActivation hidden_activation_of(const std::string& name) {
  if (name == "gelu") return HiddenActivation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return HiddenActivation::kGeluTanh;
  if (name == "relu") return HiddenActivation::kRelu;
  throw ConfigError("hidden_act '" + name + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

std::shared_ptr<torch::nn::Module> named_container() { return std::make_shared<torch::nn::Module>(); }

torch::Tensor InferenceWorkspace::take(torch::Tensor& slot, at::IntArrayRef sizes) {
  std::int64_t n = 1;
  for (std::int64_t s : sizes) n *= s;
  if (!slot.defined() || slot.numel() < n || slot.is_inference() != c10::InferenceMode::is_enabled()) {
    slot = at::empty({n}, torch::TensorOptions().dtype(torch::kFloat));
  }
  return slot.narrow(0, 0, n).view(sizes);
}

BertLayerImpl::BertLayerImpl(const BertConfig& c)
    : hidden_(c.hidden_size),
      heads_(c.num_attention_heads),
      eps_(c.layer_norm_eps),
      activation_(hidden_activation_of(c.hidden_act)),
      attention_dropout_(c.attention_probs_dropout_prob),
      hidden_dropout_(c.hidden_dropout_prob) {
  auto attention = register_module("attention", named_container());
  parents_[0] = parents_[1] = parents_[2] = attention->register_module("self", named_container()).get();
  auto attention_output = attention->register_module("output", named_container());
  parents_[3] = attention_output.get();
  parents_[4] = register_module("intermediate", named_container()).get();
  auto output = register_module("output", named_container());
  parents_[5] = output.get();
  const std::int64_t h = c.hidden_size, m = c.intermediate_size;
  const std::int64_t in[kLayerSlots] = {h, h, h, h, h, m}, out[kLayerSlots] = {h, h, h, h, m, h};
  for (int s = 0; s < kLayerSlots; ++s) {
    slots_[s] = parents_[s]->register_module(slot_leaf(Slot(s)), std::make_shared<DenseProjectionImpl>(in[s], out[s]));
  }
  const auto ln = torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps);
  attention_norm_ = attention_output->register_module("LayerNorm", torch::nn::LayerNorm(ln));
  output_norm_ = output->register_module("LayerNorm", torch::nn::LayerNorm(ln));
}

void BertLayerImpl::set_slot(Slot s, Projection module) {
  const int i = static_cast<int>(s);
  module->train(is_training());
  slots_[i] = parents_[i]->replace_module(slot_leaf(s), std::move(module));
  release_cache();
}

void BertLayerImpl::release_cache() {
  fused_weight_ = fused_bias_ = torch::Tensor();
  fused_key_.clear();
  for (auto& p : packed_) p = PackedCache{};
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_bias, bool first_only,
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
    context =
        at::bmm(probs, heads_of(v, length)).view({batch, nh, lq, d}).permute({0, 2, 1, 3}).reshape({batch * lq, h});
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
      case HiddenActivation::kGeluErf:
        inner = no_grad ? at::gelu_(inner, "none") : at::gelu(inner, "none");
        break;
      case HiddenActivation::kGeluTanh:
        inner = no_grad ? at::gelu_(inner, "tanh") : at::gelu(inner, "tanh");
        break;
      case HiddenActivation::kRelu:
        inner = no_grad ? at::relu_(inner) : at::relu(inner);
        break;
    }
  }
  torch::Tensor out = residual_dense(5, inner, attended, no_grad, train, packed);
  out = at::layer_norm(out, {h}, output_norm_->weight, output_norm_->bias, eps_);
  return out.view({batch, lq, h});
}

bool BertLayerImpl::pass_layer(bool first_only, PackedEncoderLayer& out) {
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

torch::Tensor BertLayerImpl::residual_dense(int s, const torch::Tensor& x, const torch::Tensor& residual, bool no_grad,
                                            bool train, bool packed) {
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

bool BertLayerImpl::dense_qkv(DenseProjectionImpl* (&dense)[3]) const {
  for (int s = 0; s < 3; ++s) {
    dense[s] = dynamic_cast<DenseProjectionImpl*>(slots_[s].get());
    if (dense[s] == nullptr || !dense[s]->bias.defined()) return false;
  }
  return true;
}

bool BertLayerImpl::fused_qkv(double scale) {
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

template <typename Build>
PackedLinear& BertLayerImpl::packed_linear(int which, const std::vector<const torch::Tensor*>& sources,
                                           const Build& build) {
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

PackedLinear& BertLayerImpl::packed_query_key_value(DenseProjectionImpl* const (&qkv)[3]) {
  return packed_linear(kQueryKeyValue, tensors_of(qkv, 3), [&] {
    const double scale = attention_scale();
    return std::make_pair(at::cat({qkv[0]->weight * scale, qkv[1]->weight, qkv[2]->weight}, 0),
                          at::cat({qkv[0]->bias * scale, qkv[1]->bias, qkv[2]->bias}, 0));
  });
}

PackedLinear& BertLayerImpl::packed_query(DenseProjectionImpl* const (&qkv)[3]) {
  return packed_linear(kQueryOnly, tensors_of(qkv, 3), [&] {
    return std::make_pair(qkv[0]->weight * attention_scale(), qkv[0]->bias * attention_scale());
  });
}

PackedLinear& BertLayerImpl::packed_key_value(DenseProjectionImpl* const (&qkv)[3]) {
  return packed_linear(kKeyValue, tensors_of(qkv, 3), [&] {
    return std::make_pair(at::cat({qkv[1]->weight, qkv[2]->weight}, 0), at::cat({qkv[1]->bias, qkv[2]->bias}, 0));
  });
}

PassProduct BertLayerImpl::materialised(int s, float scale) const {
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

PackedLinear::Activation BertLayerImpl::packed_activation() const {
  switch (activation_) {
    case HiddenActivation::kGeluErf:
      return PackedLinear::Activation::kGeluErf;
    case HiddenActivation::kGeluTanh:
      return PackedLinear::Activation::kGeluTanh;
    case HiddenActivation::kRelu:
      break;
  }
  return PackedLinear::Activation::kRelu;
}

PackedLinear& BertLayerImpl::packed_dense(int which, DenseProjectionImpl& dense) {
  DenseProjectionImpl* one[1] = {&dense};
  return packed_linear(which, tensors_of(one, 1), [&] { return std::make_pair(dense.weight, dense.bias); });
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
