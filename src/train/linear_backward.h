// Backward of the linear layer y = x · W + b (src/nn/linear.h):
//   dx (+)= dy · Wᵀ        dW += xᵀ · dy        db += Σ_rows dy
// Both products are oneDNN matmuls on transposed VIEWS (strides, no copies),
// with the row count M a runtime dimension, built once per layer shape.
#pragma once

#include "nn/dnnl_context.h"

namespace sentemb::train {

class LinearBackward {
 public:
  LinearBackward(int in, int out);
  // x: (M, in), w: (in, out), dy: (M, out). dx: (M, in), written, or added to when
  // accumulate_dx (a residual stream's gradient). dw: (in, out) and db: (out), added to.
  void backward(const float* x, const float* w, const float* dy, float* dx, bool accumulate_dx,
                float* dw, float* db, int M) const;

 private:
  int in_, out_;
  dnnl::memory::desc dy_md_, wt_md_, dx_md_, xt_md_, dw_md_;
  dnnl::matmul dx_prim_, dx_accumulate_prim_, dw_prim_;
};

}  // namespace sentemb::train
