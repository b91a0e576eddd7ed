// A reusable barrier for the threads of one OpenMP region that spins briefly before it sleeps
// (private to models/; used by the encoder pass, encoder_pass.h).
//
// Why not `#pragma omp barrier`: under OMP_WAIT_POLICY=passive libgomp puts a waiting thread to
// sleep at once, and on these virtual machines each wake-up costs ~0.1-0.3 ms; the encoder pass
// synchronises twice per layer between stages that last about a millisecond. This barrier spins for
// up to ~kSpinIterations pause instructions (tens of microseconds) and only then sleeps on a
// condition variable, so short waits never go through the kernel, whatever the wait policy says.
//
// Contract: every one of `parties` threads calls arrive_and_wait() the same number of times; a call
// returns once all parties have arrived at that round. parties may be set (to the same value by
// every thread) before the first round, for teams whose size is known only inside the region.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace opsbench::models {

class SpinBarrier {
 public:
  static constexpr int kSpinIterations = 1 << 13;

  explicit SpinBarrier(int parties = 1) : parties_(parties) {}
  SpinBarrier(const SpinBarrier&) = delete;
  SpinBarrier& operator=(const SpinBarrier&) = delete;

  void set_parties(int parties) { parties_.store(parties, std::memory_order_relaxed); }
  void arrive_and_wait();

 private:
  std::atomic<int> parties_;
  std::atomic<int> arrived_{0};
  std::atomic<unsigned> round_{0};
  std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace opsbench::models
