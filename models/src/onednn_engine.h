// The one oneDNN CPU engine of the process (private to models/; used by packed_linear.cpp and
// attention_kernels.cpp). Created on first use; oneDNN engines are safe to share between threads.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH  // oneDNN is linked with libtorch (CMakeLists.txt)

#include <dnnl.hpp>

namespace opsbench::models {

inline dnnl::engine& onednn_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
