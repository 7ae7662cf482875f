// Each forward layer against a naive Eigen implementation of its math.
#include <Eigen/Dense>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "infer/test_models.h"
#include "nn/attention.h"
#include "nn/dnnl_context.h"
#include "nn/gelu.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/pooling.h"

using namespace sentemb;
using test::random_sequences;
using test::random_vector;
using test::tiny_model;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

Eigen::Map<const Matrix> as_matrix(const std::vector<float>& v, int rows, int cols) {
  return Eigen::Map<const Matrix>(v.data(), rows, cols);
}

float max_abs_diff(const std::vector<float>& a, const Matrix& b) {
  float m = 0;
  for (int i = 0; i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b.data()[i]));
  return m;
}

}  // namespace

TEST_CASE("Linear matches x·W + b, with GELU or accumulation, for several row counts", "[layers]") {
  const int K = 24, N = 40;
  auto w = random_vector(K * N, 1), b = random_vector(N, 2);
  for (bool gelu : {false, true})
    for (bool accumulate : {false, true}) {
      if (gelu && accumulate) {
        CHECK_THROWS_AS(nn::Linear(K, N, {gelu, accumulate, false}), std::logic_error);
        continue;
      }
      nn::Linear linear(K, N, {gelu, accumulate, false});
      for (int M : {1, 7, 64, 700}) {  // 700 · 40 values: GELU's threaded, vectorized path
        auto x = random_vector(M * K, 3 + M);
        auto y = random_vector(M * N, 4 + M);
        Matrix expected = as_matrix(x, M, K) * as_matrix(w, K, N);
        expected.rowwise() += as_matrix(b, 1, N).row(0);
        if (gelu)
          expected = expected.unaryExpr(
              [](float v) { return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f))); });
        if (accumulate) expected += as_matrix(y, M, N);
        linear.forward(x.data(), w.data(), b.data(), y.data(), M);
        INFO("gelu " << gelu << " accumulate " << accumulate << " M " << M);
        CHECK(max_abs_diff(y, expected) < 1e-4f);
      }
    }
}

TEST_CASE("Linear per M, on packed or plain weights, gives the runtime-M results", "[layers]") {
  const int K = 48, N = 80;
  const auto w = random_vector(K * N, 5), b = random_vector(N, 6);
  std::vector<std::uint16_t> w_bf16(w.size());
  nn::to_bf16(w.data(), w_bf16.data(), w.size());
  auto as_float = [](std::uint16_t h) {
    const std::uint32_t bits = std::uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  };
  struct Case {
    nn::LinearOptions options;
    const char* name;
  };
  for (const Case& c :
       {Case{{false, false, false}, "fp32"}, Case{{true, false, false}, "fp32 gelu"},
        Case{{false, true, false}, "fp32 accumulate"}, Case{{false, false, true}, "bf16"},
        Case{{false, true, true}, "bf16 accumulate"},
        Case{{true, false, true, true}, "bf16 gelu, bf16 out"}}) {
    nn::Linear linear(K, N, c.options);
    const void* plain = c.options.bf16 ? static_cast<const void*>(w_bf16.data()) : w.data();
    const auto packed = linear.pack(plain);
    for (int M : {1, 9, 300}) {
      INFO(c.name << ", M " << M);
      auto x = random_vector(M * K, 7 + M);
      std::vector<std::uint16_t> x_bf16(x.size());
      nn::to_bf16(x.data(), x_bf16.data(), x.size());
      const void* xin = c.options.bf16 ? static_cast<const void*>(x_bf16.data()) : x.data();
      const auto y0 = random_vector(M * N, 8 + M);  // what accumulation adds to
      // y (fp32) or h (bf16 out) of: the runtime-M product, per M packed, per M plain.
      std::vector<std::vector<float>> y(3, y0);
      std::vector<std::vector<std::uint16_t>> h(3, std::vector<std::uint16_t>(M * N));
      auto out = [&](int k) {
        return c.options.bf16_out ? static_cast<void*>(h[k].data()) : y[k].data();
      };
      linear.forward(xin, plain, b.data(), out(0), M);
      REQUIRE(linear.forward_packed(xin, packed, b.data(), out(1), M));
      linear.forward_per_m(xin, plain, b.data(), out(2), M);
      for (int k : {1, 2}) {
        float worst = 0;
        for (int i = 0; i < M * N; ++i) {
          const float a = c.options.bf16_out ? as_float(h[0][i]) : y[0][i];
          const float p = c.options.bf16_out ? as_float(h[k][i]) : y[k][i];
          // Only the order of the fp32 partial sums may differ, and with a bf16 output
          // the rounding of a value that lands near a tie: one bf16 step (2^-8 relative).
          worst = std::max(worst, std::abs(a - p) / (1.0f + std::abs(a)));
        }
        INFO((k == 1 ? "packed" : "plain, per M"));
        CHECK(worst < (c.options.bf16_out ? 8e-3f : 1e-5f));
      }
    }
  }
  nn::Linear other(K, N, {});
  other.pack(w.data());
  const auto foreign = nn::Linear(K + 1, N, {}).pack(random_vector((K + 1) * N, 9).data());
  std::vector<float> x(K), y(N);
  CHECK_THROWS_AS(other.forward_packed(x.data(), foreign, b.data(), y.data(), 1), std::logic_error);
  CHECK_THROWS_AS(nn::Linear(K, N, {false, false, false, false, true}).pack(w.data()),
                  std::logic_error);
}

