#include "train/dropout.h"

#include "nn/simd.h"

namespace sentemb::train {

namespace {

// SplitMix64 finaliser: a good 64-bit mix of a counter.
inline std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The mask of elements [first, first + n): 0 where the top 24 bits of the hash
// fall below p · 2^24, else 1/(1-p).
struct MaskStream {
  std::uint64_t base;       // mix(seed)
  std::uint64_t threshold;  // p · 2^24
  float keep_scale;         // 1 / (1 - p)

  MaskStream(float p, std::uint64_t seed)
      : base(mix(seed)),
        threshold(static_cast<std::uint64_t>(p * 16777216.0)),
        keep_scale(1.0f / (1.0f - p)) {}
  float at(std::int64_t i) const {
    return (mix(base + static_cast<std::uint64_t>(i)) >> 40) < threshold ? 0.0f : keep_scale;
  }
};

// residual: y = residual + x · mask, else y = x · mask; i0 is the first element's index.
SENTEMB_SIMD_CLONES
void dropout_range(const float* x, const float* residual, float* y, float* mask, std::int64_t i0,
                   std::int64_t n, MaskStream stream) {
  if (residual) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      mask[i] = stream.at(i0 + i);
      y[i] = residual[i] + x[i] * mask[i];
    }
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      mask[i] = stream.at(i0 + i);
      y[i] = x[i] * mask[i];
    }
  }
}

SENTEMB_SIMD_CLONES
void multiply_range(const float* dy, float* dx, const float* mask, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * mask[i];
}

constexpr std::int64_t kSerialBelow = 1 << 14;

}  // namespace

void dropout_forward(const float* x, float* y, float* mask, std::int64_t n, float p,
                     std::uint64_t seed) {
  const MaskStream stream(p, seed);
  nn::parallel_ranges(n, kSerialBelow, [&](std::int64_t begin, std::int64_t end) {
    dropout_range(x + begin, nullptr, y + begin, mask + begin, begin, end - begin, stream);
  });
}

void dropout_add(const float* residual, const float* x, float* y, float* mask, std::int64_t n,
                 float p, std::uint64_t seed) {
  const MaskStream stream(p, seed);
  nn::parallel_ranges(n, kSerialBelow, [&](std::int64_t begin, std::int64_t end) {
    dropout_range(x + begin, residual + begin, y + begin, mask + begin, begin, end - begin, stream);
  });
}

namespace {
std::uint64_t sentence_seed(std::uint64_t seed, std::uint64_t key) {
  return mix(seed ^ mix(key ^ 0x5e17e9ce5ull));
}
}  // namespace

void dropout_sentences(const float* residual, const float* x, float* y, float* mask, int B,
                       const int* offsets, const int* lengths, int W, float p, std::uint64_t seed,
                       const std::uint64_t* keys) {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; ++b) {
    const std::int64_t first = std::int64_t(offsets[b]) * W, n = std::int64_t(lengths[b]) * W;
    dropout_range(x + first, residual ? residual + first : nullptr, y + first, mask + first, 0, n,
                  MaskStream(p, sentence_seed(seed, keys[b])));
  }
}

void dropout_attention(const float* x, float* y, float* mask, int B, int NH, int T, int L, float p,
                       std::uint64_t seed, const std::uint64_t* keys) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h) {
      const MaskStream stream(p, sentence_seed(seed, keys[b]));
      for (int i = 0; i < T; ++i) {
        const std::int64_t at = ((std::int64_t(b) * NH + h) * T + i) * T;
        dropout_range(x + at, nullptr, y + at, mask + at, (std::int64_t(h) * L + i) * L, T, stream);
      }
    }
}

void dropout_backward(const float* dy, float* dx, const float* mask, std::int64_t n) {
  nn::parallel_ranges(n, kSerialBelow, [&](std::int64_t begin, std::int64_t end) {
    multiply_range(dy + begin, dx + begin, mask + begin, end - begin);
  });
}

}  // namespace sentemb::train
