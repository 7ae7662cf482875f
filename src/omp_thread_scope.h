// Sets the calling thread's OpenMP thread count for one scope and restores it after:
// a count chosen for one call (an Encoder's, a training run's) must not leak into the
// caller's later OpenMP regions. omp_set_num_threads sets the calling thread's
// nthreads ICV only (what omp_get_max_threads() returns, and what oneDNN's OpenMP
// runtime reads when a primitive runs); the ICV is per thread (OpenMP 5.0, 2.4.2: a
// data environment ICV), so other threads never see it.
#pragma once

#include <omp.h>

namespace sentemb {

// A requested thread count: its own if > 0, else the calling thread's current count
// (OMP_NUM_THREADS, else every core).
inline int resolve_thread_count(int threads) {
  return threads > 0 ? threads : omp_get_max_threads();
}

class OmpThreadScope {
 public:
  explicit OmpThreadScope(int threads) : saved_(omp_get_max_threads()) {
    if (threads != saved_) omp_set_num_threads(threads);
  }
  ~OmpThreadScope() {
    if (omp_get_max_threads() != saved_) omp_set_num_threads(saved_);
  }
  OmpThreadScope(const OmpThreadScope&) = delete;
  OmpThreadScope& operator=(const OmpThreadScope&) = delete;

 private:
  int saved_;
};

}  // namespace sentemb
