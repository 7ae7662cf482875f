#include "train/linear_backward.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "nn/simd.h"

namespace sentemb::train {

using nn::dims;
using nn::dt;
using nn::tag;
using nn::wrap;

namespace {

constexpr int kColumnBlock = 64;

// db[c] += Σ_r dy[r][c] for the columns [c0, c1), c1 - c0 <= kColumnBlock, rows in order.
SENTEMB_SIMD_CLONES
void add_column_sums(const float* dy, int M, int N, int c0, int c1, float* db) {
  float acc[kColumnBlock] = {};
  for (int r = 0; r < M; ++r) {
    const float* row = dy + static_cast<std::int64_t>(r) * N + c0;
#pragma omp simd
    for (int c = 0; c < c1 - c0; ++c) acc[c] += row[c];
  }
  for (int c = c0; c < c1; ++c) db[c] += acc[c - c0];
}

}  // namespace

LinearBackward::LinearBackward(int in, int out, bool bf16) : in_(in), out_(out), bf16_(bf16) {
  const auto M = DNNL_RUNTIME_DIM_VAL;
  const auto in_type = bf16 ? dt::bf16 : dt::f32;
  dy_md_ = dnnl::memory::desc({M, out}, in_type, tag::ab);
  wt_md_ = dnnl::memory::desc({out, in}, in_type, tag::ba);  // Wᵀ: W (in, out) read transposed
  dx_md_ = dnnl::memory::desc({M, in}, dt::f32, tag::ab);
  xt_md_ = dnnl::memory::desc({in, M}, in_type, tag::ba);  // xᵀ: x (M, in) read transposed
  dw_md_ = dnnl::memory::desc({in, out}, dt::f32, tag::ab);
  dx_prim_ = nn::make_matmul(dy_md_, wt_md_, dx_md_);
  dx_accumulate_prim_ = nn::make_matmul(dy_md_, wt_md_, dx_md_, 1.0f, true);
  dw_prim_ = nn::make_matmul(xt_md_, dy_md_, dw_md_, 1.0f, true);
}

void LinearBackward::backward(const void* x, const void* w, const float* dy, float* dx,
                              bool accumulate_dx, float* dw, float* db, int M) const {
  auto& ctx = nn::dnnl_context();
  const auto in_type = bf16_ ? dt::bf16 : dt::f32;
  const dnnl::memory::desc dy_md({M, out_}, in_type, tag::ab), dx_md({M, in_}, dt::f32, tag::ab),
      xt_md({in_, M}, in_type, tag::ba);
  const void* dy_operand = dy;
  if (bf16_) {
    const std::size_t n = std::size_t(M) * out_;
    if (dy_bf16_.size() < n) dy_bf16_.resize(n);
    nn::to_bf16(dy, dy_bf16_.data(), n);
    dy_operand = dy_bf16_.data();
  }
  const auto& prim = accumulate_dx ? dx_accumulate_prim_ : dx_prim_;
  prim.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(dy_md, dy_operand)},
                            {DNNL_ARG_WEIGHTS, wrap(wt_md_, w)},
                            {DNNL_ARG_DST, wrap(dx_md, dx)}});
  dw_prim_.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(xt_md, x)},
                                {DNNL_ARG_WEIGHTS, wrap(dy_md, dy_operand)},
                                {DNNL_ARG_DST, wrap(dw_md_, dw)}});
  ctx.stream.wait();
  // db: column sums of dy; each thread sums a block of columns over all rows.
  const int N = out_;
#pragma omp parallel for schedule(static)
  for (int c0 = 0; c0 < N; c0 += kColumnBlock)
    add_column_sums(dy, M, N, c0, std::min(N, c0 + kColumnBlock), db);
}

}  // namespace sentemb::train
