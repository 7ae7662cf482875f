#include "train/gelu.h"

#include "nn/dnnl_context.h"
#include "nn/gelu.h"
#include "nn/simd.h"

namespace sentemb::train {

namespace {

// gelu(x); *dydx = gelu'(x) = Φ(x) + x · φ(x).
inline float gelu(float x, float* dydx) {
  float gauss;
  const float cdf = nn::normal_cdf(x, &gauss);
  *dydx = cdf + x * gauss * 0.39894228040143268f;  // φ(x) = exp(−x²/2) / √(2π)
  return x * cdf;
}

SENTEMB_SIMD_CLONES
void forward_range(const float* x, float* y, float* dydx, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = gelu(x[i], &dydx[i]);
}

SENTEMB_SIMD_CLONES
void forward_range_bf16(const float* x, std::uint16_t* y, float* dydx, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = nn::to_bf16(gelu(x[i], &dydx[i]));
}

SENTEMB_SIMD_CLONES
void backward_range(const float* dydx, const float* dy, float* dx, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * dydx[i];
}

constexpr std::int64_t kSerialBelow = 1 << 14;

}  // namespace

void gelu_forward(const float* x, float* y, float* dydx, std::int64_t n) {
  nn::parallel_ranges(n, kSerialBelow, [&](std::int64_t begin, std::int64_t end) {
    forward_range(x + begin, y + begin, dydx + begin, end - begin);
  });
}

void gelu_forward(const float* x, std::uint16_t* y_bf16, float* dydx, std::int64_t n) {
  nn::parallel_ranges(n, kSerialBelow, [&](std::int64_t begin, std::int64_t end) {
    forward_range_bf16(x + begin, y_bf16 + begin, dydx + begin, end - begin);
  });
}

void gelu_backward(const float* dydx, const float* dy, float* dx, std::int64_t n) {
  nn::parallel_ranges(n, kSerialBelow, [&](std::int64_t begin, std::int64_t end) {
    backward_range(dydx + begin, dy + begin, dx + begin, end - begin);
  });
}

}  // namespace sentemb::train
