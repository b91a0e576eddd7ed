// Families of baselines/ methods, each registered from its own file by register_baselines().
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench {

// lof, knn, hbos, ecod (neighbour- and histogram-based detectors).
void add_neighbour_detectors(Registry& registry);
// logreg, tree, forest, xgboost.
void add_classifiers(Registry& registry);

}  // namespace opsbench
