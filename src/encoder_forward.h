// The encoder's forward pass for inference (pre-LN transformer):
//   x = tok_emb[ids] + pos_emb                                   (B, T, C)
//   for each block:
//     x += Attention(LN1(x)) · Wproj + bproj                     (residual fused as a sum post-op)
//     x += GELU(LN2(x) · W1 + b1) · W2 + b2                      (GELU and residual fused)
//   v = pool(LN_final(x)) over real positions, then L2-normalised (B, C)
// It keeps nothing between batches: every intermediate lives in scratch that
// grows with the batches seen, up to the size of the largest batch. Training has
// its own forward (src/train/) that keeps what the backward needs.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/attention.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/quantize.h"
#include "sentemb/encoder.h"
#include "sentemb/parameters.h"

namespace sentemb {

class EncoderForward {
 public:
  // How the parameters may change after construction. kFixed: never; large products
  // then read linear weights packed once into oneDNN's blocked layout (nn/linear.h).
  // kLive: fp32 only, weights read in place at every call (training's evaluator,
  // whose parameters move between calls).
  enum class Weights { kFixed, kLive };

  // The tensors' memory must outlive this object; it is only read. bf16 converts the
  // linear weights once here, and runs the attention products in bf16 too
  // (nn/attention.h); int8 quantizes them once here (per output channel,
  // nn/quantize.h) and quantizes each linear's input per row at every call.
  EncoderForward(const ModelConfig& config, const ParameterTensors& parameters, Precision precision,
                 int max_batch, Weights weights = Weights::kFixed);
  // batch: B token-id sequences (BOS first, 1..max_len ids); out: (B, C).
  void forward(const std::vector<const std::vector<int>*>& batch, float* out, bool normalize);
  int max_batch() const { return max_batch_; }

 private:
  void reserve(int B, int T);  // grows the scratch below to hold a (B, T) batch
  // y (N, out) (+)= x (N, in) · W + b in fp32 or int8 (bf16 blocks keep their operands in
  // bf16 from one layer to the next, in forward itself); `index` is the weight's position
  // in the quantized copies (4 per block: qkv, proj, fc1, fc2).
  void linear(nn::Linear& layer, const float* x, const float* w, std::size_t index, const float* b,
              float* y, int N);
  // y (+)= x · W + b in fp32 or bf16: on the packed copy of W for products of at least
  // kPackedRows rows (packed at the first of them), else on the plain W with a
  // primitive for that M (nn/linear.h: no JIT GEMM for a small call to wait for).
  void product(nn::Linear& layer, const void* x, const void* w, std::size_t index, const float* b,
               void* y, int N);
  nn::Linear& layer_of(std::size_t index);  // qkv_, proj_, fc1_ or fc2_ for a weight's index

  // Below this many rows (a query, a pair to score) a product runs on the plain
  // weights: packing all of them costs 15-45 ms once (new pages for the copies),
  // and each new M a primitive of about 0.3 ms.
  static constexpr int kPackedRows = 256;

  ModelConfig config_;
  ParameterTensors params_;
  Precision precision_;
  int max_batch_;
  nn::LayerNorm layernorm_;
  nn::Linear qkv_, proj_, fc1_, fc2_;
  nn::Attention attention_;
  std::vector<std::vector<std::uint16_t>> bf16_weights_;  // per block: qkv, proj, fc1, fc2
  std::vector<nn::QuantizedWeights> int8_weights_;        // per block: qkv, proj, fc1, fc2
  bool packable_;                                         // fixed fp32 or bf16 weights
  std::vector<dnnl::memory> packed_weights_;  // per block: qkv, proj, fc1, fc2; filled lazily

  // Scratch, grown by reserve() up to max_batch × max_len rows.
  std::vector<int> ids_;                 // (B, T)
  std::vector<int> lengths_;             // (B)
  std::vector<float> key_mask_;          // (B, T)
  std::vector<float> x_;                 // (B, T, C) residual stream
  std::vector<float> h_;                 // (B, T, C) LayerNorm output / attention context
  std::vector<float> qkv_buf_;           // (B, T, 3C) fp32 and int8
  std::vector<std::uint16_t> qkv_bf16_;  // (B, T, 3C) bf16 only: qkv, as attention reads it
  std::vector<float> probs_;             // attention scores, a chunk at a time
  std::vector<float> ffn_;               // (B, T, F) fp32 and int8 only
  std::vector<std::uint16_t> ffn_bf16_;  // (B, T, F) bf16 only: GELU(fc1), fc2's input
  std::vector<std::uint16_t> bf16_in_;   // (B, T, C) bf16 copy of a matmul input
  std::vector<std::int8_t> int8_in_;     // (B, T, max(C, F)) s8 copy of a matmul input
  std::vector<float> int8_in_scales_;    // (B, T) its per-row scales
  std::vector<std::int32_t> int8_acc_;   // (B, T, max(3C, F)) s32 matmul result
};

}  // namespace sentemb
