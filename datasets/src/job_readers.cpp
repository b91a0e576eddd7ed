// The job readers of datasets/ (see readers.h).
#include "readers.h"

namespace opsbench {

void add_job_readers(Registry& /*registry*/) {}

}  // namespace opsbench
