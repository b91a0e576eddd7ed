// Multi-head attention products for encoder inference on the CPU (private to models/; used by the
// packed inference path of bert.cpp next to PackedLinear).
//
// Why: the dense products of that path run on oneDNN's OpenMP threads; leaving the attention
// products to OpenBLAS (its own pthreads, which spin after each call) put four busy threads on two
// cores and made two-thread BERT-base batch-1 inference 0.7x of PyTorch. Here every (batch row,
// head) pair is one task of at::parallel_for (the same OpenMP pool): scores = q_h k_h^T by a
// oneDNN matmul on the heads' strided views, + the padding bias, softmax in place (torch's
// vectorised kernel), context_h = probs v_h written straight into the context rows.
//
// Layout (float32, row-major, head h at columns [h d, (h+1) d) of its row):
//   q: rows b * query_length + i, row stride q_stride (already scaled by 1/sqrt(d));
//   k, v: rows b * key_length + j, row strides k_stride, v_stride;
//   mask_bias: [batch, key_length] added to every query's scores (0 / lowest float), or nullptr;
//   context: rows b * query_length + i, row stride context_stride (written).
// Results equal the bmm/softmax/bmm route to float rounding, and do not depend on the thread count
// (one task is one thread's work). prepare() changes the object (primitives cached per shape);
// run_task() on a prepared shape may run on several threads at once. Errors from oneDNN become
// opsbench::ModelError.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH  // oneDNN and ATen come with the torch build

#include <cstdint>
#include <memory>

namespace opsbench::models {

class AttentionProducts {
 public:
  struct Shape {
    std::int64_t batch = 0, heads = 0, query_length = 0, key_length = 0, head_dim = 0;
    std::int64_t q_stride = 0, k_stride = 0, v_stride = 0, context_stride = 0;
  };

  AttentionProducts();
  ~AttentionProducts();
  AttentionProducts(const AttentionProducts&) = delete;
  AttentionProducts& operator=(const AttentionProducts&) = delete;

  // All batch * heads tasks on at::parallel_for (prepares the shape first).
  void run(const Shape& shape, const float* q, const float* k, const float* v, const float* mask_bias, float* context);

  // Makes the primitives for `shape` ready; then run_task may run concurrently.
  void prepare(const Shape& shape);
  // Task b * heads + h: head h of batch row b, on the calling thread alone.
  void run_task(const Shape& shape, std::int64_t task, const float* q, const float* k, const float* v,
                const float* mask_bias, float* context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
