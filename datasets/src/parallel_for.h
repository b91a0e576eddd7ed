// Private helper of datasets/: runs fn(i) for i in [0, count) on up to `threads` std::threads.
// (baselines/ has its own copy in parallel_blocks.h; datasets/ cannot include upwards.)
//
// Items are handed out through an atomic counter; callers keep results deterministic by writing
// only each item's own outputs, with item boundaries independent of the thread count. The first
// exception thrown by an item is rethrown in the caller after every thread has joined.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace opsbench {
namespace detail {

template <typename Fn>
void parallel_for(std::size_t count, int threads, Fn&& fn) {
  const std::size_t workers = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(threads, 1)));
  if (workers <= 1) {
    for (std::size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&]() {
    for (;;) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= count) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(count, std::memory_order_relaxed);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t + 1 < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace detail
}  // namespace opsbench
