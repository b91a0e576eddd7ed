// The reader entries of datasets/, collected by register_datasets() (register.cpp).
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench {

ReaderEntry csv_reader_entry();
ReaderEntry flowbench_reader_entry();
ReaderEntry synthetic_workflow_entry();

// Families of readers, each in its own file: logs (loghub, HDFS sessions), jobs (Slurm sacct, SWF,
// Google cluster traces), telemetry (LDMS), text for the transformer-encoder suites (Flow-Bench
// sentences, HDFS sessions as event-template text; text_readers.cpp).
void add_log_readers(Registry& registry);
void add_job_readers(Registry& registry);
void add_telemetry_readers(Registry& registry);
void add_text_readers(Registry& registry);

}  // namespace opsbench