TEST_CASE("fp32 GELU is within 1e-6 of the erf form, NaN and infinities included", "[layers]") {
  std::vector<float> x = random_vector(100003, 41);
  for (auto& v : x) v *= 6.0f;
  x[5] = std::numeric_limits<float>::quiet_NaN();
  x[6] = std::numeric_limits<float>::infinity();
  x[7] = -std::numeric_limits<float>::infinity();
  x[8] = -30.0f;
  x[9] = 30.0f;
  std::vector<float> y = x;
  nn::gelu_inplace(y.data(), static_cast<std::int64_t>(y.size()));
  CHECK(std::isnan(y[5]));
  CHECK(y[6] == std::numeric_limits<float>::infinity());
  CHECK(y[8] == 0.0f);
  CHECK(y[9] == 30.0f);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (i >= 5 && i <= 7) continue;
    const double exact = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
    if (std::abs(y[i] - exact) > 1e-6 * std::max(1.0, std::abs(exact)))
      FAIL("x " << x[i] << ": got " << y[i] << ", erf form " << exact);
  }
}

TEST_CASE("LayerNorm normalises each row and applies scale and shift", "[layers]") {
  const int C = 32;
  auto w = random_vector(C, 5), b = random_vector(C, 6);
  nn::LayerNorm ln(C, 1e-5f);
  for (int N : {1, 5, 33}) {
    auto x = random_vector(N * C, 7 + N, 3.0f);
    std::vector<float> out(N * C), mean(N), var(N);
    ln.forward(x.data(), w.data(), b.data(), out.data(), N);
    std::vector<float> out_training(N * C);
    ln.forward_training(x.data(), w.data(), b.data(), out_training.data(), mean.data(), var.data(),
                        N);
    for (int r = 0; r < N; ++r) {
      double mu = 0, sq = 0;
      for (int c = 0; c < C; ++c) mu += x[r * C + c];
      mu /= C;
      for (int c = 0; c < C; ++c) sq += (x[r * C + c] - mu) * (x[r * C + c] - mu);
      const double variance = sq / C;
      CHECK(mean[r] == Approx(mu).margin(1e-5));
      CHECK(var[r] == Approx(variance).epsilon(1e-4));
      for (int c = 0; c < C; ++c) {
        const double expected = (x[r * C + c] - mu) / std::sqrt(variance + 1e-5) * w[c] + b[c];
        CHECK(out[r * C + c] == Approx(expected).margin(1e-4));
        CHECK(out_training[r * C + c] == Approx(expected).margin(1e-4));
      }
    }
  }
}

