// Registration of models/ methods (see methods.h).
#include "methods.h"

namespace opsbench::models {

void add_vae_methods(Registry& /*registry*/) {}

}  // namespace opsbench::models
