#include "opsbench/models/register.h"

#include "torch_runtime.h"

namespace opsbench {

void register_models(Registry& /*registry*/) { models::install_torch_runtime(); }

bool have_torch() {
#ifdef OPSBENCH_HAVE_TORCH
  return true;
#else
  return false;
#endif
}

}  // namespace opsbench
