// Attention products on oneDNN, one task per (batch row, head) (see attention_kernels.h).
#include "attention_kernels.h"

#ifdef OPSBENCH_HAVE_TORCH

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <dnnl.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "onednn_engine.h"
#include "opsbench/core/error.h"

namespace opsbench::models {

namespace {

using dnnl::memory;
using Dims = memory::dims;

memory::desc strided(std::int64_t rows, std::int64_t cols, std::int64_t row_stride, std::int64_t col_stride) {
  return memory::desc({rows, cols}, memory::data_type::f32, Dims{row_stride, col_stride});
}

}  // namespace

struct AttentionProducts::Impl {
  struct Kernels {
    memory::desc q, k_t, scores, v, context;
    dnnl::matmul scores_product, context_product;
    memory::desc scores_scratchpad, context_scratchpad;
  };
  using Key =
      std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
  std::map<Key, Kernels> kernels;

  static Key key_of(const Shape& s) {
    return Key{s.query_length, s.key_length, s.head_dim, s.q_stride, s.k_stride, s.v_stride, s.context_stride};
  }

  const Kernels& kernels_for(const Shape& s) {
    const Key key = key_of(s);
    auto it = kernels.find(key);
    if (it != kernels.end()) return it->second;
    Kernels k;
    k.q = strided(s.query_length, s.head_dim, s.q_stride, 1);
    k.k_t = strided(s.head_dim, s.key_length, 1, s.k_stride);  // k_h^T read in place
    k.scores = strided(s.query_length, s.key_length, s.key_length, 1);
    k.v = strided(s.key_length, s.head_dim, s.v_stride, 1);
    k.context = strided(s.query_length, s.head_dim, s.context_stride, 1);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-thread scratchpads (onednn_engine.h)
    const dnnl::matmul::primitive_desc scores_pd(dnnl::matmul::desc(k.q, k.k_t, k.scores), attr, onednn_cpu_engine());
    const dnnl::matmul::primitive_desc context_pd(dnnl::matmul::desc(k.scores, k.v, k.context), attr,
                                                  onednn_cpu_engine());
    k.scores_product = dnnl::matmul(scores_pd);
    k.context_product = dnnl::matmul(context_pd);
    k.scores_scratchpad = scores_pd.scratchpad_desc();
    k.context_scratchpad = context_pd.scratchpad_desc();
    return kernels.emplace(key, std::move(k)).first->second;
  }
};

AttentionProducts::AttentionProducts() : impl_(std::make_unique<Impl>()) {}
AttentionProducts::~AttentionProducts() = default;

void AttentionProducts::prepare(const Shape& s) {
  try {
    (void)impl_->kernels_for(s);
  } catch (const dnnl::error& e) {
    throw ModelError(std::string("oneDNN attention primitives failed: ") + e.what());
  }
}

void AttentionProducts::run(const Shape& s, const float* q, const float* k, const float* v, const float* mask_bias,
                            float* context) {
  if (s.batch == 0 || s.heads == 0 || s.query_length == 0) return;
  prepare(s);
  // Tasks run inside the OpenMP region, so each oneDNN call and the softmax run on one thread.
  at::parallel_for(0, s.batch * s.heads, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t task = begin; task < end; ++task) run_task(s, task, q, k, v, mask_bias, context);
  });
}

void AttentionProducts::run_task(const Shape& s, std::int64_t task, const float* q, const float* k, const float* v,
                                 const float* mask_bias, float* context) const {
  const auto found = impl_->kernels.find(Impl::key_of(s));
  if (found == impl_->kernels.end()) throw ModelError("AttentionProducts: shape not prepared before run_task");
  const Impl::Kernels& kernels = found->second;
  const std::int64_t lq = s.query_length, lk = s.key_length, d = s.head_dim;
  thread_local std::vector<float> scores;
  scores.resize(static_cast<std::size_t>(lq * lk));
  const std::int64_t b = task / s.heads, h = task % s.heads;
  const float* qh = q + b * lq * s.q_stride + h * d;
  const float* kh = k + b * lk * s.k_stride + h * d;
  const float* vh = v + b * lk * s.v_stride + h * d;
  float* ch = context + b * lq * s.context_stride + h * d;
  try {
    memory q_mem(kernels.q, onednn_cpu_engine(), const_cast<float*>(qh));
    memory k_mem(kernels.k_t, onednn_cpu_engine(), const_cast<float*>(kh));
    memory s_mem(kernels.scores, onednn_cpu_engine(), scores.data());
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, k_mem}, {DNNL_ARG_DST, s_mem}};
    onednn_execute(kernels.scores_product, kernels.scores_scratchpad, args);
    if (mask_bias != nullptr) {
      const float* bias = mask_bias + b * lk;
      for (std::int64_t i = 0; i < lq; ++i) {
        float* row = scores.data() + i * lk;
        for (std::int64_t j = 0; j < lk; ++j) row[j] += bias[j];
      }
    }
    torch::Tensor scores_view = torch::from_blob(scores.data(), {lq, lk}, torch::kFloat);
    at::_softmax_out(scores_view, scores_view, -1, false);  // row by row: may overwrite its input
    memory v_mem(kernels.v, onednn_cpu_engine(), const_cast<float*>(vh));
    memory c_mem(kernels.context, onednn_cpu_engine(), ch);
    args = {{DNNL_ARG_SRC, s_mem}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, c_mem}};
    onednn_execute(kernels.context_product, kernels.context_scratchpad, args);
  } catch (const dnnl::error& e) {
    throw ModelError(std::string("oneDNN attention product failed: ") + e.what());
  }
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
