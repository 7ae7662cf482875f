// The encoder's training forward and backward (llm.c style): the forward keeps
// exactly the activations the backward needs; the backward ADDS every parameter
// gradient into a gradient arena laid out like the parameters (parameters.h).
// Layer by layer the math is that of encoder_forward.h; here GELU is not fused
// (its derivative is kept, train/gelu.h), residual branches may be dropped out,
// and LayerNorm saves its statistics.
//
// Rows are PACKED: the N real tokens of the batch, sentence after sentence, with
// no padding. Every per-token layer (LayerNorm, linear, GELU, dropout) runs on
// those N rows only; attention alone needs the padded (B, T, ·) layout, so qkv is
// scattered into it and the context gathered back. Training batches mix lengths
// (anchors, positives, negatives), so this skips the padding's share of the FLOPs.
// When a batch has no padding (all sentences of one length) the two layouts are
// the same and the copies are skipped.
//
// Mixed precision (bf16): the four linear layers and the six attention products
// multiply in bf16 with fp32 accumulation, forward and backward. Each step rounds
// the fp32 master weights to bf16 once; each matmul input (LayerNorm outputs, qkv,
// the probabilities that multiply v, the attention context, GELU output) is kept
// as a bf16 copy only, for the forward and the backward; incoming gradients (of a
// linear layer's output, of the context, of the scores) are rounded before their
// products. Everything else (LayerNorm, the scores and softmax, GELU, the residual
// stream, the gradients and AdamW) stays fp32.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/attention.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "sentemb/parameters.h"
#include "train/attention_backward.h"
#include "train/gelu.h"
#include "train/layernorm_backward.h"
#include "train/linear_backward.h"

namespace sentemb::train {

struct DropoutRates {
  float embedding = 0.0f;  // after token + position embedding
  float attention = 0.0f;  // on attention probabilities
  float residual = 0.0f;   // on each block's two branch outputs
};

class TrainingEncoder {
 public:
  TrainingEncoder(const ModelConfig& config, DropoutRates dropout, bool bf16 = false);

  // Encodes `batch` (token ids, BOS first, 1..max_len each) into out (B, C) and keeps
  // the activations. dropout_seed picks this step's dropout masks; sentence b's masks
  // are those of (dropout_seed, keys[b]) whatever else is in the batch (keys null:
  // 0..B-1), so a sentence re-encoded in another chunk or process draws the same.
  void forward(const float* parameters, const std::vector<const std::vector<int>*>& batch,
               float* out, std::uint64_t dropout_seed, const std::uint64_t* keys = nullptr);
  // Given dL/dout (B, C) for the last forward, adds dL/dparameters into grads.
  void backward(const float* parameters, const float* dout, float* grads);

  const ModelConfig& config() const { return config_; }

  // The most bytes of fp32 attention probabilities forward keeps for the backward
  // (all layers); a larger batch (sentences × padded length) is a UsageError that
  // names --batch and --max-len.
  static constexpr double kMaxAttentionBytes = 8e9;

 private:
  void add_branch(const float* x, const float* branch, float* mask, float* x_out, std::int64_t n,
                  std::uint64_t seed, const std::uint64_t* keys) const;

  // Grows the activations and scratch to hold a batch of B sentences, T padded, N tokens.
  void fit(int B, int T, int N);

  // Where a linear layer's fp32 input is written: the layer's own buffer (the
  // backward reads it), or in bf16 mode the shared staging_ (only its bf16 copy is kept).
  float* linear_input(std::vector<float>& kept);
  // The operand a linear layer reads for the fp32 activations x (n values): x
  // itself, or in bf16 mode x rounded into copy.
  const void* operand(const float* x, std::vector<std::uint16_t>& copy, std::int64_t n) const;

  // Packed rows (N, W) <-> padded (B, T, W); scatter zeroes the padding.
  template <class V>
  void scatter(const V* packed, V* padded, int width) const;
  template <class V>
  void gather(const V* padded, V* packed, int width) const;

