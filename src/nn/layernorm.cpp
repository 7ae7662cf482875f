#include "nn/layernorm.h"

namespace sentemb::nn {

LayerNorm::Prim& LayerNorm::prim(int N, bool training) const {
  return cache_.get({N, training, 0, 0}, [&] {
    dnnl::memory::desc md({N, channels_}, dt::f32, tag::ab);
    auto kind = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::layer_normalization_forward::desc d(
        kind, md, eps_,
        dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift);
    dnnl::layer_normalization_forward::primitive_desc pd(d, with_user_scratchpad(),
                                                         dnnl_context().engine);
    return Prim{pd, dnnl::layer_normalization_forward(pd),
                dnnl::memory::desc({channels_}, dt::f32, tag::a)};
  });
}

void LayerNorm::forward(const float* x, const float* w, const float* b, float* out, int N) const {
  auto& p = prim(N, false);
  auto& ctx = dnnl_context();
  scratchpad_.execute(p.prim, {{DNNL_ARG_SRC, wrap(p.pd.src_desc(), x)},
                               {DNNL_ARG_SCALE, wrap(p.scale_md, w)},
                               {DNNL_ARG_SHIFT, wrap(p.scale_md, b)},
                               {DNNL_ARG_DST, wrap(p.pd.dst_desc(), out)}});
  ctx.stream.wait();
}

void LayerNorm::forward_training(const float* x, const float* w, const float* b, float* out,
                                 float* mean, float* var, int N) const {
  auto& p = prim(N, true);
  auto& ctx = dnnl_context();
  scratchpad_.execute(p.prim, {{DNNL_ARG_SRC, wrap(p.pd.src_desc(), x)},
                               {DNNL_ARG_SCALE, wrap(p.scale_md, w)},
                               {DNNL_ARG_SHIFT, wrap(p.scale_md, b)},
                               {DNNL_ARG_DST, wrap(p.pd.dst_desc(), out)},
                               {DNNL_ARG_MEAN, wrap(p.pd.mean_desc(), mean)},
                               {DNNL_ARG_VARIANCE, wrap(p.pd.variance_desc(), var)}});
  ctx.stream.wait();
}

}  // namespace sentemb::nn
