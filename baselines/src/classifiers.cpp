// Registration of the supervised classifiers (see methods.h).
#include "methods.h"

namespace opsbench {

void add_classifiers(Registry& /*registry*/) {}

}  // namespace opsbench
