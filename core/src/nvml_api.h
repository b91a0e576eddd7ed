// Private to core/: the few NVML entry points opsbench uses, resolved with dlopen so that the build
// needs neither nvml.h nor the driver. Used by the energy meter (measure.cpp) and the environment
// block (environment.cpp).
//
// nvml() loads libnvidia-ml.so.1 and calls nvmlInit_v2 once per process (thread-safe, never
// unloaded: NVML is meant to stay initialised for the life of the process). When anything fails,
// loaded is false and reason says why ("libnvidia-ml.so.1 not found (no NVIDIA driver)", ...).
#pragma once

#include <string>

namespace opsbench {
namespace detail {

// Declared here instead of including nvml.h: nvmlReturn_t is an int enum, devices are opaque.
using NvmlDevice = struct NvmlDeviceOpaque*;
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;

struct NvmlApi {
  bool loaded = false;
  std::string reason;  // why not loaded

  NvmlReturn (*device_get_count)(unsigned int*) = nullptr;
  NvmlReturn (*device_get_handle_by_index)(unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*device_get_name)(NvmlDevice, char*, unsigned int) = nullptr;
  NvmlReturn (*device_get_total_energy_consumption)(NvmlDevice, unsigned long long*) = nullptr;  // mJ
  NvmlReturn (*device_get_power_usage)(NvmlDevice, unsigned int*) = nullptr;                     // mW
  NvmlReturn (*system_get_driver_version)(char*, unsigned int) = nullptr;
  NvmlReturn (*system_get_cuda_driver_version)(int*) = nullptr;  // may be null (old drivers)
  const char* (*error_string)(NvmlReturn) = nullptr;

  std::string error(NvmlReturn code) const;
};

const NvmlApi& nvml();

}  // namespace detail
}  // namespace opsbench
