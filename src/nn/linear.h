// Linear layer y (M, N) = x (M, K) · W (K, N) + b (N). forward runs ONE oneDNN
// matmul primitive whose M is a runtime dimension, so the same primitive serves
// every batch size and sentence length (training; inference uses the per-M forms
// below). A sum post-op fuses the accumulation into y of
// the residual connections (y += x·W + b); GELU (the inference FFN) is a pass of
// nn/gelu.h over y after the product, cheaper than oneDNN's GELU post-op.
//
// Packed weights (fp32 and bf16, weights that no longer change): pack() reorders W
// once into the blocked layout of oneDNN's brgemm matmul, and forward_packed runs a
// primitive built for that exact M (cached per M), which reads W as it is. The
// runtime-M primitive instead runs oneDNN's JIT GEMM, which packs both operands on
// every call; on the model's shapes the packed form measured 4-8% faster in fp32 and
// 9-12% in bf16 for whole encode passes (docs/benchmarks.md). Building a primitive
// for a new M takes about 0.3 ms. forward_per_m does the same on the plain W: for
// small inference products, where it spares oneDNN's JIT GEMM, whose first product
// generates all its kernels (about 40 ms on a 2-core Zen 5).
//
// int8 (inference only): x and W are s8 with per-row and per-column scales
// (nn/quantize.h); the matmul accumulates in s32 and one pass then dequantizes,
// adds the bias and accumulates (or GELU follows). The
// per-row scales can't be fused into oneDNN 2.6's matmul (binary post-ops need
// a known M, and output scales are per column at most), hence the extra pass.
#pragma once

#include <cstdint>
#include <optional>

#include "nn/dnnl_context.h"
#include "nn/shape_cache.h"

namespace sentemb::nn {

struct LinearOptions {
  bool gelu = false;        // y = GELU(x·W + b), nn/gelu.h (with bf16_out its approximation)
  bool accumulate = false;  // y += (x·W + b); not together with gelu
  bool bf16 = false;        // x and W in bf16, accumulation and y in fp32
  bool bf16_out = false;    // with bf16 (not accumulate): y in bf16, for the next bf16 matmul
  bool int8 = false;  // x and W in s8 with scales, s32 accumulation, y in fp32; use forward_int8
};

class Linear {
 public:
  Linear(int in, int out, LinearOptions options);
  // x: (M, in) fp32 (or bf16 when options.bf16), w: (in, out) same type, b: (out) fp32,
  // y: (M, out) fp32 (or bf16 when options.bf16_out).
  void forward(const void* x, const void* w, const float* b, void* y, int M) const;
  // options.int8 only. x: (M, in) s8 with x_scales (M); w: (in, out) s8 with
  // w_scales (out); b: (out); y: (M, out) fp32; acc: (M, out) s32 scratch.
  //   y[m,n] (+)= GELU?(x_scales[m] · w_scales[n] · Σ_k x[m,k]·w[k,n] + b[n])
  void forward_int8(const std::int8_t* x, const float* x_scales, const std::int8_t* w,
                    const float* w_scales, const float* b, float* y, std::int32_t* acc,
                    int M) const;
  // fp32 and bf16: W (in, out), in x's type, reordered into the layout that
  // forward_packed reads; the result owns its memory.
  dnnl::memory pack(const void* w);
  // As forward, with W from pack(). Returns false, computing nothing, when oneDNN
  // has no primitive for this M that reads the packed layout (never seen on the
  // x86 CPUs measured; the caller then uses forward on the plain weights).
  bool forward_packed(const void* x, const dnnl::memory& w, const float* b, void* y, int M) const;
  // As forward, on a primitive built for this M (fp32 and bf16).
  void forward_per_m(const void* x, const void* w, const float* b, void* y, int M) const;

  int in() const { return in_; }
  int out() const { return out_; }

 private:
  int in_, out_;
  LinearOptions options_;
  dnnl::memory::desc x_md_, w_md_, b_md_, y_md_;
  dnnl::matmul matmul_prim_;        // runtime M, plain W
  dnnl::primitive_attr attr_;       // the sum post-op when accumulating; user scratchpad
  mutable Scratchpad scratchpad_;   // for every primitive here (nn/dnnl_context.h)
  dnnl::memory::desc packed_w_md_;  // the layout pack() writes, chosen by oneDNN at first use
  // Per (M, packed W or not): a primitive, or none when oneDNN offers none.
  mutable ShapeCache<std::optional<dnnl::matmul>> per_m_prims_;

  const std::optional<dnnl::matmul>& per_m_prim(int M, const dnnl::memory::desc& w_md) const;

  void execute(const dnnl::matmul& prim, const void* x, const dnnl::memory& w, const float* b,
               void* y, int M) const;
};

}  // namespace sentemb::nn
