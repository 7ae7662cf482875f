// LayerNorm over the last dimension: out = (x − mean) / sqrt(var + eps) · w + b,
// on oneDNN's layer_normalization primitive (one per row count, cached).
#pragma once

#include "nn/dnnl_context.h"
#include "nn/shape_cache.h"

namespace sentemb::nn {

class LayerNorm {
 public:
  LayerNorm(int channels, float eps) : channels_(channels), eps_(eps) {}
  // x, out: (N, C); w, b: (C). In training, mean and var (N) are saved for the backward.
  void forward(const float* x, const float* w, const float* b, float* out, int N) const;
  void forward_training(const float* x, const float* w, const float* b, float* out, float* mean,
                        float* var, int N) const;
  int channels() const { return channels_; }
  float eps() const { return eps_; }

 private:
  struct Prim {
    dnnl::layer_normalization_forward::primitive_desc pd;
    dnnl::layer_normalization_forward prim;
    dnnl::memory::desc scale_md;  // (C), for both scale and shift
  };
  Prim& prim(int N, bool training) const;
  int channels_;
  float eps_;
  mutable ShapeCache<Prim> cache_;
  mutable Scratchpad scratchpad_;  // user scratchpad (nn/dnnl_context.h)
};

}  // namespace sentemb::nn
