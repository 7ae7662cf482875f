// The matmul limit: GFLOP/s of one large oneDNN matmul (fp32, or bf16 inputs with
// fp32 output) on the benchmark's threads, the denominator of "fraction of the
// matmul limit". Also, as a diagnostic, the model's own linear-layer shapes at
// M = 4096 rows (128 sentences × 32 tokens), both with a fixed M and with the
// runtime M that src/nn/linear.cpp uses, naming the implementation oneDNN picked.
#include <fmt/format.h>
#include <omp.h>

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <vector>

#include "bench_util.h"

namespace sentemb::bench {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct MatmulResult {
  double gflops = 0;
  std::string impl;
};

// y (M, N) = x (M, K) · W (K, N), row-major; runtime_m: M is a runtime dimension;
// packed (fixed M only): W in the layout oneDNN picks, reordered before timing, as
// src/nn/linear.cpp's packed weights.
MatmulResult time_matmul(dnnl::engine& engine, dnnl::stream& stream, int M, int K, int N, bool bf16,
                         bool runtime_m, double seconds, bool packed = false) {
  const dt in = bf16 ? dt::bf16 : dt::f32;
  const dnnl::memory::dim pd_m = runtime_m ? DNNL_RUNTIME_DIM_VAL : M;
  dnnl::memory::desc x_pd({pd_m, K}, in, tag::ab), w_md({K, N}, in, tag::ab),
      w_pd({K, N}, in, packed ? tag::any : tag::ab), y_pd({pd_m, N}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_pd, w_pd, y_pd), engine);
  dnnl::matmul prim(pd);
  dnnl::memory::desc x_md({M, K}, in, tag::ab), y_md({M, N}, dt::f32, tag::ab);
  dnnl::memory x(x_md, engine), w(w_md, engine), y(y_md, engine);
  // Random inputs (the values do not change the speed, but denormals or zeros might).
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  auto fill = [&](dnnl::memory& m, std::size_t n) {
    if (bf16) {
      auto* p = static_cast<std::uint16_t*>(m.get_data_handle());
      for (std::size_t i = 0; i < n; ++i) {
        float f = u(rng);
        std::uint32_t bits;
        __builtin_memcpy(&bits, &f, 4);
        p[i] = static_cast<std::uint16_t>(bits >> 16);
      }
    } else {
      auto* p = static_cast<float*>(m.get_data_handle());
      for (std::size_t i = 0; i < n; ++i) p[i] = u(rng);
    }
  };
  fill(x, static_cast<std::size_t>(M) * K);
  fill(w, static_cast<std::size_t>(K) * N);
  dnnl::memory w_used = w;
  if (pd.weights_desc() != w_md) {
    w_used = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(w, w_used).execute(stream, w, w_used);
    stream.wait();
  }
  const Timing t = time_iterations(
      [&] {
        prim.execute(stream, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w_used}, {DNNL_ARG_DST, y}});
        stream.wait();
      },
      2, 5, seconds);
  return {2.0 * M * K * N / t.median_s / 1e9, pd.impl_info_str()};
}

}  // namespace

// sentemb_bench matmul --threads N [--size 2048] [--seconds 1] [--shapes 1]
int run_matmul(const Flags& flags) {
  const int threads = flags.integer("threads", 0);
  if (threads > 0) omp_set_num_threads(threads);
  const int size = flags.integer("size", 2048);
  const double seconds = flags.real("seconds", 1.0);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  for (bool bf16 : {false, true}) {
    const MatmulResult r = time_matmul(engine, stream, size, size, size, bf16, false, seconds);
    fmt::print(
        "{{\"system\":\"onednn\",\"workload\":\"matmul\",\"precision\":\"{}\",\"threads\":{},"
        "\"size\":{},\"gflops\":{:.1f},\"impl\":\"{}\"}}\n",
        bf16 ? "bf16" : "fp32", omp_get_max_threads(), size, r.gflops, r.impl);
  }
  if (flags.integer("shapes", 0)) {
    // The encoder's linear layers at reference size, M = 128 sentences × 32 tokens.
    const int C = flags.integer("dim", 256), F = flags.integer("ffn", 1024), M = 4096;
    const int shapes[4][2] = {{C, 3 * C}, {C, C}, {C, F}, {F, C}};
    const char* names[4] = {"qkv", "proj", "fc1", "fc2"};
    // runtime M (plain W), fixed M (plain W), fixed M (packed W)
    const std::pair<bool, bool> variants[3] = {{false, false}, {true, false}, {false, true}};
    for (bool bf16 : {false, true})
      for (const auto& [runtime_m, packed] : variants)
        for (int s = 0; s < 4; ++s) {
          const MatmulResult r = time_matmul(engine, stream, M, shapes[s][0], shapes[s][1], bf16,
                                             runtime_m, seconds / 4, packed);
          fmt::print(
              "{{\"system\":\"onednn\",\"workload\":\"matmul_shape\",\"layer\":\"{}\","
              "\"precision\":\"{}\",\"runtime_m\":{},\"packed\":{},\"threads\":{},\"m\":{},"
              "\"k\":{},\"n\":{},\"gflops\":{:.1f},\"impl\":\"{}\"}}\n",
              names[s], bf16 ? "bf16" : "fp32", runtime_m ? "true" : "false",
              packed ? "true" : "false", omp_get_max_threads(), M, shapes[s][0], shapes[s][1],
              r.gflops, r.impl);
        }
  }
  return 0;
}

}  // namespace sentemb::bench
