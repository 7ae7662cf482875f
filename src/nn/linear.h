// Linear layer y (M, N) = x (M, K) · W (K, N) + b (N) as ONE oneDNN matmul
// primitive whose M is a runtime dimension, so the same primitive serves every
// batch size and sentence length. Post-ops fuse what follows the product:
// GELU (inference FFN) and/or accumulation into y (residual connections:
// y += x·W + b).
#pragma once

#include <cstdint>

#include "nn/dnnl_context.h"

namespace sentemb::nn {

struct LinearOptions {
  bool gelu = false;        // y = GELU_erf(x·W + b)
  bool accumulate = false;  // y += (x·W + b)   [applied after gelu]
  bool bf16 = false;        // x and W in bf16, accumulation and y in fp32
};

class Linear {
 public:
  Linear(int in, int out, LinearOptions options);
  // x: (M, in) fp32 (or bf16 when options.bf16), w: (in, out) same type, b: (out) fp32.
  void forward(const void* x, const void* w, const float* b, float* y, int M) const;
  int in() const { return in_; }
  int out() const { return out_; }

 private:
  int in_, out_;
  dnnl::memory::desc x_md_, w_md_, b_md_, y_md_;
  dnnl::matmul matmul_prim_;
};

}  // namespace sentemb::nn
