// NVML through dlopen: see nvml_api.h.
#include "nvml_api.h"

#include <dlfcn.h>

namespace opsbench {
namespace detail {
namespace {

template <typename Fn>
bool bind(void* handle, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(handle, name));
  return out != nullptr;
}

NvmlApi load() {
  NvmlApi api;
  void* handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    api.reason = "libnvidia-ml.so.1 not found (no NVIDIA driver)";
    return api;
  }
  NvmlReturn (*init)() = nullptr;
  const bool ok = bind(handle, "nvmlInit_v2", init) && bind(handle, "nvmlDeviceGetCount_v2", api.device_get_count) &&
                  bind(handle, "nvmlDeviceGetHandleByIndex_v2", api.device_get_handle_by_index) &&
                  bind(handle, "nvmlDeviceGetName", api.device_get_name) &&
                  bind(handle, "nvmlDeviceGetPowerUsage", api.device_get_power_usage) &&
                  bind(handle, "nvmlSystemGetDriverVersion", api.system_get_driver_version) &&
                  bind(handle, "nvmlErrorString", api.error_string);
  if (!ok) {
    api.reason = "libnvidia-ml.so.1 lacks a required NVML function (driver too old)";
    return api;
  }
  // Optional: the energy counter exists on Volta and newer only; the CUDA version query on newer drivers.
  bind(handle, "nvmlDeviceGetTotalEnergyConsumption", api.device_get_total_energy_consumption);
  bind(handle, "nvmlSystemGetCudaDriverVersion", api.system_get_cuda_driver_version);
  const NvmlReturn rc = init();
  if (rc != kNvmlSuccess) {
    api.reason = "nvmlInit_v2 failed: " + api.error(rc);
    return api;
  }
  api.loaded = true;
  return api;
}

}  // namespace

std::string NvmlApi::error(NvmlReturn code) const {
  if (error_string != nullptr) {
    if (const char* text = error_string(code)) return text;
  }
  return "NVML error " + std::to_string(code);
}

const NvmlApi& nvml() {
  static const NvmlApi api = load();  // C++11 guarantees one thread-safe initialisation
  return api;
}

}  // namespace detail
}  // namespace opsbench
