#include "opsbench/core/record.h"

namespace opsbench {

const char* to_string(CellStatus status) { return status == CellStatus::kOk ? "ok" : "failed"; }

const Figure* RunRecord::figure(const std::string& name) const {
  for (const auto& f : figures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string RunRecord::key() const {
  // '|' appears in no suite, dataset or spec name (spec lists use ';').
  return suite + '|' + dataset + '|' + method + '|' + std::to_string(repetition);
}

}  // namespace opsbench
