// The core of multi-head self-attention, from the fused projection qkv to the
// per-head context, for a padded batch of B sentences of T positions:
//   S = q · kᵀ / sqrt(hd) + mask     (B, NH, T, T)   mask: 0 for real keys, -1e9 for padding
//   P = softmax(S) over keys         (B, NH, T, T)
//   ctx = P · v                      (B, T, C), heads side by side
// q, k and v are strided views into qkv (B, T, 3C) — no copies — and ctx is
// written through a strided view, so the heads need no transposes. Each batched
// product is one oneDNN matmul; primitives are cached per (B, T).
#pragma once

#include "nn/dnnl_context.h"
#include "nn/shape_cache.h"

namespace sentemb::nn {

constexpr float kMaskedScore = -1e9f;

class Attention {
 public:
  Attention(int channels, int heads) : C_(channels), NH_(heads), hd_(channels / heads) {}
  // qkv: (B, T, 3C); key_mask: (B, T) additive (0 or kMaskedScore);
  // probs: (B, NH, T, T) written (kept by training for the backward); ctx: (B, T, C).
  void forward(const float* qkv, const float* key_mask, float* probs, float* ctx, int B,
               int T) const;
  // The two halves of forward, for training (which drops out probabilities in between):
  // probs = softmax(q·kᵀ/√hd + mask), and ctx = probs · v.
  void scores_softmax(const float* qkv, const float* key_mask, float* probs, int B, int T) const;
  void context(const float* probs, const float* qkv, float* ctx, int B, int T) const;
  int channels() const { return C_; }
  int heads() const { return NH_; }

  // Views of the packed tensors, shared with the backward pass.
  dnnl::memory::desc q_md(int B, int T) const;      // (B, NH, T, hd) in qkv
  dnnl::memory::desc kt_md(int B, int T) const;     // (B, NH, hd, T) in qkv + C: k transposed
  dnnl::memory::desc v_md(int B, int T) const;      // (B, NH, T, hd) in qkv + 2C
  dnnl::memory::desc ctx_md(int B, int T) const;    // (B, NH, T, hd) in ctx (B, T, C)
  dnnl::memory::desc probs_md(int B, int T) const;  // (B, NH, T, T) dense

 private:
  struct Prims {
    dnnl::memory::desc mask_md;  // (B, 1, 1, T)
    dnnl::matmul scores_prim;    // q · kᵀ, scaled, plus mask
    dnnl::softmax_forward softmax_prim;
    dnnl::matmul context_prim;  // P · v
  };
  Prims& prims(int B, int T) const;
  int C_, NH_, hd_;
  mutable ShapeCache<Prims> cache_;
};

}  // namespace sentemb::nn
