#include "nn/attention.h"

#include <cmath>

namespace sentemb::nn {

dnnl::memory::desc Attention::q_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, hd_}, dt::f32,
                            dims{std::int64_t(T) * 3 * C_, hd_, 3 * C_, 1});
}
dnnl::memory::desc Attention::kt_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, hd_, T}, dt::f32,
                            dims{std::int64_t(T) * 3 * C_, hd_, 1, 3 * C_});
}
dnnl::memory::desc Attention::v_md(int B, int T) const {
  return q_md(B, T);
}
dnnl::memory::desc Attention::ctx_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, hd_}, dt::f32, dims{std::int64_t(T) * C_, hd_, C_, 1});
}
dnnl::memory::desc Attention::probs_md(int B, int T) const {
  return dnnl::memory::desc({B, NH_, T, T}, dt::f32, tag::abcd);
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
    p.softmax_prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, rows_md, 1), eng));
    p.context_prim = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(probs_md(B, T), v_md(B, T), ctx_md(B, T)), eng));
    return p;
  });
}

void Attention::forward(const float* qkv, const float* key_mask, float* probs, float* ctx, int B,
                        int T) const {
  scores_softmax(qkv, key_mask, probs, B, T);
  context(probs, qkv, ctx, B, T);
}

void Attention::scores_softmax(const float* qkv, const float* key_mask, float* probs, int B,
                               int T) const {
  auto& p = prims(B, T);
  auto& dnnl = dnnl_context();
  p.scores_prim.execute(
      dnnl.stream,
      {{DNNL_ARG_SRC, wrap(q_md(B, T), qkv)},
       {DNNL_ARG_WEIGHTS, wrap(kt_md(B, T), qkv + C_)},
       {DNNL_ARG_DST, wrap(probs_md(B, T), probs)},
       {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, wrap(p.mask_md, key_mask)}});
  dnnl::memory::desc rows_md({std::int64_t(B) * NH_ * T, T}, dt::f32, tag::ab);
  auto probs_mem = wrap(rows_md, probs);
  p.softmax_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, probs_mem}, {DNNL_ARG_DST, probs_mem}});
  dnnl.stream.wait();
}

void Attention::context(const float* probs, const float* qkv, float* ctx, int B, int T) const {
  auto& p = prims(B, T);
  auto& dnnl = dnnl_context();
  p.context_prim.execute(dnnl.stream, {{DNNL_ARG_SRC, wrap(probs_md(B, T), probs)},
                                       {DNNL_ARG_WEIGHTS, wrap(v_md(B, T), qkv + 2 * C_)},
                                       {DNNL_ARG_DST, wrap(ctx_md(B, T), ctx)}});
  dnnl.stream.wait();
}

}  // namespace sentemb::nn
