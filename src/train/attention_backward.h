// Backward of the attention core (src/nn/attention.h). With Pd the (possibly
// dropped-out) probabilities that multiplied v, and s = 1/√hd:
//   dPd = dctx · vᵀ            dv = Pdᵀ · dctx
//   dP  = dPd ⊙ mask           (attention dropout)
//   dS  = P ⊙ (dP − Σ_keys P ⊙ dP)        softmax backward (oneDNN)
//   dq  = s · dS · k           dk = s · dSᵀ · q
// Masked keys have P = 0, so they receive no gradient. q, k, v and their
// gradients are strided views into qkv / dqkv (B, T, 3C): no transposes.
//
// bf16 (the attention in bf16 mode): qkv, Pd and dctx arrive in bf16, and dS is
// rounded to bf16 here; the four products accumulate in fp32, dP, dS and dqkv are fp32.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/attention.h"

namespace sentemb::train {

class AttentionBackward {
 public:
  explicit AttentionBackward(const nn::Attention& attention) : attention_(attention) {}
  // qkv: (B, T, 3C) forward input; probs: (B, NH, T, T) fp32 softmax output; used_probs:
  // the probabilities that multiplied v (== probs without dropout, fp32 mode); dropout_mask:
  // (B, NH, T, T) or nullptr; dctx: (B, T, C). qkv, used_probs and dctx are in the
  // attention's io type (fp32, or bf16). dqkv: (B, T, 3C) fp32, written.
  void backward(const void* qkv, const float* probs, const void* used_probs,
                const float* dropout_mask, const void* dctx, float* dqkv, int B, int T);

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
  std::vector<float> dprobs_, dscores_;      // (B, NH, T, T) scratch
  std::vector<std::uint16_t> dscores_bf16_;  // (B, NH, T, T) bf16 mode: dS rounded
};

}  // namespace sentemb::train
