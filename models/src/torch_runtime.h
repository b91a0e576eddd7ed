// libtorch runtime hooks (private to models/): keeps <torch/torch.h> out of every other header.
#pragma once

namespace opsbench::models {
// Idempotent. Context::apply() then calls torch::manual_seed(ctx.seed) and
// at::set_num_threads(ctx.threads); capture_environment() records the libtorch version and its
// thread settings. A no-op in builds without libtorch.
void install_torch_runtime();
}  // namespace opsbench::models
