#include "train/dropout.h"

namespace sentemb::train {

namespace {

// SplitMix64 finaliser: a good 64-bit mix of a counter.
inline std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

void dropout_forward(const float* x, float* y, float* mask, std::int64_t n, float p,
                     std::uint64_t seed) {
  const float keep_scale = 1.0f / (1.0f - p);
  // Compare the top 24 bits with p scaled to the same range.
  const std::uint64_t threshold = static_cast<std::uint64_t>(p * 16777216.0);
  const std::uint64_t base = mix(seed);
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    const bool drop = (mix(base + static_cast<std::uint64_t>(i)) >> 40) < threshold;
    mask[i] = drop ? 0.0f : keep_scale;
    y[i] = x[i] * mask[i];
  }
}

void dropout_backward(const float* dy, float* dx, const float* mask, std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * mask[i];
}

}  // namespace sentemb::train
