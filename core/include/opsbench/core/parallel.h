// parallel_blocks(): runs fn(i) for i in [0, count) on up to `threads` std::threads (the methods'
// and transforms' shared parallel loop; ctx.threads decides `threads`).
//
// Work items are handed out through an atomic counter, so which thread runs an item varies between
// runs. Callers keep results deterministic by making every item write only its own outputs and by
// fixing item boundaries independently of the thread count. The first exception thrown by any item
// is rethrown in the caller after every thread has joined.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace opsbench {
namespace detail {

template <typename Fn>
void parallel_blocks(std::size_t count, int threads, Fn&& fn) {
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
        next.store(count, std::memory_order_relaxed);  // stop handing out work
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t t = 0; t + 1 < workers; ++t) {
    // If the system refuses a thread, the threads already started and this one finish the work.
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace detail
}  // namespace opsbench
