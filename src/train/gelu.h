// GELU (erf form) for training, where it cannot be fused into the matmul:
//   gelu(x) = x · Φ(x)      gelu'(x) = Φ(x) + x · φ(x)
// with Φ(x) = (1 + erf(x/√2)) / 2 and φ(x) = exp(−x²/2) / √(2π).
// The forward computes both at once (they share one exp) and the layer keeps
// gelu'(x) instead of x, so the backward is one multiplication instead of a second
// evaluation of erf (oneDNN's eltwise backward took 2.5× its forward).
// Φ is nn::normal_cdf (nn/gelu.h), the erf form inference uses too.
// The loops are vectorized (nn/simd.h) with exact IEEE operations only.
#pragma once

#include <cstdint>

namespace sentemb::train {

// y = gelu(x) and dydx = gelu'(x), (n) each; y may alias x.
void gelu_forward(const float* x, float* y, float* dydx, std::int64_t n);
// The same with y rounded to bf16 (the next matmul's input in mixed precision).
void gelu_forward(const float* x, std::uint16_t* y_bf16, float* dydx, std::int64_t n);
// dx = dy · dydx, dydx from the forward; dx may alias dy.
void gelu_backward(const float* dydx, const float* dy, float* dx, std::int64_t n);

}  // namespace sentemb::train
