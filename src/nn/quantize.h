// Symmetric int8 quantization for the int8 inference path.
//
// A linear layer y = x·W + b runs as an s8 × s8 → s32 matmul:
//   W (K, N) ≈ Wq · diag(ws),  ws_n = max_k |W[k,n]| / qmax   (per output channel, once at load)
//   x (M, K) ≈ diag(xs) · xq,  xs_m = max_k |x[m,k]| / 127     (per row = per token, every call)
//   y[m,n]  ≈ xs_m · ws_n · Σ_k xq[m,k] · Wq[k,n] + b_n
// Per-row activation scales keep every token's quantization independent of the
// other tokens in the batch (so padding never changes a sentence's vector) and
// keep one large-activation token from coarsening all the others.
#pragma once

#include <cstdint>
#include <vector>

namespace sentemb::nn {

// The largest |value| a weight is quantized to. 127 where the CPU has VNNI
// (vpdpbusd accumulates u8·s8 products straight into s32); 63 elsewhere, where
// oneDNN's int8 kernels sum pairs of u8·s8 products in saturating int16
// (vpmaddubsw) and 255·127·2 would overflow, while 255·63·2 = 32130 does not.
int weight_qmax();

struct QuantizedWeights {
  std::vector<std::int8_t> values;  // (K, N) row-major, like the fp32 W
  std::vector<float> scales;        // (N) per output channel: W[k,n] ≈ values[k,n] · scales[n]
};

// w: (K, N) row-major. Rounds to nearest; an all-zero column gets scale 0.
QuantizedWeights quantize_weights(const float* w, int K, int N, int qmax);

// One row: x (K) → q (K), *scale.
void quantize_row(const float* x, int K, std::int8_t* q, float* scale);

// x: (M, K) → q: (M, K) in [-127, 127], scales: (M) with x[m,k] ≈ q[m,k] · scales[m].
// An all-zero row gets scale 0 and q = 0. Parallel over rows (OpenMP).
void quantize_rows(const float* x, int M, int K, std::int8_t* q, float* scales);

// One row of an int8 product back to fp32:
//   y[n] (+)= x_scale · w_scales[n] · acc[n] + b[n]     (acc, w_scales, b, y: (N))
void dequantize_row(const std::int32_t* acc, float x_scale, const float* w_scales, const float* b,
                    float* y, int N, bool accumulate);

}  // namespace sentemb::nn
