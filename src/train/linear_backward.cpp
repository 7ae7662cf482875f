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

constexpr int kRowBlock = 256;

// sums[c] = Σ_{r0 <= r < r1} dy[r][c], rows in order; with dy_bf16, also rounds those
// rows of dy to bf16 in the same pass (each row is read once, while in cache).
SENTEMB_SIMD_CLONES
void row_block_sums(const float* dy, std::uint16_t* dy_bf16, int r0, int r1, int N, float* sums) {
  for (int c = 0; c < N; ++c) sums[c] = 0.0f;
  for (int r = r0; r < r1; ++r) {
    const float* row = dy + static_cast<std::int64_t>(r) * N;
    for (int c = 0; c < N; ++c) sums[c] += row[c];
    if (dy_bf16) {
      std::uint16_t* out = dy_bf16 + static_cast<std::int64_t>(r) * N;
      for (int c = 0; c < N; ++c) out[c] = nn::to_bf16(row[c]);
    }
  }
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
  // db = column sums of dy, by blocks of rows in parallel, then the blocks' sums in
  // order: the same additions for any thread count. bf16: dy is rounded in the same pass.
  const int N = out_, blocks = (M + kRowBlock - 1) / kRowBlock;
  if (block_sums_.size() < std::size_t(blocks) * N) block_sums_.resize(std::size_t(blocks) * N);
  std::uint16_t* dy_bf16 = nullptr;
  if (bf16_) {
    if (dy_bf16_.size() < std::size_t(M) * N) dy_bf16_.resize(std::size_t(M) * N);
    dy_bf16 = dy_bf16_.data();
  }
#pragma omp parallel for schedule(static)
  for (int k = 0; k < blocks; ++k)
    row_block_sums(dy, dy_bf16, k * kRowBlock, std::min(M, (k + 1) * kRowBlock), N,
                   block_sums_.data() + std::size_t(k) * N);
  for (int k = 0; k < blocks; ++k)
    for (int c = 0; c < N; ++c) db[c] += block_sums_[std::size_t(k) * N + c];
  const void* dy_operand = bf16_ ? static_cast<const void*>(dy_bf16) : dy;
  const auto& prim = accumulate_dx ? dx_accumulate_prim_ : dx_prim_;
  prim.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(dy_md, dy_operand)},
                            {DNNL_ARG_WEIGHTS, wrap(wt_md_, w)},
                            {DNNL_ARG_DST, wrap(dx_md, dx)}});
  dw_prim_.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(xt_md, x)},
                                {DNNL_ARG_WEIGHTS, wrap(dy_md, dy_operand)},
                                {DNNL_ARG_DST, wrap(dw_md_, dw)}});
  ctx.stream.wait();
}

}  // namespace sentemb::train
