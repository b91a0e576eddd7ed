// PhaseMeter carries the figures of registered probes (how CUDA builds add allocator peaks).
#include <catch2/catch.hpp>

#include "opsbench/core/measure.h"

using namespace opsbench;

TEST_CASE("phase probes are reset at start and report at stop", "[core][measure]") {
  static int starts = 0;
  static bool enabled = false;  // the probe is process-wide: other tests must not see its figure
  add_phase_probe({[] { ++starts; },
                   [](const std::string& phase) {
                     std::vector<Figure> out;
                     if (enabled) out.push_back({phase + ".probe", 42.0, "bytes", "test probe", true, ""});
                     return out;
                   }});
  enabled = true;
  PhaseMeter meter("fit");
  const int before = starts;
  meter.start();
  CHECK(starts == before + 1);
  const auto figures = meter.stop();
  enabled = false;
  bool found = false;
  for (const auto& f : figures) found |= f.name == "fit.probe" && f.value == 42.0 && f.source == "test probe";
  CHECK(found);
}
