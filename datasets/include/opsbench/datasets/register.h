// register_datasets(): adds every reader and generator of datasets/ to a registry.
//   csv                 generic CSV with a declared schema (one file, or train/validation/test files)
//   flowbench           Flow-Bench per-job traces (all runs of one workflow, group = run)
//   synthetic-workflow  Flow-Bench-shaped generated jobs with injected CPU/disk slowdowns
#pragma once

namespace opsbench {
class Registry;
void register_datasets(Registry& registry);
}  // namespace opsbench
