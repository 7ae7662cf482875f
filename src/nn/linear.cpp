#include "nn/linear.h"

namespace sentemb::nn {

Linear::Linear(int in, int out, LinearOptions options) : in_(in), out_(out) {
  const auto in_type = options.bf16 ? dt::bf16 : dt::f32;
  const auto M = DNNL_RUNTIME_DIM_VAL;
  x_md_ = dnnl::memory::desc({M, in}, in_type, tag::ab);
  w_md_ = dnnl::memory::desc({in, out}, in_type, tag::ab);
  b_md_ = dnnl::memory::desc({1, out}, dt::f32, tag::ab);
  y_md_ = dnnl::memory::desc({M, out}, dt::f32, tag::ab);
  dnnl::post_ops ops;
  if (options.gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
  if (options.accumulate) ops.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  auto& ctx = dnnl_context();
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_md_, w_md_, b_md_, y_md_), attr, ctx.engine);
  matmul_prim_ = dnnl::matmul(pd);
}

void Linear::forward(const void* x, const void* w, const float* b, float* y, int M) const {
  auto& ctx = dnnl_context();
  const auto in_type = x_md_.data_type();
  dnnl::memory::desc x_md({M, in_}, in_type, tag::ab), y_md({M, out_}, dt::f32, tag::ab);
  matmul_prim_.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(x_md, x)},
                                    {DNNL_ARG_WEIGHTS, wrap(w_md_, w)},
                                    {DNNL_ARG_BIAS, wrap(b_md_, b)},
                                    {DNNL_ARG_DST, wrap(y_md, y)}});
  ctx.stream.wait();
}

}  // namespace sentemb::nn
