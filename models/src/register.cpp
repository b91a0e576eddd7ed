#include "opsbench/models/register.h"

#include "cuda_memory.h"
#include "methods.h"
#include "torch_runtime.h"

namespace opsbench {

void register_models(Registry& registry) {
  models::install_torch_runtime();
  models::install_cuda_memory_probe();
#ifdef OPSBENCH_HAVE_TORCH
  models::add_autoencoders(registry);
  models::add_neural_classifiers(registry);
  models::add_vae_methods(registry);
  models::add_encoder_classifiers(registry);
#else
  (void)registry;
#endif
}

bool have_torch() {
#ifdef OPSBENCH_HAVE_TORCH
  return true;
#else
  return false;
#endif
}

}  // namespace opsbench
