// CUDA caching-allocator peaks per phase (private to models/). In builds with OPSBENCH_HAVE_CUDA,
// install_cuda_memory_probe() registers a PhaseProbe that resets the allocator's peak statistics of
// every visible device when a phase starts and reports <phase>.cuda_peak_allocated and
// <phase>.cuda_peak_reserved (bytes, summed over devices) when it stops. Elsewhere it does nothing:
// CPU runs carry no CUDA figures rather than meaningless zeros.
#pragma once

namespace opsbench::models {
void install_cuda_memory_probe();
}  // namespace opsbench::models
