// The reader entries of datasets/, collected by register_datasets() (register.cpp).
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench {

ReaderEntry csv_reader_entry();
ReaderEntry flowbench_reader_entry();
ReaderEntry synthetic_workflow_entry();

}  // namespace opsbench
