// GELU (erf form) for training, where it cannot be fused into the matmul: the
// backward needs its input. gelu(x) = x · Φ(x); gelu'(x) = Φ(x) + x · φ(x).
// oneDNN eltwise primitives, cached per element count.
#pragma once

#include "nn/dnnl_context.h"
#include "nn/shape_cache.h"

namespace sentemb::train {

class Gelu {
 public:
  void forward(const float* x, float* y, std::int64_t n);                     // y = gelu(x)
  void backward(const float* x, const float* dy, float* dx, std::int64_t n);  // dx = dy · gelu'(x)

 private:
  struct Prims {
    dnnl::eltwise_forward forward;
    dnnl::eltwise_backward backward;
  };
  Prims& prims(std::int64_t n);
  nn::ShapeCache<Prims> cache_;
};

}  // namespace sentemb::train
