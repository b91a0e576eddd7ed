#include "torch_runtime.h"

#include "opsbench/core/context.h"
#include "opsbench/core/environment.h"

#ifdef OPSBENCH_HAVE_TORCH
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <torch/torch.h>
#endif

namespace opsbench::models {
namespace {

#ifdef OPSBENCH_HAVE_TORCH
void apply_torch(const Context& ctx) {
  torch::manual_seed(ctx.seed);
  // libtorch sets OpenMP to one thread when it loads; pin it to the context so other OpenMP code in
  // the process (OpenBLAS, XGBoost) is not silently slowed down either.
  at::set_num_threads(ctx.threads);
}

void describe_torch(Environment& env) {
  env.set("libtorch", TORCH_VERSION);
  env.set("torch threads (intra-op)", std::to_string(at::get_num_threads()));
  env.set("torch threads (inter-op)", std::to_string(at::get_num_interop_threads()));
}
#endif

}  // namespace

void install_torch_runtime() {
#ifdef OPSBENCH_HAVE_TORCH
  static const bool installed = [] {
    add_runtime_hook(apply_torch);
    add_environment_hook(describe_torch);
    return true;
  }();
  (void)installed;
#endif
}

}  // namespace opsbench::models
