#include "nn/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "nn/simd.h"

namespace sentemb::nn {

dnnl::memory::desc Attention::q_md(int B, int T, dt type) const {
  return q_md(B, NH_, T, type);
}
dnnl::memory::desc Attention::q_md(int B, int nh, int T, dt type) const {
  return dnnl::memory::desc({B, nh, T, hd_}, type, dims{std::int64_t(T) * 3 * C_, hd_, 3 * C_, 1});
}
dnnl::memory::desc Attention::kt_md(int B, int T) const {
  return kt_md(B, NH_, T);
}
dnnl::memory::desc Attention::kt_md(int B, int nh, int T) const {
  return dnnl::memory::desc({B, nh, hd_, T}, io_type(),
                            dims{std::int64_t(T) * 3 * C_, hd_, 1, 3 * C_});
}
dnnl::memory::desc Attention::v_md(int B, int T) const {
  return q_md(B, T);
}
dnnl::memory::desc Attention::ctx_md(int B, int T) const {
  return ctx_md(B, NH_, T);
}
dnnl::memory::desc Attention::ctx_md(int B, int nh, int T) const {
  return dnnl::memory::desc({B, nh, T, hd_}, io_type(), dims{std::int64_t(T) * C_, hd_, C_, 1});
}
dnnl::memory::desc Attention::probs_md(int B, int T) const {
  return probs_md(B, NH_, T);
}
dnnl::memory::desc Attention::probs_md(int B, int nh, int T) const {
  return dnnl::memory::desc({B, nh, T, T}, dt::f32, tag::abcd);
}
dnnl::memory::desc Attention::normalized_md(int B, int T) const {
  return normalized_md(B, NH_, T);
}
dnnl::memory::desc Attention::normalized_md(int B, int nh, int T) const {
  return dnnl::memory::desc({B, nh, T, T}, io_type(), tag::abcd);
}

Attention::Chunk Attention::chunk(int B, int T) const {
  const std::int64_t per_head = std::int64_t(T) * T, per_sentence = per_head * NH_;
  if (per_sentence <= max_chunk_scores_)
    return {static_cast<int>(std::min<std::int64_t>(B, max_chunk_scores_ / per_sentence)), NH_};
  return {1, static_cast<int>(std::max<std::int64_t>(1, max_chunk_scores_ / per_head))};
}

std::int64_t Attention::forward_scratch(int B, int T) const {
  if (runs_as_loops(B, T)) return std::int64_t(B) * NH_ * T * T;
  const Chunk c = chunk(B, T);
  return std::int64_t(c.sentences) * c.heads * T * T;
}

Attention::Prims& Attention::prims(int B, int nh, int T) const {
  return cache_.get({B, T, nh, 0}, [&] {
    auto& eng = dnnl_context().engine;
    Prims p;
    p.mask_md = dnnl::memory::desc({B, 1, 1, T}, dt::f32, tag::abcd);
    dnnl::memory::desc rows_md({std::int64_t(B) * nh * T, T}, dt::f32, tag::ab);
    if (bf16_) {
      dnnl::memory::desc rows_bf16_md({std::int64_t(B) * nh * T, T}, dt::bf16, tag::ab);
      p.softmax_prim = dnnl::softmax_v2_forward(dnnl::softmax_v2_forward::primitive_desc(
          dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::softmax_accurate, rows_md, rows_bf16_md,
                                         1),
          with_user_scratchpad(), eng));
    } else {
      p.softmax_prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, rows_md, 1),
          with_user_scratchpad(), eng));
    }
    p.context_prim = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(normalized_md(B, nh, T), q_md(B, nh, T, io_type()), ctx_md(B, nh, T)),
        with_user_scratchpad(), eng));
    return p;
  });
}

