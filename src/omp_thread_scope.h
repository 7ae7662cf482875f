// Sets the calling thread's OpenMP team size for one scope and restores it after:
// a thread count chosen for one call (an Encoder's, a training run's) must not leak
// into the caller's later OpenMP regions. omp_set_num_threads sets the calling
// thread's nthreads-var only (OpenMP 4.5, 2.3.3), so other threads are unaffected.
#pragma once

#include <omp.h>

#include <algorithm>
#include <thread>

namespace sentemb {

// threads <= 0: every core.
inline int resolve_thread_count(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

class OmpThreadScope {
 public:
  explicit OmpThreadScope(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(resolve_thread_count(threads));
  }
  ~OmpThreadScope() { omp_set_num_threads(saved_); }
  OmpThreadScope(const OmpThreadScope&) = delete;
  OmpThreadScope& operator=(const OmpThreadScope&) = delete;

 private:
  int saved_;
};

}  // namespace sentemb
