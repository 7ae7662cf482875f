// Backward of LayerNorm (src/nn/layernorm.h) on oneDNN's layer_normalization
// backward primitive (one per row count, cached), from the mean and variance the
// training forward saved. oneDNN writes its outputs, so they go to scratch and
// are then ADDED into the caller's gradients.
#pragma once

#include <vector>

#include "nn/dnnl_context.h"
#include "nn/shape_cache.h"

namespace sentemb::train {

class LayerNormBackward {
 public:
  LayerNormBackward(int channels, float eps) : channels_(channels), eps_(eps) {}
  // x: (N, C) the forward input; w, b: (C) (oneDNN wants the shift bound, though the
  // gradient does not depend on it); mean, var: (N) saved by the forward;
  // dout: (N, C). dx (N, C), dw (C), db (C) are added to.
  void backward(const float* x, const float* w, const float* b, const float* mean, const float* var,
                const float* dout, float* dx, float* dw, float* db, int N);

 private:
  struct Prim {
    dnnl::layer_normalization_backward::primitive_desc pd;
    dnnl::layer_normalization_backward prim;
  };
  Prim& prim(int N);
  int channels_;
  float eps_;
  nn::ShapeCache<Prim> cache_;
  std::vector<float> dx_, dw_, db_;  // scratch
};

}  // namespace sentemb::train
