// Own element-wise loops (dropout, bf16 rounding, AdamW, gradient sums) are a
// tenth of a training step. The library is built for baseline x86-64 (SSE2) so
// that one binary runs anywhere; SENTEMB_SIMD_CLONES compiles a function also
// for AVX2 and AVX-512 (x86-64-v4), the best picked at load time by the CPU
// (GCC/Clang ifunc). The clones compute the same values as the baseline: the
// loops they vectorize use exact operations only (integer hashing, IEEE
// add/mul/div/sqrt element by element), except where a comment says otherwise.
//
// OpenMP outlines a parallel loop's body into a function of its own, which
// would not be cloned; so the cloned function takes a range and
// parallel_ranges() hands each thread one contiguous range of it.
#pragma once

#include <omp.h>

#include <cstdint>

// Not under ThreadSanitizer: the ifunc resolver runs before its runtime is up and crashes.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(__SANITIZE_THREAD__)
#define SENTEMB_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SENTEMB_SIMD_CLONES
#endif

namespace sentemb::nn {

// Calls body(begin, end) once per thread over consecutive ranges covering [0, n);
// on one thread when n <= serial_below (a parallel region costs more than it saves).
template <class Body>
void parallel_ranges(std::int64_t n, std::int64_t serial_below, const Body& body) {
  if (n <= serial_below) {
    body(std::int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const std::int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const std::int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    if (begin < end) body(begin, end);
  }
}

}  // namespace sentemb::nn
