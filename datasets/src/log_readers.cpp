// The log readers of datasets/ (see readers.h).
#include "readers.h"

namespace opsbench {

void add_log_readers(Registry& /*registry*/) {}

}  // namespace opsbench
