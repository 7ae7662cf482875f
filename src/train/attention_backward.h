// Backward of the attention core (src/nn/attention.h). With Pd the (possibly
// dropped-out) probabilities that multiplied v, and s = 1/√hd:
//   dPd = dctx · vᵀ            dv = Pdᵀ · dctx
//   dP  = dPd ⊙ mask           (attention dropout)
//   dS  = P ⊙ (dP − Σ_keys P ⊙ dP)        softmax backward (oneDNN)
//   dq  = s · dS · k           dk = s · dSᵀ · q
// Masked keys have P = 0, so they receive no gradient. q, k, v and their
// gradients are strided views into qkv / dqkv (B, T, 3C): no transposes.
#pragma once

#include <vector>

#include "nn/attention.h"

namespace sentemb::train {

class AttentionBackward {
 public:
  explicit AttentionBackward(const nn::Attention& attention) : attention_(attention) {}
  // qkv: (B, T, 3C) forward input; probs: (B, NH, T, T) softmax output; used_probs: the
  // probabilities that multiplied v (== probs without dropout); dropout_mask: (B, NH, T, T)
  // or nullptr; dctx: (B, T, C). dqkv: (B, T, 3C), written.
  void backward(const float* qkv, const float* probs, const float* used_probs,
                const float* dropout_mask, const float* dctx, float* dqkv, int B, int T);

 private:
  struct Prims {
    dnnl::matmul dprobs_prim;  // dctx · vᵀ
    dnnl::matmul dv_prim;      // Pdᵀ · dctx
    dnnl::softmax_backward softmax_prim;
    dnnl::matmul dq_prim;  // s · dS · k
    dnnl::matmul dk_prim;  // s · dSᵀ · q
  };
  Prims& prims(int B, int T);
  const nn::Attention& attention_;
  nn::ShapeCache<Prims> cache_;
  std::vector<float> dprobs_, dscores_;  // (B, NH, T, T) scratch
};

}  // namespace sentemb::train