  struct Layer {  // saved activations of one block; N packed rows (capacity: the largest
                  // batch so far). ln1, ctx, ln2 and fc1_act: fp32 mode only.
    std::vector<float> x_in;                    // (N, C) residual stream entering the block
    std::vector<float> ln1, ln1_mean, ln1_var;  // (N, C), (N), (N)
    std::vector<float> qkv;                     // (B, T, 3C) padded, as attention reads it
    std::vector<float> probs;                   // (B, NH, T, T) softmax output
    std::vector<float> probs_used;              // (B, NH, T, T) after attention dropout
    std::vector<float> probs_mask;              // (B, NH, T, T) attention dropout mask
    std::vector<float> ctx;                     // (N, C) attention context
    std::vector<float> attn_mask;               // (N, C) residual dropout mask, attention branch
    std::vector<float> x_mid;                   // (N, C) stream after the attention branch
    std::vector<float> ln2, ln2_mean, ln2_var;  // (N, C), (N), (N)
    std::vector<float> fc1_dgelu;               // (N, F) GELU's derivative at fc1's output
    std::vector<float> fc1_act;                 // (N, F) after GELU
    std::vector<float> ffn_mask;                // (N, C) residual dropout mask, FFN branch
    // bf16 mode: the bf16 copies the linear layers and attention products read, forward
    // and backward (qkv and probs_used: fp32 mode only).
    std::vector<std::uint16_t> qkv_bf16;                      // (B, T, 3C) padded
    std::vector<std::uint16_t> probs_bf16;                    // (B, NH, T, T) what multiplied v
    std::vector<std::uint16_t> ln1_bf16, ctx_bf16, ln2_bf16;  // (N, C) each
    std::vector<std::uint16_t> fc1_act_bf16;                  // (N, F)
    std::vector<std::uint16_t> qkv_w, proj_w, fc1_w, fc2_w;   // (C, 3C), (C, C), (C, F), (F, C)
  };

  struct LinearOperands {  // one operand of each of a block's four linear layers
    const void *qkv, *proj, *fc1, *fc2;
  };
  // Layer l's padded qkv, as attention reads it: fp32, or bf16 in bf16 mode.
  void* attention_input(Layer& l) const;
  // What the last forward fed the linear layers as x: layer l's fp32 activations, or
  // (bf16) their bf16 copies.
  LinearOperands linear_inputs(const Layer& l) const;
  // The fp32 master weights w, or (bf16) layer l's copies rounded by the last forward.
  LinearOperands linear_weights(const Layer& l, const BlockTensors& w) const;

  ModelConfig config_;
  DropoutRates dropout_;
  bool bf16_;
  nn::LayerNorm layernorm_;
  nn::Linear qkv_, proj_, fc1_, fc2_;
  nn::Attention attention_;
  LayerNormBackward layernorm_backward_;
  LinearBackward qkv_backward_, proj_backward_, fc1_backward_, fc2_backward_;
  AttentionBackward attention_backward_;

  // The last forward's shape and inputs.
  int B_ = 0, T_ = 0, N_ = 0;                // sentences, padded length, real tokens
  bool no_padding_ = false;                  // N == B·T: packed rows are the padded layout
  std::vector<int> ids_;                     // (N) token ids, packed
  std::vector<int> positions_;               // (N) position of each packed row in its sentence
  std::vector<int> lengths_;                 // (B)
  std::vector<int> offsets_;                 // (B) first packed row of each sentence
  std::vector<float> key_mask_;              // (B, T)
  std::vector<float> emb_mask_;              // (N, C) embedding dropout mask
  std::vector<std::uint64_t> default_keys_;  // (B) 0..B-1 when forward gets no keys
  std::vector<float> padded_;                // (B, T, C) scratch for scatter / gather
  std::vector<float> staging_;  // (N, max(C, F)) bf16 mode: fp32 linear inputs before rounding
  std::vector<float> probs_staging_;        // (B, NH, T, T) bf16 mode: dropped out, unrounded
  std::vector<std::uint16_t> packed_bf16_;  // (N, 3C) bf16 mode, padded batches: qkv packed
  std::vector<std::uint16_t> padded_bf16_;  // (B, T, C) bf16 mode, padded batches: ctx padded
  std::vector<std::uint16_t> dctx_bf16_;    // (B, T, C) bf16 mode: dctx rounded
  std::vector<Layer> layers_;
  std::vector<float> x_final_;                   // (N, C) stream after the last block
  std::vector<float> lnf_, lnf_mean_, lnf_var_;  // (N, C), (N), (N)
  std::vector<float> lnf_padded_;                // (B, T, C) for pooling
  std::vector<float> pooled_;                    // (B, C) before normalisation
  std::vector<int> argmax_;                      // (B, C) max pooling winners
  std::vector<float> norms_;                     // (B)
  std::vector<float> out_;                       // (B, C) the returned vectors

  // Backward scratch.
  std::vector<float> dx_, dbranch_, dwide_, dnarrow_, dqkv_, dqkv_padded_, dpooled_;
};

}  // namespace sentemb::train
