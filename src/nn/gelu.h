// GELU, where it cannot (or should not) be fused into the matmul:
//   gelu(x) = x · Φ(x),   Φ(x) = (1 + erf(x/√2)) / 2.
// The inference FFN runs fc1 without a post-op and then one of these passes in
// place: oneDNN's fused GELU-erf post-op, evaluated in the matmul's output stage,
// added 1.2–1.6 ms to fc1 per 4 M values on a 2-core Zen 5, where the fp32 pass
// takes 0.69 ms.
//
// erf is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the form oneDNN's GELU-erf
// uses, so the fp32 pass and training (train/gelu.h) agree with it to ~5e-7. The
// helpers are always inlined: each translation unit keeps its own rounding rules
// (training's loops do not fuse multiply-adds, gelu.cpp's do).
#pragma once

#include <cstdint>

namespace sentemb::nn {

// e^x for |x| <= 87: x = n·ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial
// of degree 6 (relative error < 2e-7), 2^n (n in [-126, 126]) built in the exponent
// bits.
[[gnu::always_inline]] inline float exp_bounded(float x) {
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

// Φ(x); *gauss = exp(−x²/2), which gelu′(x) = Φ(x) + x · exp(−x²/2) / √(2π) reuses.
[[gnu::always_inline]] inline float normal_cdf(float x, float* gauss) {
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
  const float e = exp_bounded(minus_z2 >= -87.0f ? minus_z2 : -87.0f);
  const float erf_abs = 1.0f - poly * t * e;
  const std::uint32_t sign = __builtin_bit_cast(std::uint32_t, x) & 0x80000000u;
  const float erf = __builtin_bit_cast(float, __builtin_bit_cast(std::uint32_t, erf_abs) | sign);
  *gauss = e;
  return 0.5f * (1.0f + erf);
}

// y[i] = gelu(y[i]) for n fp32 values, the erf form above.
void gelu_inplace(float* y, std::int64_t n);

// y[i] = gelu(y[i]) for n bf16 values, approximated as x · σ(z(x)) = x / (1 + e^(−z)),
//   z(x) = c · (1.59501577 + c² · (0.0740112920 − 7.03033577e-4 · c²)),  c = clamp(x, −8, 8)
// (a minimax fit of the tanh form's argument): |error| ≤ 2.6e-5 for every x, where
// bf16 rounding of the result is up to 7.8e-3 for |gelu| < 3; one exp and one
// division instead of an exp, a division and erf's polynomial.
void gelu_bf16_inplace(std::uint16_t* y, std::int64_t n);

}  // namespace sentemb::nn
