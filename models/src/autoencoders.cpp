// Registration of models/ methods (see methods.h).
#include "methods.h"

namespace opsbench::models {

void add_autoencoders(Registry& /*registry*/) {}

}  // namespace opsbench::models
