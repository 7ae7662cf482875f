#include "nn/attention.h"

#include <cmath>
#include <stdexcept>

namespace sentemb::nn {

dnnl::memory::desc Attention::q_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, hd_}, io_type(),
                            dims{std::int64_t(T) * 3 * C_, hd_, 3 * C_, 1});
}
dnnl::memory::desc Attention::kt_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, hd_, T}, io_type(),
                            dims{std::int64_t(T) * 3 * C_, hd_, 1, 3 * C_});
}
dnnl::memory::desc Attention::v_md(int B, int T) const {
  return q_md(B, T);
}
dnnl::memory::desc Attention::ctx_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, hd_}, io_type(), dims{std::int64_t(T) * C_, hd_, C_, 1});
}
dnnl::memory::desc Attention::probs_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, T}, dt::f32, tag::abcd);
}
dnnl::memory::desc Attention::probs_bf16_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, T}, dt::bf16, tag::abcd);
}

Attention::Prims& Attention::prims(int B, int T) const {
  return cache_.get({B, T, 0, 0}, [&] {
    auto& eng = dnnl_context().engine;
    Prims p;
    p.mask_md = dnnl::memory::desc({B, 1, 1, T}, dt::f32, tag::abcd);
    dnnl::primitive_attr scores_attr;
    scores_attr.set_output_scales(0, {1.0f / std::sqrt(static_cast<float>(hd_))});
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, p.mask_md);
    scores_attr.set_post_ops(ops);
    p.scores_prim = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(q_md(B, T), kt_md(B, T), probs_md(B, T)), scores_attr, eng));
    dnnl::memory::desc rows_md({std::int64_t(B) * NH_ * T, T}, dt::f32, tag::ab);
    if (bf16_) {
      dnnl::memory::desc rows_bf16_md({std::int64_t(B) * NH_ * T, T}, dt::bf16, tag::ab);
      p.softmax_prim = dnnl::softmax_v2_forward(dnnl::softmax_v2_forward::primitive_desc(
          dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::softmax_accurate, rows_md, rows_bf16_md,
                                         1),
          eng));
    } else {
      p.softmax_prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, rows_md, 1), eng));
    }
    p.context_prim = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(bf16_ ? probs_bf16_md(B, T) : probs_md(B, T), v_md(B, T), ctx_md(B, T)),
        eng));
    return p;
  });
}

void Attention::forward(const void* qkv, const float* key_mask, float* probs, void* ctx, int B,
                        int T) const {
  if (!bf16_) {
    scores_softmax(static_cast<const float*>(qkv), key_mask, probs, B, T);
    context(probs, static_cast<const float*>(qkv), static_cast<float*>(ctx), B, T);
    return;
  }
  auto& p = prims(B, T);
  auto& dnnl = dnnl_context();
  const auto* qkv_bf16 = static_cast<const std::uint16_t*>(qkv);
  const std::size_t n = std::size_t(B) * NH_ * T * T;
  if (probs_bf16_.size() < n) probs_bf16_.resize(n);
  p.scores_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, wrap(q_md(B, T), qkv_bf16)},
                                      {DNNL_ARG_WEIGHTS, wrap(kt_md(B, T), qkv_bf16 + C_)},
                                      {DNNL_ARG_DST, wrap(probs_md(B, T), probs)},
                                      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
                                       wrap(p.mask_md, key_mask)}});
  dnnl::memory::desc rows_md({std::int64_t(B) * NH_ * T, T}, dt::f32, tag::ab),
      rows_bf16_md({std::int64_t(B) * NH_ * T, T}, dt::bf16, tag::ab);
  p.softmax_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, wrap(rows_md, probs)},
                                       {DNNL_ARG_DST, wrap(rows_bf16_md, probs_bf16_.data())}});
  p.context_prim.execute(dnnl.stream,
                         {{DNNL_ARG_SRC, wrap(probs_bf16_md(B, T), probs_bf16_.data())},
                          {DNNL_ARG_WEIGHTS, wrap(v_md(B, T), qkv_bf16 + 2 * C_)},
                          {DNNL_ARG_DST, wrap(ctx_md(B, T), ctx)}});
  dnnl.stream.wait();
}

void Attention::scores_softmax(const float* qkv, const float* key_mask, float* probs, int B,
                               int T) const {
  if (bf16_) throw std::logic_error("Attention::scores_softmax: fp32 only");
  auto& p = prims(B, T);
  auto& dnnl = dnnl_context();
  p.scores_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, wrap(q_md(B, T), qkv)},
                                      {DNNL_ARG_WEIGHTS, wrap(kt_md(B, T), qkv + C_)},
                                      {DNNL_ARG_DST, wrap(probs_md(B, T), probs)},
                                      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
                                       wrap(p.mask_md, key_mask)}});
  dnnl::memory::desc rows_md({std::int64_t(B) * NH_ * T, T}, dt::f32, tag::ab);
  auto probs_mem = wrap(rows_md, probs);
  p.softmax_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, probs_mem}, {DNNL_ARG_DST, probs_mem}});
  dnnl.stream.wait();
}

void Attention::context(const float* probs, const float* qkv, float* ctx, int B, int T) const {
  if (bf16_) throw std::logic_error("Attention::context: fp32 only");
  auto& p = prims(B, T);
  auto& dnnl = dnnl_context();
  p.context_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, wrap(probs_md(B, T), probs)},
                                       {DNNL_ARG_WEIGHTS, wrap(v_md(B, T), qkv + 2 * C_)},
                                       {DNNL_ARG_DST, wrap(ctx_md(B, T), ctx)}});
  dnnl.stream.wait();
}

}  // namespace sentemb::nn