// T = 5: 15 rows, below nn::kLoopRows, runs as loops; T = 100: 300 rows, on oneDNN.
TEST_CASE("Attention matches per-head softmax(q·kᵀ/√d + mask)·v with mixed lengths", "[layers]") {
  for (const int T : {5, 100}) {
    const int C = 16, NH = 4, hd = C / NH, B = 3;
    const int lengths[B] = {T, 2 * T / 5, 1};
    auto qkv = random_vector(B * T * 3 * C, 11);
    std::vector<float> mask(B * T), probs(B * NH * T * T), ctx(B * T * C);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) mask[b * T + t] = t < lengths[b] ? 0.0f : nn::kMaskedScore;
    nn::Attention attention(C, NH);
    attention.forward(qkv.data(), mask.data(), probs.data(), ctx.data(), B, T);

    auto at = [&](int b, int t, int part, int h, int d) {
      return qkv[(b * T + t) * 3 * C + part * C + h * hd + d];
    };
    double worst_p = 0, worst_ctx = 0;
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < NH; ++h)
        for (int i = 0; i < lengths[b]; ++i) {  // padded query rows are never read
          std::vector<double> p(T, 0.0);
          double mx = -1e30, sum = 0;
          for (int j = 0; j < lengths[b]; ++j) {
            double s = 0;
            for (int d = 0; d < hd; ++d) s += at(b, i, 0, h, d) * at(b, j, 1, h, d);
            p[j] = s / std::sqrt(double(hd));
            mx = std::max(mx, p[j]);
          }
          for (int j = 0; j < lengths[b]; ++j) sum += (p[j] = std::exp(p[j] - mx));
          for (int j = 0; j < T; ++j) {
            p[j] = j < lengths[b] ? p[j] / sum : 0.0;
            worst_p = std::max(worst_p, std::abs(probs[((b * NH + h) * T + i) * T + j] - p[j]));
          }
          for (int d = 0; d < hd; ++d) {
            double expected = 0;
            for (int j = 0; j < lengths[b]; ++j) expected += p[j] * at(b, j, 2, h, d);
            worst_ctx = std::max(worst_ctx, std::abs(ctx[(b * T + i) * C + h * hd + d] - expected));
          }
        }
    INFO("T " << T);
    CHECK(worst_p < 1e-5);
    CHECK(worst_ctx < 1e-5);
  }
}

