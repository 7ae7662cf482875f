#include "train/gelu.h"

namespace sentemb::train {

using nn::dt;
using nn::tag;
using nn::wrap;

Gelu::Prims& Gelu::prims(std::int64_t n) {
  return cache_.get({n, 0, 0, 0}, [&] {
    auto& eng = nn::dnnl_context().engine;
    dnnl::memory::desc md({n}, dt::f32, tag::a);
    dnnl::eltwise_forward::primitive_desc fwd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training,
                                    dnnl::algorithm::eltwise_gelu_erf, md, 0.0f, 0.0f),
        eng);
    dnnl::eltwise_backward::primitive_desc bwd(
        dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_gelu_erf, md, md, 0.0f, 0.0f), eng,
        fwd);
    return Prims{dnnl::eltwise_forward(fwd), dnnl::eltwise_backward(bwd)};
  });
}

void Gelu::forward(const float* x, float* y, std::int64_t n) {
  dnnl::memory::desc md({n}, dt::f32, tag::a);
  auto& ctx = nn::dnnl_context();
  prims(n).forward.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(md, x)}, {DNNL_ARG_DST, wrap(md, y)}});
  ctx.stream.wait();
}

void Gelu::backward(const float* x, const float* dy, float* dx, std::int64_t n) {
  dnnl::memory::desc md({n}, dt::f32, tag::a);
  auto& ctx = nn::dnnl_context();
  prims(n).backward.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(md, x)},
                                         {DNNL_ARG_DIFF_DST, wrap(md, dy)},
                                         {DNNL_ARG_DIFF_SRC, wrap(md, dx)}});
  ctx.stream.wait();
}

}  // namespace sentemb::train