// Built on first use: a shape may only ever come with padding, or only without.
const dnnl::matmul& Attention::scores_prim(Prims& p, int B, int nh, int T, bool masked) const {
  dnnl::matmul& prim = masked ? p.masked_scores_prim : p.scores_prim;
  if (prim) return prim;
  dnnl::primitive_attr attr = with_user_scratchpad();
  attr.set_output_scales(0, {1.0f / std::sqrt(static_cast<float>(hd_))});
  // The mask is a binary post-op read per score; measured alone it costs about a
  // quarter of this small product, so batches without padding go without it.
  if (masked) {
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, p.mask_md);
    attr.set_post_ops(ops);
  }
  prim = dnnl::matmul(dnnl::matmul::primitive_desc(
      dnnl::matmul::desc(q_md(B, nh, T, io_type()), kt_md(B, nh, T), probs_md(B, nh, T)), attr,
      dnnl_context().engine));
  return prim;
}

const void* Attention::part(const void* qkv, int index) const {
  return static_cast<const char*>(qkv) + std::size_t(index) * C_ * io_size();
}

void Attention::run_scores(Prims& p, const void* qkv, const float* key_mask, float* scores, int B,
                           int nh, int T) const {
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, wrap(q_md(B, nh, T, io_type()), part(qkv, 0))},
      {DNNL_ARG_WEIGHTS, wrap(kt_md(B, nh, T), part(qkv, 1))},
      {DNNL_ARG_DST, wrap(probs_md(B, nh, T), scores)}};
  if (key_mask)
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, wrap(p.mask_md, key_mask));
  scratchpad_.execute(scores_prim(p, B, nh, T, key_mask != nullptr), std::move(args));
}

void Attention::run_softmax(const Prims& p, const float* scores, void* probs, int B, int nh,
                            int T) const {
  const std::int64_t rows = std::int64_t(B) * nh * T;
  scratchpad_.execute(
      p.softmax_prim,
      {{DNNL_ARG_SRC, wrap(dnnl::memory::desc({rows, T}, dt::f32, tag::ab), scores)},
       {DNNL_ARG_DST, wrap(dnnl::memory::desc({rows, T}, io_type(), tag::ab), probs)}});
}

void Attention::run_context(const Prims& p, const void* probs, const void* qkv, void* ctx, int B,
                            int nh, int T) const {
  scratchpad_.execute(p.context_prim,
                      {{DNNL_ARG_SRC, wrap(normalized_md(B, nh, T), probs)},
                       {DNNL_ARG_WEIGHTS, wrap(q_md(B, nh, T, io_type()), part(qkv, 2))},
                       {DNNL_ARG_DST, wrap(ctx_md(B, nh, T), ctx)}});
}

namespace {

// One head of one sentence: p (T, T) = softmax(q · kᵀ · scale + mask) over the keys, the
// maximum subtracted first, and ctx (T, hd) = p · v. q, k and v rows lie `row` floats
// apart, ctx rows `ctx_row`; mask: (T) additive, or nullptr. The dot products' SIMD
// reduction adds in a different order in each clone (nn/simd.h), so results differ
// between CPUs in the last bits.
SENTEMB_SIMD_CLONES
void attend_head(const float* q, const float* k, const float* v, std::int64_t row,
                 const float* mask, float scale, int T, int hd, float* p, float* ctx,
                 std::int64_t ctx_row) {
  for (int i = 0; i < T; ++i, p += T) {
    const float* qi = q + i * row;
    float most = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < T; ++j) {
      const float* kj = k + j * row;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int d = 0; d < hd; ++d) dot += qi[d] * kj[d];
      p[j] = dot * scale + (mask ? mask[j] : 0.0f);
      most = std::max(most, p[j]);
    }
    float sum = 0;
    for (int j = 0; j < T; ++j) sum += p[j] = std::exp(p[j] - most);
    const float inverse = 1.0f / sum;
    float* out = ctx + i * ctx_row;
    std::fill(out, out + hd, 0.0f);
    for (int j = 0; j < T; ++j) {
      const float pj = p[j] *= inverse;
      const float* vj = v + j * row;
#pragma omp simd
      for (int d = 0; d < hd; ++d) out[d] += pj * vj[d];
    }
  }
}

}  // namespace

