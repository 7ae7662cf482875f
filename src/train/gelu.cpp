#include "train/gelu.h"

#include "nn/dnnl_context.h"
#include "nn/simd.h"

namespace sentemb::train {

namespace {

// e^x for -87 <= x <= 0: x = n·ln2 + r with |r| <= ln2/2, e^r by its Taylor
// polynomial of degree 6 (relative error < 2e-7), 2^n (n in [-126, 0]) built in the
// exponent bits.
inline float exp_nonpositive(float x) {
  const float shifter = 12582912.0f;  // 1.5 · 2^23: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  float r = x - n * 0.693145751953125f;  // ln2 in two parts: the first is exact in n·ln2_hi
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::uint32_t bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23;
  return p * __builtin_bit_cast(float, bits);
}

// gelu(x); *dydx = gelu'(x).
inline float gelu(float x, float* dydx) {
  // erf(|z|) = 1 − t·P(t)·exp(−z²), t = 1 / (1 + p·|z|)  (A&S 7.1.26), z = x/√2.
  const float z = __builtin_fabsf(x) * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  // exp(−x²/2); clamped where it underflows anyway, and for a NaN x (which then comes
  // out as NaN through t), so the exponent arithmetic stays in range.
  const float minus_z2 = -z * z;
  const float e = exp_nonpositive(minus_z2 >= -87.0f ? minus_z2 : -87.0f);
  const float erf_abs = 1.0f - poly * t * e;
  const std::uint32_t sign = __builtin_bit_cast(std::uint32_t, x) & 0x80000000u;
  const float erf = __builtin_bit_cast(float, __builtin_bit_cast(std::uint32_t, erf_abs) | sign);
  const float cdf = 0.5f * (1.0f + erf);
  *dydx = cdf + x * e * 0.39894228040143268f;  // Φ(x) + x · φ(x)
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
