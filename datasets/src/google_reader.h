// Reader "google2011": the job_events table of the Google cluster trace (clusterdata-2011-2), one
// row per job labelled with its end state. Private to datasets/: job_readers.cpp registers it.
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench {

// The entry of reader "google2011" (options, description and the read function); see
// google_reader.cpp for the features, the label and the leak-free choices.
ReaderEntry google2011_reader_entry();

}  // namespace opsbench
