// The one oneDNN CPU engine of the process, and per-thread streams and scratchpads (private to
// models/; used by packed_linear.cpp and attention_kernels.cpp).
//
// Primitives there are made with scratchpad_mode::user and run with the calling thread's stream
// and scratchpad: oneDNN's default (library) scratchpad is shared by all primitives of the thread
// that made them, so a primitive may not run on another thread; with a scratchpad of its own per
// thread, one primitive may run on several threads at once (oneDNN's documented thread-safety rule
// for user scratchpads). That is what the encoder pass (encoder_pass.h) needs.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH  // oneDNN is linked with libtorch (CMakeLists.txt)

#include <cstddef>
#include <cstdlib>
#include <dnnl.hpp>
#include <memory>
#include <new>
#include <unordered_map>

#include "packed_linear.h"

namespace opsbench::models {

inline dnnl::engine& onednn_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

inline dnnl::stream& onednn_thread_stream() {
  thread_local dnnl::stream stream(onednn_cpu_engine());
  return stream;
}

// This thread's scratchpad buffer of at least `bytes`, grown as needed and kept for the thread's
// life: valid until the next call on the same thread.
inline void* onednn_thread_scratchpad_buffer(std::size_t bytes) {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<void, Free> buffer;
  thread_local std::size_t capacity = 0;
  if (bytes > capacity) {
    const std::size_t rounded = (bytes + 4095) / 4096 * 4096;
    buffer.reset(std::aligned_alloc(64, rounded));
    if (!buffer) throw std::bad_alloc();
    capacity = rounded;
  }
  return buffer.get();
}

// A scratchpad memory for `desc` (from primitive_desc::scratchpad_desc()) on this thread's buffer.
inline dnnl::memory onednn_thread_scratchpad(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, onednn_cpu_engine(), onednn_thread_scratchpad_buffer(desc.get_size()));
}

// Runs `primitive` on this thread's stream, with this thread's scratchpad when `scratchpad` is not
// empty, and waits for it.
inline void onednn_execute(const dnnl::primitive& primitive, const dnnl::memory::desc& scratchpad,
                           std::unordered_map<int, dnnl::memory>& args) {
  if (scratchpad.get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = onednn_thread_scratchpad(scratchpad);
  dnnl::stream& stream = onednn_thread_stream();
  primitive.execute(stream, args);
  stream.wait();
}

// The attributes of a matmul with `epilogue` (sum and eltwise post-ops) and a user scratchpad.
inline dnnl::primitive_attr onednn_matmul_attr(PackedLinear::Epilogue epilogue) {
  dnnl::post_ops ops;
  if (epilogue.accumulate) ops.append_sum(1.f);
  dnnl::algorithm activation = dnnl::algorithm::undef;
  switch (epilogue.activation) {
    case PackedLinear::Activation::kGeluErf:
      activation = dnnl::algorithm::eltwise_gelu_erf;
      break;
    case PackedLinear::Activation::kGeluTanh:
      activation = dnnl::algorithm::eltwise_gelu_tanh;
      break;
    case PackedLinear::Activation::kRelu:
      activation = dnnl::algorithm::eltwise_relu;
      break;
    case PackedLinear::Activation::kNone:
      break;
  }
  if (activation != dnnl::algorithm::undef) ops.append_eltwise(1.f, activation, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-thread scratchpads, above
  return attr;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
