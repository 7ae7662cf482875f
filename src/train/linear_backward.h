// Backward of the linear layer y = x · W + b (src/nn/linear.h):
//   dx (+)= dy · Wᵀ        dW += xᵀ · dy        db += Σ_rows dy
// Both products are oneDNN matmuls on transposed VIEWS (strides, no copies),
// with the row count M a runtime dimension, built once per layer shape.
//
// bf16 (mixed-precision training): x and W arrive in bf16 (the forward's
// operands), dy is rounded to bf16 here, and both products accumulate in fp32
// into fp32 dx and dW; db is summed from the fp32 dy, in the same pass that rounds it.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/dnnl_context.h"

namespace sentemb::train {

class LinearBackward {
 public:
  LinearBackward(int in, int out, bool bf16 = false);
  // x: (M, in), w: (in, out), both fp32 (bf16 when bf16); dy: (M, out) fp32.
  // dx: (M, in), written, or added to when accumulate_dx (a residual stream's
  // gradient). dw: (in, out) and db: (out), added to.
  void backward(const void* x, const void* w, const float* dy, float* dx, bool accumulate_dx,
                float* dw, float* db, int M) const;

 private:
  int in_, out_;
  bool bf16_;
  dnnl::memory::desc dy_md_, wt_md_, dx_md_, xt_md_, dw_md_;
  dnnl::matmul dx_prim_, dx_accumulate_prim_, dw_prim_;
  mutable std::vector<std::uint16_t> dy_bf16_;  // (M, out) bf16 only, grown as needed
  mutable std::vector<float> block_sums_;       // (M / 256 rounded up, out) db's partial sums
};

}  // namespace sentemb::train
