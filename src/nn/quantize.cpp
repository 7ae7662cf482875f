#include "nn/quantize.h"

#include <algorithm>
#include <cmath>

#include "nn/dnnl_context.h"
#include "nn/simd.h"

namespace sentemb::nn {

int weight_qmax() {
  static const int qmax = [] {
    // oneDNN's ISA values are nested bit sets: every ISA that includes VNNI
    // contains all bits of avx512_core_vnni or of avx2_vnni.
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto has = [isa](dnnl::cpu_isa sub) {
      return (isa & static_cast<unsigned>(sub)) == static_cast<unsigned>(sub);
    };
    return has(dnnl::cpu_isa::avx512_core_vnni) || has(dnnl::cpu_isa::avx2_vnni) ? 127 : 63;
  }();
  return qmax;
}

namespace {

// Round to nearest (ties to even) for |v| ≤ 2^22: adding 1.5·2^23 leaves no
// fraction bits, so the FPU rounds; plain arithmetic, so it vectorizes. |v| ≤
// 127 by the callers' clamps, so the cast is exact.
inline std::int8_t round_to_s8(float v) {
  constexpr float kShift = 12582912.0f;  // 1.5 · 2^23
  return static_cast<std::int8_t>(static_cast<int>((v + kShift) - kShift));
}

}  // namespace

// The per-row loops run once per linear layer input/output: SIMD clones (nn/simd.h).
SENTEMB_SIMD_CLONES
void quantize_row(const float* x, int K, std::int8_t* q, float* scale) {
  float max_abs = 0.0f;
#pragma omp simd reduction(max : max_abs)
  for (int k = 0; k < K; ++k) {
    const float a = std::abs(x[k]);
    max_abs = a > max_abs ? a : max_abs;
  }
  const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
  *scale = max_abs / 127.0f;
  // x[k]·inv is within [-127, 127] up to rounding of inv; the clamp keeps it there.
#pragma omp simd
  for (int k = 0; k < K; ++k) {
    float v = x[k] * inv;
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[k] = round_to_s8(v);
  }
}

SENTEMB_SIMD_CLONES
void dequantize_row(const std::int32_t* acc, float x_scale, const float* w_scales, const float* b,
                    float* y, int N, bool accumulate) {
  if (accumulate) {
#pragma omp simd
    for (int n = 0; n < N; ++n) y[n] += x_scale * w_scales[n] * static_cast<float>(acc[n]) + b[n];
  } else {
#pragma omp simd
    for (int n = 0; n < N; ++n) y[n] = x_scale * w_scales[n] * static_cast<float>(acc[n]) + b[n];
  }
}

QuantizedWeights quantize_weights(const float* w, int K, int N, int qmax) {
  QuantizedWeights out;
  out.values.resize(std::size_t(K) * N);
  out.scales.assign(N, 0.0f);
  std::vector<float> max_abs(N, 0.0f);  // (N)
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n)
      max_abs[n] = std::max(max_abs[n], std::abs(w[std::size_t(k) * N + n]));
  std::vector<float> inv(N, 0.0f);
  for (int n = 0; n < N; ++n) {
    if (max_abs[n] > 0.0f) {
      out.scales[n] = max_abs[n] / qmax;
      inv[n] = qmax / max_abs[n];
    }
  }
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) {
      const std::size_t i = std::size_t(k) * N + n;
      out.values[i] = round_to_s8(std::min<float>(qmax, std::max<float>(-qmax, w[i] * inv[n])));
    }
  return out;
}

void quantize_rows(const float* x, int M, int K, std::int8_t* q, float* scales) {
#pragma omp parallel for schedule(static) if (std::int64_t(M) * K > 32768)
  for (int m = 0; m < M; ++m)
    quantize_row(x + std::int64_t(m) * K, K, q + std::int64_t(m) * K, scales + m);
}

}  // namespace sentemb::nn
