#include "train/layernorm_backward.h"

namespace sentemb::train {

using nn::dt;
using nn::tag;
using nn::wrap;

LayerNormBackward::Prim& LayerNormBackward::prim(int N) {
  return cache_.get({N, 0, 0, 0}, [&] {
    auto& eng = nn::dnnl_context().engine;
    dnnl::memory::desc md({N, channels_}, dt::f32, tag::ab);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::layer_normalization_forward::primitive_desc hint(
        dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_training, md, eps_, flags),
        eng);
    dnnl::layer_normalization_backward::primitive_desc pd(
        dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, md, md, eps_, flags),
        eng, hint);
    return Prim{pd, dnnl::layer_normalization_backward(pd)};
  });
}

void LayerNormBackward::backward(const float* x, const float* w, const float* b, const float* mean,
                                 const float* var, const float* dout, float* dx, float* dw,
                                 float* db, int N) {
  auto& p = prim(N);
  const std::size_t n = static_cast<std::size_t>(N) * channels_;
  if (dx_.size() < n) dx_.resize(n);
  dw_.resize(channels_);
  db_.resize(channels_);
  const dnnl::memory::desc md({N, channels_}, dt::f32, tag::ab), stat_md({N}, dt::f32, tag::a),
      c_md({channels_}, dt::f32, tag::a);
  auto& ctx = nn::dnnl_context();
  p.prim.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(md, x)},
                              {DNNL_ARG_MEAN, wrap(stat_md, mean)},
                              {DNNL_ARG_VARIANCE, wrap(stat_md, var)},
                              {DNNL_ARG_DIFF_DST, wrap(md, dout)},
                              {DNNL_ARG_SCALE, wrap(c_md, w)},
                              {DNNL_ARG_SHIFT, wrap(c_md, b)},
                              {DNNL_ARG_DIFF_SRC, wrap(md, dx_.data())},
                              {DNNL_ARG_DIFF_SCALE, wrap(c_md, dw_.data())},
                              {DNNL_ARG_DIFF_SHIFT, wrap(c_md, db_.data())}});
  ctx.stream.wait();
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) dx[i] += dx_[i];
  for (int c = 0; c < channels_; ++c) {
    dw[c] += dw_[c];
    db[c] += db_[c];
  }
}

}  // namespace sentemb::train
