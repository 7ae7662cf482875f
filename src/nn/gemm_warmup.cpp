#include "nn/gemm_warmup.h"

#include <cstdint>
#include <vector>

#include "nn/linear.h"

namespace sentemb::nn {

namespace {

// One product large enough that oneDNN takes its JIT GEMM path (tiny ones may not).
constexpr int kRows = 64, kIn = 256, kOut = 256;

void run_product(bool bf16, bool int8) {
  LinearOptions options;
  options.bf16 = bf16;
  options.int8 = int8;
  const Linear layer(kIn, kOut, options);
  std::vector<float> b(kOut, 0.0f), y(std::size_t(kRows) * kOut);
  if (int8) {
    std::vector<std::int8_t> x(std::size_t(kRows) * kIn, 1), w(std::size_t(kIn) * kOut, 1);
    std::vector<float> x_scales(kRows, 1.0f), w_scales(kOut, 1.0f);
    std::vector<std::int32_t> acc(std::size_t(kRows) * kOut);
    layer.forward_int8(x.data(), x_scales.data(), w.data(), w_scales.data(), b.data(), y.data(),
                       acc.data(), kRows);
  } else {
    // 0x3c003c00: as fp32 about 0.0078, as bf16 pairs 0.0078 each.
    const std::size_t size = bf16 ? 2 : 4;
    std::vector<std::uint32_t> x(std::size_t(kRows) * kIn * size / 4, 0x3c003c00u),
        w(std::size_t(kIn) * kOut * size / 4, 0x3c003c00u);
    layer.forward(x.data(), w.data(), b.data(), y.data(), kRows);
  }
}

}  // namespace

void warm_up_gemm(bool bf16, bool int8) {
  if (bf16) run_product(true, false);
  if (int8) run_product(false, true);
}

}  // namespace sentemb::nn
