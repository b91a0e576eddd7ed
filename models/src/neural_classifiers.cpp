// Registration of models/ methods (see methods.h).
#include "methods.h"

namespace opsbench::models {

void add_neural_classifiers(Registry& /*registry*/) {}

}  // namespace opsbench::models
