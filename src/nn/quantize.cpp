#include "nn/quantize.h"

#include <algorithm>
#include <cmath>

#include "nn/dnnl_context.h"

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

// Round half away from zero; |v| ≤ qmax + 0.5 by construction so the cast is safe.
inline std::int8_t round_to_s8(float v) {
  return static_cast<std::int8_t>(static_cast<int>(v + (v >= 0.0f ? 0.5f : -0.5f)));
}

}  // namespace

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
  for (int m = 0; m < M; ++m) {
    const float* row = x + std::int64_t(m) * K;  // (K)
    std::int8_t* qrow = q + std::int64_t(m) * K;
    float max_abs = 0.0f;
    for (int k = 0; k < K; ++k) max_abs = std::max(max_abs, std::abs(row[k]));
    const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
    scales[m] = max_abs / 127.0f;
    // row[k]·inv is within [-127, 127] up to rounding of inv; clamp keeps it there.
    for (int k = 0; k < K; ++k)
      qrow[k] = round_to_s8(std::min(127.0f, std::max(-127.0f, row[k] * inv)));
  }
}

}  // namespace sentemb::nn
