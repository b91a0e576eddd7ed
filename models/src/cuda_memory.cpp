#include "cuda_memory.h"

#if defined(OPSBENCH_HAVE_TORCH) && defined(OPSBENCH_HAVE_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/cuda.h>

#include <string>
#include <vector>

#include "opsbench/core/measure.h"

namespace opsbench::models {
namespace {

void reset_peaks() {
  for (int d = 0; d < static_cast<int>(torch::cuda::device_count()); ++d) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(d));
  }
}

std::vector<Figure> read_peaks(const std::string& phase) {
  const int devices = static_cast<int>(torch::cuda::device_count());
  if (devices == 0) return {};
  double allocated = 0;
  double reserved = 0;
  for (int d = 0; d < devices; ++d) {
    // Index 0 of each stat array is the aggregate over small and large pools.
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(d));
    allocated += static_cast<double>(stats.allocated_bytes[0].peak);
    reserved += static_cast<double>(stats.reserved_bytes[0].peak);
  }
  const std::string source = "CUDA caching allocator peak since phase start (" + std::to_string(devices) + " device(s))";
  Figure a;
  a.name = phase + ".cuda_peak_allocated";
  a.value = allocated;
  a.unit = "bytes";
  a.source = source;
  Figure r = a;
  r.name = phase + ".cuda_peak_reserved";
  r.value = reserved;
  return {a, r};
}

}  // namespace

void install_cuda_memory_probe() {
  static const bool installed = [] {
    add_phase_probe({reset_peaks, read_peaks});
    return true;
  }();
  (void)installed;
}

}  // namespace opsbench::models

#else

namespace opsbench::models {
void install_cuda_memory_probe() {}
}  // namespace opsbench::models

#endif