TEST_CASE("bf16 attention, whole or in training's two halves, stays within bf16 rounding of fp32",
          "[layers]") {
  const int C = 64, NH = 4, B = 3, T = 7;
  const int lengths[B] = {7, 3, 1};
  auto qkv = random_vector(B * T * 3 * C, 12);
  std::vector<std::uint16_t> qkv_bf16(qkv.size());
  nn::to_bf16(qkv.data(), qkv_bf16.data(), qkv.size());
  for (std::size_t i = 0; i < qkv.size(); ++i) {  // fp32 gets the same (rounded) inputs
    const std::uint32_t bits = std::uint32_t(qkv_bf16[i]) << 16;
    __builtin_memcpy(&qkv[i], &bits, 4);
  }
  std::vector<float> mask(B * T), probs(B * NH * T * T), ctx(B * T * C), scores(probs.size());
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) mask[b * T + t] = t < lengths[b] ? 0.0f : nn::kMaskedScore;
  nn::Attention(C, NH).forward(qkv.data(), mask.data(), probs.data(), ctx.data(), B, T);
  std::vector<std::uint16_t> ctx_bf16(ctx.size());
  nn::Attention(C, NH, true)
      .forward(qkv_bf16.data(), mask.data(), scores.data(), ctx_bf16.data(), B, T);
  double worst = 0, largest = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < lengths[b]; ++t)  // padded query rows are never read
      for (int c = 0; c < C; ++c) {
        const std::size_t i = (std::size_t(b) * T + t) * C + c;
        const std::uint32_t bits = std::uint32_t(ctx_bf16[i]) << 16;
        float got;
        __builtin_memcpy(&got, &bits, 4);
        worst = std::max(worst, double(std::abs(got - ctx[i])));
        largest = std::max(largest, double(std::abs(ctx[i])));
      }
  // Probabilities and the output are rounded to bf16 (8 bits): about 2^-8 relative each.
  CHECK(worst < 0.01 * largest);
  CHECK(worst > 0.0);  // it really ran in bf16
  // Training's two halves in bf16 mode (fp32 probabilities, rounded by the caller) agree
  // with forward up to the rounding of the probabilities.
  nn::Attention bf16(C, NH, true);
  std::vector<std::uint16_t> probs_bf16(probs.size()), halves(ctx.size());
  bf16.scores_softmax(qkv_bf16.data(), mask.data(), probs.data(), B, T);
  nn::to_bf16(probs.data(), probs_bf16.data(), probs.size());
  bf16.context(probs_bf16.data(), qkv_bf16.data(), halves.data(), B, T);
  double apart = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < lengths[b]; ++t)
      for (int c = 0; c < C; ++c) {
        const std::size_t i = (std::size_t(b) * T + t) * C + c;
        const std::uint32_t x = std::uint32_t(halves[i]) << 16, y = std::uint32_t(ctx_bf16[i])
                                                                    << 16;
        float fx, fy;
        __builtin_memcpy(&fx, &x, 4);
        __builtin_memcpy(&fy, &y, 4);
        apart = std::max(apart, double(std::abs(fx - fy)));
      }
  CHECK(apart < 0.01 * largest);
}

TEST_CASE("Attention without a key mask equals attention with an all-zero mask", "[layers]") {
  const int C = 64, NH = 4, B = 3, T = 9;
  auto qkv = random_vector(B * T * 3 * C, 13);
  std::vector<std::uint16_t> qkv_bf16(qkv.size());
  nn::to_bf16(qkv.data(), qkv_bf16.data(), qkv.size());
  const std::vector<float> zeros(B * T, 0.0f);
  std::vector<float> probs(B * NH * T * T), probs_masked(probs.size());
  std::vector<float> ctx(B * T * C), ctx_masked(ctx.size());
  // fp32; then the same Attention object with the mask, so both variants share its cache.
  nn::Attention fp32(C, NH);
  fp32.forward(qkv.data(), nullptr, probs.data(), ctx.data(), B, T);
  fp32.forward(qkv.data(), zeros.data(), probs_masked.data(), ctx_masked.data(), B, T);
  for (std::size_t i = 0; i < ctx.size(); ++i)
    REQUIRE(ctx[i] == Approx(ctx_masked[i]).margin(1e-6));
  for (std::size_t i = 0; i < probs.size(); ++i)
    REQUIRE(probs[i] == Approx(probs_masked[i]).margin(1e-6));
  // A real mask after the unmasked call still masks (the two primitives are distinct).
  std::vector<float> mask(zeros);
  mask[T - 1] = nn::kMaskedScore;  // sentence 0's last key
  fp32.forward(qkv.data(), mask.data(), probs_masked.data(), ctx_masked.data(), B, T);
  CHECK(probs_masked[T - 1] == 0.0f);
  CHECK(probs[T - 1] > 0.0f);
  // bf16: the same in bf16 mode.
  std::vector<std::uint16_t> out(ctx.size()), out_masked(ctx.size());
  nn::Attention bf16(C, NH, true);
  bf16.forward(qkv_bf16.data(), zeros.data(), probs_masked.data(), out_masked.data(), B, T);
  bf16.forward(qkv_bf16.data(), nullptr, probs.data(), out.data(), B, T);
  CHECK(out == out_masked);
}

