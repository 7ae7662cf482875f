#include "nn/linear.h"

#include <stdexcept>

#include "nn/gelu.h"
#include "nn/quantize.h"

namespace sentemb::nn {

Linear::Linear(int in, int out, LinearOptions options) : in_(in), out_(out), options_(options) {
  const auto M = DNNL_RUNTIME_DIM_VAL;
  auto& ctx = dnnl_context();
  // GELU runs after the product (nn/gelu.h), so it cannot precede a sum.
  if (options.gelu && options.accumulate)
    throw std::logic_error("Linear: gelu together with accumulate is not supported");
  if (options.int8) {
    // Plain s8 × s8 → s32: with a runtime M oneDNN 2.6 picks its jit int8 GEMM
    // (VNNI where available); scales, bias and post-ops are applied afterwards.
    x_md_ = dnnl::memory::desc({M, in}, dt::s8, tag::ab);
    w_md_ = dnnl::memory::desc({in, out}, dt::s8, tag::ab);
    y_md_ = dnnl::memory::desc({M, out}, dt::s32, tag::ab);
    attr_ = with_user_scratchpad();
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_md_, w_md_, y_md_), attr_, ctx.engine);
    matmul_prim_ = dnnl::matmul(pd);
    return;
  }
  if (options.bf16_out && (!options.bf16 || options.accumulate))
    throw std::logic_error("Linear: bf16_out needs bf16 and no accumulate");
  const auto in_type = options.bf16 ? dt::bf16 : dt::f32;
  x_md_ = dnnl::memory::desc({M, in}, in_type, tag::ab);
  w_md_ = dnnl::memory::desc({in, out}, in_type, tag::ab);
  b_md_ = dnnl::memory::desc({1, out}, dt::f32, tag::ab);
  y_md_ = dnnl::memory::desc({M, out}, options.bf16_out ? dt::bf16 : dt::f32, tag::ab);
  dnnl::post_ops ops;
  if (options.accumulate) ops.append_sum(1.0f);
  attr_.set_post_ops(ops);
  attr_ = with_user_scratchpad(attr_);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_md_, w_md_, b_md_, y_md_), attr_,
                                  ctx.engine);
  matmul_prim_ = dnnl::matmul(pd);
}

void Linear::forward(const void* x, const void* w, const float* b, void* y, int M) const {
  if (options_.int8) throw std::logic_error("int8 Linear: call forward_int8");
  execute(matmul_prim_, x, wrap(w_md_, w), b, y, M);
}

dnnl::memory Linear::pack(const void* w) {
  if (options_.int8) throw std::logic_error("int8 Linear: its weights are quantized, not packed");
  auto& ctx = dnnl_context();
  if (packed_w_md_.is_zero()) {
    // The layout oneDNN picks when free to choose; on the CPUs measured it is the
    // same for every M (brgemm's blocks depend on K and N only).
    constexpr int kReferenceRows = 512;
    dnnl::memory::desc x_md({kReferenceRows, in_}, x_md_.data_type(), tag::ab),
        w_any_md({in_, out_}, w_md_.data_type(), tag::any),
        y_md({kReferenceRows, out_}, y_md_.data_type(), tag::ab);
    packed_w_md_ = dnnl::matmul::primitive_desc(dnnl::matmul::desc(x_md, w_any_md, b_md_, y_md),
                                                attr_, ctx.engine)
                       .weights_desc();
  }
  dnnl::memory plain = wrap(w_md_, w), packed(packed_w_md_, ctx.engine);
  dnnl::reorder(plain, packed).execute(ctx.stream, plain, packed);
  ctx.stream.wait();
  return packed;
}

const std::optional<dnnl::matmul>& Linear::per_m_prim(int M, const dnnl::memory::desc& w_md) const {
  const bool packed = w_md != w_md_;
  return per_m_prims_.get({M, packed, 0, 0}, [&]() -> std::optional<dnnl::matmul> {
    dnnl::memory::desc x_md({M, in_}, x_md_.data_type(), tag::ab),
        y_md({M, out_}, y_md_.data_type(), tag::ab);
    try {
      return dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(x_md, w_md, b_md_, y_md),
                                                       attr_, dnnl_context().engine));
    } catch (const dnnl::error&) {
      return std::nullopt;  // no implementation reads this layout at this M
    }
  });
}

bool Linear::forward_packed(const void* x, const dnnl::memory& w, const float* b, void* y,
                            int M) const {
  if (packed_w_md_.is_zero() || w.get_desc() != packed_w_md_)
    throw std::logic_error("Linear::forward_packed: weights not from this layer's pack()");
  const auto& prim = per_m_prim(M, packed_w_md_);
  if (!prim) return false;
  execute(*prim, x, w, b, y, M);
  return true;
}

void Linear::forward_per_m(const void* x, const void* w, const float* b, void* y, int M) const {
  if (options_.int8) throw std::logic_error("int8 Linear: call forward_int8");
  // Should oneDNN offer no primitive for this M, the runtime-M one runs it.
  const auto& prim = per_m_prim(M, w_md_);
  execute(prim ? *prim : matmul_prim_, x, wrap(w_md_, w), b, y, M);
}

void Linear::execute(const dnnl::matmul& prim, const void* x, const dnnl::memory& w, const float* b,
                     void* y, int M) const {
  auto& ctx = dnnl_context();
  dnnl::memory::desc x_md({M, in_}, x_md_.data_type(), tag::ab),
      y_md({M, out_}, y_md_.data_type(), tag::ab);
  scratchpad_.execute(prim, {{DNNL_ARG_SRC, wrap(x_md, x)},
                             {DNNL_ARG_WEIGHTS, w},
                             {DNNL_ARG_BIAS, wrap(b_md_, b)},
                             {DNNL_ARG_DST, wrap(y_md, y)}});
  ctx.stream.wait();
  if (options_.gelu) {
    if (options_.bf16_out)
      gelu_bf16_inplace(static_cast<std::uint16_t*>(y), std::int64_t(M) * out_);
    else
      gelu_inplace(static_cast<float*>(y), std::int64_t(M) * out_);
  }
}

void Linear::forward_int8(const std::int8_t* x, const float* x_scales, const std::int8_t* w,
                          const float* w_scales, const float* b, float* y, std::int32_t* acc,
                          int M) const {
  if (!options_.int8) throw std::logic_error("Linear: forward_int8 needs options.int8");
  auto& ctx = dnnl_context();
  const int N = out_;
  dnnl::memory::desc x_md({M, in_}, dt::s8, tag::ab), acc_md({M, N}, dt::s32, tag::ab);
  // acc (M, N) = x (M, K) · w (K, N), exact in s32 (|Σ| ≤ K · 127²).
  scratchpad_.execute(matmul_prim_, {{DNNL_ARG_SRC, wrap(x_md, x)},
                                     {DNNL_ARG_WEIGHTS, wrap(w_md_, w)},
                                     {DNNL_ARG_DST, wrap(acc_md, acc)}});
  ctx.stream.wait();

  // GELU on each row right after it is dequantized, while it is still in cache (a
  // row is below gelu_inplace's threading threshold, so it runs on this thread).
#pragma omp parallel for schedule(static) if (std::int64_t(M) * N > 32768)
  for (int m = 0; m < M; ++m) {
    float* row = y + std::int64_t(m) * N;
    dequantize_row(acc + std::int64_t(m) * N, x_scales[m], w_scales, b, row, N,
                   options_.accumulate);
    if (options_.gelu) gelu_inplace(row, N);
  }
}

}  // namespace sentemb::nn
