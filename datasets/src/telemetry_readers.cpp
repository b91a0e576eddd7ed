// The telemetry readers of datasets/ (see readers.h).
#include "readers.h"

namespace opsbench {

void add_telemetry_readers(Registry& /*registry*/) {}

}  // namespace opsbench
