// The core of multi-head self-attention, from the fused projection qkv to the
// per-head context, for a padded batch of B sentences of T positions:
//   S = q · kᵀ / sqrt(hd) + mask     (B, NH, T, T)   mask: 0 for real keys, -1e9 for padding
//   P = softmax(S) over keys         (B, NH, T, T)
//   ctx = P · v                      (B, T, C), heads side by side
// q, k and v are strided views into qkv (B, T, 3C) — no copies — and ctx is
// written through a strided view, so the heads need no transposes. Each batched
// product is one oneDNN matmul; primitives are cached per (B, T).
//
// fp32 forward on fewer than kLoopRows rows (B·T: a query, a pair to score) of at
// most kLoopMaxLength positions runs as plain loops instead, on one thread: oneDNN's
// products on these strided views go to its JIT GEMM, whose first use generates all
// its kernels (about 40 ms on a 2-core Zen 5), more than a whole small call takes
// without it. Beyond these sizes the loops lose to oneDNN once its kernels exist
// (alone, warm: 0.018 against 0.026 ms at B = 2, T = 12; 0.25 against 0.11 ms at
// B = 8, T = 31, with 2 threads).
//
// bf16: qkv and ctx are bf16, both products multiply bf16 with fp32 accumulation;
// the scores and the softmax are fp32, the softmax writing its probabilities in
// bf16 for P · v (training: the caller rounds them, after its dropout).
#pragma once

#include <cstdint>
#include <vector>

#include "nn/dnnl_context.h"
#include "nn/shape_cache.h"

namespace sentemb::nn {

constexpr float kMaskedScore = -1e9f;
constexpr int kLoopRows = 64;       // fp32 forward on fewer rows (B·T)...
constexpr int kLoopMaxLength = 32;  // ...of at most this many positions runs as loops

class Attention {
 public:
  Attention(int channels, int heads, bool bf16 = false)
      : C_(channels), NH_(heads), hd_(channels / heads), bf16_(bf16) {}
  // qkv: (B, T, 3C); key_mask: (B, T) additive (0 or kMaskedScore), or nullptr when no
  // position is padding (the product then skips its mask post-op); probs: scratch of
  // forward_scratch(B, T) fp32 values; ctx: (B, T, C). qkv and ctx are float, or
  // uint16 bf16 in bf16 mode. Runs in chunks of sentences × heads whose scores take
  // at most max_chunk_scores() floats (64 MiB), so a long max_len never needs
  // (B, NH, T, T) at once: 69 GB at T = 4096, 16 heads, B = 64.
  void forward(const void* qkv, const float* key_mask, float* probs, void* ctx, int B, int T) const;
  std::int64_t forward_scratch(int B, int T) const;  // floats forward's probs must hold
  std::int64_t max_chunk_scores() const { return max_chunk_scores_; }
  // Tests: a smaller chunk (at least T·T scores are always taken: one head of one sentence).
  void set_max_chunk_scores(std::int64_t n) { max_chunk_scores_ = n; }
  static constexpr std::int64_t kMaxChunkScores = std::int64_t(16) << 20;  // 64 MiB of fp32
  // The two halves of forward, for training (it drops out probabilities in between):
  // probs = softmax(q·kᵀ/√hd + mask) in fp32, and ctx = probs · v with probs in the
  // io type. In bf16 mode qkv, the probabilities given to context and ctx are bf16.
  void scores_softmax(const void* qkv, const float* key_mask, float* probs, int B, int T) const;
  void context(const void* probs, const void* qkv, void* ctx, int B, int T) const;
  int channels() const { return C_; }
  int heads() const { return NH_; }

  // Views of the packed tensors, shared with the backward pass, in the io type (fp32,
  // or bf16 in bf16 mode) unless a type is given.
  dnnl::memory::desc q_md(int B, int T) const { return q_md(B, T, io_type()); }
  dnnl::memory::desc q_md(int B, int T, dt type) const;  // (B, NH, T, hd) in qkv
  dnnl::memory::desc kt_md(int B, int T) const;          // (B, NH, hd, T) in qkv + C: k transposed
  dnnl::memory::desc v_md(int B, int T) const;           // (B, NH, T, hd) in qkv + 2C
  dnnl::memory::desc ctx_md(int B, int T) const;         // (B, NH, T, hd) in ctx (B, T, C)
  dnnl::memory::desc probs_md(int B, int T) const;       // (B, NH, T, T) dense fp32
  // The same for nh of the heads (a chunk; the strides are those of all NH heads).
  dnnl::memory::desc q_md(int B, int nh, int T, dt type) const;
  dnnl::memory::desc kt_md(int B, int nh, int T) const;
  dnnl::memory::desc ctx_md(int B, int nh, int T) const;
  dnnl::memory::desc probs_md(int B, int nh, int T) const;
  dnnl::memory::desc normalized_md(int B, int nh, int T) const;
  // (B, NH, T, T) dense in the io type: the probabilities P·v reads.
  dnnl::memory::desc normalized_md(int B, int T) const;
  dt io_type() const { return bf16_ ? dt::bf16 : dt::f32; }
  std::size_t io_size() const { return bf16_ ? 2 : 4; }  // bytes per qkv or ctx value

 private:
  struct Prims {
    dnnl::memory::desc mask_md;       // (B, 1, 1, T)
    dnnl::matmul scores_prim;         // q · kᵀ, scaled (built on first use)
    dnnl::matmul masked_scores_prim;  // the same plus the key mask (built on first use)
    dnnl::primitive softmax_prim;     // in place (fp32), or fp32 scores to bf16 probabilities
    dnnl::softmax_forward training_softmax_prim;  // bf16 mode: fp32 in place (on first use)
    dnnl::matmul context_prim;                    // P · v
  };
  struct Chunk {
    int sentences, heads;
  };
  Chunk chunk(int B, int T) const;  // forward's chunk: all heads of some sentences, or some heads
  Prims& prims(int B, int nh, int T) const;  // for B sentences × nh heads
  const dnnl::matmul& scores_prim(Prims& p, int B, int nh, int T, bool masked) const;
  const void* part(const void* qkv, int index) const;  // q, k or v (0, 1, 2) in qkv
  // The three steps on B sentences × nh heads, queued on the stream; the callers wait.
  void run_scores(Prims& p, const void* qkv, const float* key_mask, float* scores, int B, int nh,
                  int T) const;
  void run_softmax(const Prims& p, const float* scores, void* probs, int B, int nh, int T) const;
  void run_context(const Prims& p, const void* probs, const void* qkv, void* ctx, int B, int nh,
                   int T) const;
  bool runs_as_loops(int B, int T) const;  // see above
  // forward in fp32 as loops, for small batches (see above).
  void forward_loops(const float* qkv, const float* key_mask, float* probs, float* ctx, int B,
                     int T) const;
  int C_, NH_, hd_;
  bool bf16_;
  std::int64_t max_chunk_scores_ = kMaxChunkScores;
  mutable ShapeCache<Prims> cache_;
  mutable Scratchpad scratchpad_;                  // user scratchpad (nn/dnnl_context.h)
  mutable std::vector<std::uint16_t> probs_bf16_;  // a chunk's probabilities, bf16 mode
};

}  // namespace sentemb::nn
