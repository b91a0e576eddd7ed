// The registry of everything opsbench ships: metrics (core), readers (datasets), classical methods
// (baselines) and neural methods (models), in that order. Built once per process.
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench {
const Registry& builtin_registry();
}  // namespace opsbench
