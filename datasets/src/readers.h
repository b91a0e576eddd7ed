// The reader entries of datasets/, collected by register_datasets() (register.cpp).
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench {

ReaderEntry csv_reader_entry();
ReaderEntry flowbench_reader_entry();
ReaderEntry synthetic_workflow_entry();

// Families of readers, each in its own file: logs (loghub, HDFS sessions), jobs (Slurm sacct, SWF,
// Google cluster traces), telemetry (LDMS).
void add_log_readers(Registry& registry);
void add_job_readers(Registry& registry);
void add_telemetry_readers(Registry& registry);

}  // namespace opsbench
