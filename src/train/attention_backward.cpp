#include "train/attention_backward.h"

#include <cmath>

namespace sentemb::train {

using nn::dims;
using nn::dt;
using nn::tag;
using nn::wrap;

namespace {

// (B, NH, T, T) read transposed in its last two dimensions.
dnnl::memory::desc transposed_probs_md(int B, int NH, int T, dt type) {
  return dnnl::memory::desc({B, NH, T, T}, type,
                            dims{std::int64_t(NH) * T * T, std::int64_t(T) * T, 1, T});
}

const void* offset(const void* p, std::size_t bytes) {
  return static_cast<const char*>(p) + bytes;
}

}  // namespace

AttentionBackward::Prims& AttentionBackward::prims(int B, int T) {
  return cache_.get({B, T, 0, 0}, [&] {
    const auto& a = attention_;
    const int NH = a.heads();
    const dt io = a.io_type();
    const float s = 1.0f / std::sqrt(static_cast<float>(a.channels() / NH));
    auto& eng = nn::dnnl_context().engine;
    Prims p;
    // vᵀ has the same strided layout as kᵀ, one third further into qkv; k has q's and
    // v's. The gradients are written fp32 into dqkv.
    const auto dq_md = a.q_md(B, T, dt::f32);
    p.dprobs_prim = nn::make_matmul(a.ctx_md(B, T), a.kt_md(B, T), a.probs_md(B, T));
    p.dv_prim = nn::make_matmul(transposed_probs_md(B, NH, T, io), a.ctx_md(B, T), dq_md);
    dnnl::memory::desc rows_md({std::int64_t(B) * NH * T, T}, dt::f32, tag::ab);
    dnnl::softmax_forward::primitive_desc hint(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, rows_md, 1), eng);
    p.softmax_prim = dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(
        dnnl::softmax_backward::desc(rows_md, rows_md, 1), eng, hint));
    p.dq_prim = nn::make_matmul(a.normalized_md(B, T), a.v_md(B, T), dq_md, s);
    p.dk_prim = nn::make_matmul(transposed_probs_md(B, NH, T, io), a.q_md(B, T), dq_md, s);
    return p;
  });
}

void AttentionBackward::backward(const void* qkv, const float* probs, const void* used_probs,
                                 const float* dropout_mask, const void* dctx, float* dqkv, int B,
                                 int T) {
  const auto& a = attention_;
  const int C = a.channels(), NH = a.heads();
  const dt io = a.io_type();
  const std::size_t part = std::size_t(C) * a.io_size();  // bytes from q to k to v in qkv
  const std::int64_t n = std::int64_t(B) * NH * T * T;
  if (static_cast<std::int64_t>(dprobs_.size()) < n) {
    dprobs_.resize(n);
    dscores_.resize(n);
    if (io == dt::bf16) dscores_bf16_.resize(n);
  }
  auto& p = prims(B, T);
  auto& ctx = nn::dnnl_context();
  const auto dq_md = a.q_md(B, T, dt::f32);
  p.dprobs_prim.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(a.ctx_md(B, T), dctx)},
                                     {DNNL_ARG_WEIGHTS, wrap(a.kt_md(B, T), offset(qkv, 2 * part))},
                                     {DNNL_ARG_DST, wrap(a.probs_md(B, T), dprobs_.data())}});
  p.dv_prim.execute(ctx.stream,
                    {{DNNL_ARG_SRC, wrap(transposed_probs_md(B, NH, T, io), used_probs)},
                     {DNNL_ARG_WEIGHTS, wrap(a.ctx_md(B, T), dctx)},
                     {DNNL_ARG_DST, wrap(dq_md, dqkv + 2 * C)}});
  ctx.stream.wait();
  if (dropout_mask) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) dprobs_[i] *= dropout_mask[i];
  }
  dnnl::memory::desc rows_md({std::int64_t(B) * NH * T, T}, dt::f32, tag::ab);
  p.softmax_prim.execute(ctx.stream, {{DNNL_ARG_DST, wrap(rows_md, probs)},
                                      {DNNL_ARG_DIFF_DST, wrap(rows_md, dprobs_.data())},
                                      {DNNL_ARG_DIFF_SRC, wrap(rows_md, dscores_.data())}});
  const void* dscores = dscores_.data();
  if (io == dt::bf16) {
    ctx.stream.wait();
    nn::to_bf16(dscores_.data(), dscores_bf16_.data(), n);
    dscores = dscores_bf16_.data();
  }
  p.dq_prim.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(a.normalized_md(B, T), dscores)},
                                 {DNNL_ARG_WEIGHTS, wrap(a.v_md(B, T), offset(qkv, part))},
                                 {DNNL_ARG_DST, wrap(dq_md, dqkv)}});
  p.dk_prim.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(transposed_probs_md(B, NH, T, io), dscores)},
                                 {DNNL_ARG_WEIGHTS, wrap(a.q_md(B, T), qkv)},
                                 {DNNL_ARG_DST, wrap(dq_md, dqkv + C)}});
  ctx.stream.wait();
}

}  // namespace sentemb::train
