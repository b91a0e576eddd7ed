// register_datasets(): the explicit list of datasets/' readers and generators.
#include "opsbench/datasets/register.h"

#include "opsbench/core/registry.h"
#include "readers.h"

namespace opsbench {

void register_datasets(Registry& registry) {
  registry.add(csv_reader_entry());
  registry.add(flowbench_reader_entry());
  registry.add(synthetic_workflow_entry());
  add_log_readers(registry);
  add_job_readers(registry);
  add_telemetry_readers(registry);
  add_text_readers(registry);
}

}  // namespace opsbench
