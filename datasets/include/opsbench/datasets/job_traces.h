// Readers of batch-job traces: Slurm `sacct --parsable2` output and the Standard Workload Format
// (SWF, Feitelson's Parallel Workloads Archive). One row per job; the label is the job's end state.
//
// Submit-time features (known when the job is submitted, hence usable for end-state prediction):
//   submit_hour, submit_day_of_week (0 = Monday), submit_day_of_month, req_cpus, req_mem_mb,
//   req_nodes (sacct), timelimit_s, partition (categorical), user_freq and partition_freq (the
//   number of jobs kept from the file, i.e. with an end state, by the same user / partition: a
//   frequency encoding over the whole file; it uses no labels).
// With features = "all" the after-the-fact columns are added as well: elapsed_s, wait_s
// (start - submit), alloc_cpus, exit_code (sacct); run_time_s, wait_s, alloc_procs (SWF). They are
// NOT known at submit time: a model using them does not predict, it describes.
//
// sacct (--parsable2, '|' separated, a header naming the columns; JobID and State are required,
// the others optional): JobID "123", "123_4" (array task) and steps "123.batch", "123.extern",
// "123_4.0" are folded into one job per id before the first '.': the allocation row (no step
// suffix) gives the job's values; a job seen only through steps takes its first step row. State:
// the first word ("CANCELLED by 123" -> CANCELLED; a trailing '+' is dropped); it must be one of
// Slurm's job states (DataError with file:line:column otherwise); jobs still PENDING, RUNNING,
// REQUEUED_HOLD, RESIZING or SUSPENDED have no end state and are skipped (counted in the
// description). Elapsed / Timelimit: [D-]HH:MM:SS, MM:SS or MM:SS.mmm ("UNLIMITED",
// "Partition_Limit", "" and "INVALID" are missing); anything else is a DataError. ReqMem: a number
// with an optional unit K/M/G/T and an optional per-cpu/per-node suffix c/n ("4000Mc", "4G"),
// in MB. Timestamps: YYYY-MM-DDTHH:MM:SS ("Unknown", "None" -> missing), read as UTC.
//
// SWF: 18 whitespace-separated fields per line, ';' lines are header comments (UnixStartTime gives
// the epoch of time 0; without it, hour and day features count from time 0), -1 = missing. The
// label is the status field (1 completed, 0 failed, 5 cancelled, 2/3/4 partial-execution states);
// rows with status -1 are skipped (counted in the description). A line with another field count or
// a field that is not a number is a DataError with file:line:column.
#pragma once

#include <string>

#include "opsbench/core/dataset.h"

namespace opsbench {

struct JobTraceOptions {
  std::string features = "submit";  // submit | all
};

Dataset read_sacct(const std::string& path, const JobTraceOptions& options);
Dataset read_swf(const std::string& path, const JobTraceOptions& options);

// Parses a Slurm duration ([D-]HH:MM:SS, MM:SS, MM:SS.mmm) into seconds; false when malformed.
// Sets `missing` for UNLIMITED, Partition_Limit, INVALID and "".
bool parse_slurm_duration(const std::string& text, double& seconds, bool& missing);

}  // namespace opsbench
