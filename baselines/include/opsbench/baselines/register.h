// register_baselines(): adds every classical method of baselines/ to a registry.
//   iforest  IsolationForest (Liu, Ting and Zhou 2008)
//   pca      PCA reconstruction-error detector on standardised data
#pragma once

namespace opsbench {
class Registry;
void register_baselines(Registry& registry);
}  // namespace opsbench
