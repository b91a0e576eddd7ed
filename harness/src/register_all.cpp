#include "opsbench/harness/register_all.h"

#include "opsbench/baselines/register.h"
#include "opsbench/core/metric_list.h"
#include "opsbench/datasets/register.h"
#include "opsbench/models/register.h"

namespace opsbench {

const Registry& builtin_registry() {
  static const Registry registry = [] {
    Registry r;
    register_metrics(r);
    register_datasets(r);
    register_baselines(r);
    register_models(r);
    return r;
  }();
  return registry;
}

}  // namespace opsbench