bool Attention::runs_as_loops(int B, int T) const {
  return !bf16_ && std::int64_t(B) * T < kLoopRows && T <= kLoopMaxLength;
}

void Attention::forward_loops(const float* qkv, const float* key_mask, float* probs, float* ctx,
                              int B, int T) const {
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd_));
  const std::int64_t row = 3 * C_;  // qkv's row stride
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH_; ++h) {
      const float* q = qkv + std::int64_t(b) * T * row + h * hd_;
      attend_head(q, q + C_, q + 2 * C_, row, key_mask ? key_mask + b * T : nullptr, scale, T, hd_,
                  probs + (std::int64_t(b) * NH_ + h) * T * T,
                  ctx + std::int64_t(b) * T * C_ + h * hd_, C_);
    }
}

void Attention::forward(const void* qkv, const float* key_mask, float* probs, void* ctx, int B,
                        int T) const {
  if (runs_as_loops(B, T)) {
    forward_loops(static_cast<const float*>(qkv), key_mask, probs, static_cast<float*>(ctx), B, T);
    return;
  }
  // Chunks of sentences × heads, each one product, softmax and product: the scores
  // of one chunk at a time, never (B, NH, T, T) at once.
  const Chunk c = chunk(B, T);
  const std::size_t io = io_size();
  for (int b0 = 0; b0 < B; b0 += c.sentences) {
    const int nb = std::min(c.sentences, B - b0);
    for (int h0 = 0; h0 < NH_; h0 += c.heads) {
      const int nh = std::min(c.heads, NH_ - h0);
      const void* q = static_cast<const char*>(qkv) +
                      (std::int64_t(b0) * T * 3 * C_ + std::int64_t(h0) * hd_) * io;
      void* out =
          static_cast<char*>(ctx) + (std::int64_t(b0) * T * C_ + std::int64_t(h0) * hd_) * io;
      auto& p = prims(nb, nh, T);
      run_scores(p, q, key_mask ? key_mask + std::int64_t(b0) * T : nullptr, probs, nb, nh, T);
      void* normalized = probs;  // fp32: the softmax runs in place
      if (bf16_) {
        const std::size_t n = std::size_t(nb) * nh * T * T;
        if (probs_bf16_.size() < n) probs_bf16_.resize(n);
        normalized = probs_bf16_.data();
      }
      run_softmax(p, probs, normalized, nb, nh, T);
      run_context(p, normalized, q, out, nb, nh, T);
      dnnl_context().stream.wait();
    }
  }
}

void Attention::scores_softmax(const void* qkv, const float* key_mask, float* probs, int B,
                               int T) const {
  auto& p = prims(B, NH_, T);
  run_scores(p, qkv, key_mask, probs, B, NH_, T);
  const dnnl::memory::desc rows_md({std::int64_t(B) * NH_ * T, T}, dt::f32, tag::ab);
  if (bf16_ && !p.training_softmax_prim)  // forward's softmax writes bf16; training keeps fp32
    p.training_softmax_prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, rows_md, 1),
        with_user_scratchpad(), dnnl_context().engine));
  const dnnl::primitive& softmax = bf16_ ? p.training_softmax_prim : p.softmax_prim;
  scratchpad_.execute(softmax,
                      {{DNNL_ARG_SRC, wrap(rows_md, probs)}, {DNNL_ARG_DST, wrap(rows_md, probs)}});
  dnnl_context().stream.wait();
}

void Attention::context(const void* probs, const void* qkv, void* ctx, int B, int T) const {
  run_context(prims(B, NH_, T), probs, qkv, ctx, B, NH_, T);
  dnnl_context().stream.wait();
}

}  // namespace sentemb::nn
