// SpinBarrier (see spin_barrier.h).
#include "spin_barrier.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace opsbench::models {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

void SpinBarrier::arrive_and_wait() {
  const unsigned round = round_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_.load(std::memory_order_relaxed)) {
    // Last to arrive: reset the count before releasing (no one arrives at the next round before
    // seeing the new round number), then wake sleepers if there are any.
    arrived_.store(0, std::memory_order_relaxed);
    round_.store(round + 1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    return;
  }
  for (int i = 0; i < kSpinIterations; ++i) {
    if (round_.load(std::memory_order_acquire) != round) return;
    cpu_relax();
  }
  // seq_cst on sleepers_ and round_ orders this increment against the releaser's store/load pair:
  // either the releaser sees the sleeper and notifies under the mutex, or the predicate sees the
  // new round before waiting.
  std::unique_lock<std::mutex> lock(mutex_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  wake_.wait(lock, [&] { return round_.load(std::memory_order_seq_cst) != round; });
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace opsbench::models