TEST_CASE("Pooling reads only real positions, and L2 normalisation gives unit rows", "[layers]") {
  const int B = 2, T = 4, C = 3;
  const int lengths[B] = {4, 2};
  auto h = random_vector(B * T * C, 21);
  std::vector<float> out(B * C);
  std::vector<int> argmax(B * C);
  for (auto pooling : {Pooling::kMean, Pooling::kCls, Pooling::kMax}) {
    nn::pooling_forward(pooling, out.data(), h.data(), lengths, B, T, C, argmax.data());
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < C; ++c) {
        double expected = pooling == Pooling::kMax ? -1e30 : 0.0;
        for (int t = 0; t < lengths[b]; ++t) {
          const double v = h[(b * T + t) * C + c];
          if (pooling == Pooling::kMean) expected += v / lengths[b];
          if (pooling == Pooling::kMax) expected = std::max(expected, v);
        }
        if (pooling == Pooling::kCls) expected = h[(b * T) * C + c];
        CHECK(out[b * C + c] == Approx(expected).margin(1e-6));
      }
  }
  nn::l2_normalize_forward(out.data(), out.data(), nullptr, B, C);
  for (int b = 0; b < B; ++b) {
    double sq = 0;
    for (int c = 0; c < C; ++c) sq += out[b * C + c] * out[b * C + c];
    CHECK(sq == Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("to_bf16 on arrays rounds as the scalar does: ties to even, NaN kept, infinities",
          "[layers]") {
  // Large and odd: the threaded, vectorized path with tails.
  const std::size_t n = 200001;
  std::vector<float> x = random_vector(n, 31);
  for (std::size_t i = 0; i < n; i += 7) x[i] *= 1e30f;  // some overflow to infinity
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(),
                            1.00390625f,   // 1 + 2^-8: a tie, rounds down to even 1
                            1.01171875f};  // 1 + 3·2^-8: a tie, rounds up to even
  for (std::size_t i = 0; i < std::size(specials); ++i) x[1000 + i] = specials[i];
  std::vector<std::uint16_t> y(n);
  nn::to_bf16(x.data(), y.data(), n);
  for (std::size_t i = 0; i < n; ++i)
    if (y[i] != nn::to_bf16(x[i])) FAIL("element " << i << " (" << x[i] << ")");
  CHECK(y[1000 + 6] == 0x3f80);  // 1.0
  CHECK(y[1000 + 7] == 0x3f82);  // 1.015625
  CHECK(y[1000 + 2] == 0x7f80);  // +inf
  CHECK((y[1000 + 4] & 0x7f80) == 0x7f80);
  CHECK((y[1000 + 4] & 0x007f) != 0);  // still a NaN
}

TEST_CASE("bf16 GELU is within bf16 rounding plus 3e-5 of the erf form for every bf16 value",
          "[layers]") {
  // All 65536 bf16 bit patterns, in one call (threaded, vectorized, with a tail).
  std::vector<std::uint16_t> y(65536);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::uint16_t>(i);
  nn::gelu_bf16_inplace(y.data(), static_cast<std::int64_t>(y.size()));
  auto as_float = [](std::uint16_t h) {
    return __builtin_bit_cast(float, static_cast<std::uint32_t>(h) << 16);
  };
  int checked = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const float x = as_float(static_cast<std::uint16_t>(i)), got = as_float(y[i]);
    if (std::isnan(x)) {
      CHECK(std::isnan(got));
      continue;
    }
    if (std::isinf(x)) continue;
    const double exact = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    // Half a bf16 step (8 significant bits) of the larger of the two, plus the fit's error.
    const double big = std::max(std::abs(exact), double(std::abs(got)));
    const double half_step = big > 0 ? std::ldexp(1.0, std::ilogb(big) - 8) : 0.0;
    if (std::abs(got - exact) > half_step + 3e-5)
      FAIL("x " << x << ": got " << got << ", erf form " << exact);
    ++checked;
  }
  CHECK(checked == 65536 - 2 * 127 - 2);  // all but the 254 NaNs and ±infinity
  CHECK(as_float(y[0x7f80]) == std::numeric_limits<float>::infinity());
  CHECK(as_float(y[0xff80]) == 0.0f);  // gelu(−∞) = 0
}
