// Finite-difference checks of every layer's backward pass, one layer at a time,
// so that a regression is pinned to the layer that broke (the whole-model
// gradients are also checked against PyTorch in test_model_gradients.cpp).
//
// Each test draws a fixed random r and uses the scalar objective
//     L = Σ r ⊙ output        so that dL/doutput = r,
// feeds r to the backward as the upstream gradient, and compares the gradient it
// returns with central differences of L (gradcheck.h). Backwards that ADD into
// their gradients are called on buffers that already hold random values, and the
// check is run on (result − prefill): an implementation that overwrote would fail.
// Backwards that WRITE (Linear dx without accumulate_dx, GELU, attention) are called
// on buffers full of garbage. Last, the whole TrainingEncoder is checked the same
// way, tensor by tensor, on a tiny model with every dropout on (fixed seed).
//
// Every comparison also runs a negative control: the same check with the analytic
// gradient scaled by 1.05 must FAIL, which proves the chosen bounds are tight
// enough to see a 5% error (a wrong formula is off by far more).
//
// The forward passes compute in float32; L is summed in double from the float
// outputs. Error budget of a central difference with step h (see gradcheck.h):
//   truncation  h²/6 · |f'''|                       (zero for functions linear in x)
//   rounding    k · |r| · ulp(|y|)/2 / (2h)          (k outputs move with the component)
// Each test states its bounds and why they hold.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "nn/attention.h"
#include "nn/dnnl_context.h"
#include "nn/embedding.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "sentemb/model_config.h"
#include "sentemb/parameters.h"
#include "train/attention_backward.h"
#include "train/dropout.h"
#include "train/gelu.h"
#include "train/layernorm_backward.h"
#include "train/linear_backward.h"
#include "train/pooling_backward.h"
#include "train/training_encoder.h"

using namespace sentemb;
using sentemb::test::gradcheck;
using sentemb::test::GradcheckOptions;

namespace {

// A value no gradient can equal: buffers that a backward must overwrite start with it.
constexpr float kGarbage = 777.0f;

std::vector<float> uniform_vector(std::size_t n, std::uint64_t seed, float lo = -1.0f,
                                  float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Σ r ⊙ y, in double.
double weighted_sum(const std::vector<float>& r, const float* y) {
  double s = 0.0;
  for (std::size_t i = 0; i < r.size(); ++i) s += double(r[i]) * y[i];
  return s;
}

std::vector<float> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

GradcheckOptions options(double step, double rtol, double atol, std::size_t max_checks = 0) {
  GradcheckOptions o;
  o.step = step;
  o.rtol = rtol;
  o.atol = atol;
  o.max_checks = max_checks;
  return o;
}

// The analytic gradient of `what` matches finite differences of loss_of at x; the
// check is not vacuous (some component is well above atol); and the same check
// rejects the gradient scaled by 1.05.
template <class LossOf>
void expect_gradient(const std::string& what, LossOf&& loss_of, const std::vector<float>& x,
                     const std::vector<float>& analytic, const GradcheckOptions& o) {
  const auto report = gradcheck(loss_of, x, analytic, o);
  INFO(what << ": " << report.describe());
  CHECK(report.ok);
  double largest = 0.0;
  for (float g : analytic) largest = std::max(largest, std::fabs(double(g)));
  CHECK(largest > 50 * o.atol);

  std::vector<float> scaled(analytic);
  for (auto& g : scaled) g *= 1.05f;
  const auto control = gradcheck(loss_of, x, scaled, o);
  INFO(what << ", negative control (analytic × 1.05): " << control.describe());
  CHECK_FALSE(control.ok);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Linear: y (M, N) = x (M, K) · W (K, N) + b (N).
TEST_CASE("Linear backward (dx, dW, db) matches finite differences", "[gradcheck][linear]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. L is linear in each of x, W and b, so
  // there is no truncation error; rounding: a component moves <= 6 outputs of
  // |y| < 4, 6 · ulp(4)/2 / 2e-2 ≈ 7e-5 worst case, against gradients of order 1.
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int M = 5, K = 7, N = 6;
  nn::Linear linear(K, N, {});
  train::LinearBackward backward(K, N);
  const auto x = uniform_vector(M * K, 1), w = uniform_vector(K * N, 2), b = uniform_vector(N, 3),
             r = uniform_vector(M * N, 4);
  auto loss = [&](const float* xx, const float* ww, const float* bb) {
    std::vector<float> y(M * N);
    linear.forward(xx, ww, bb, y.data(), M);
    return weighted_sum(r, y.data());
  };
  auto loss_of_x = [&](const std::vector<float>& v) { return loss(v.data(), w.data(), b.data()); };
  auto loss_of_w = [&](const std::vector<float>& v) { return loss(x.data(), v.data(), b.data()); };
  auto loss_of_b = [&](const std::vector<float>& v) { return loss(x.data(), w.data(), v.data()); };

  // dW and db are always added to.
  const auto dw0 = uniform_vector(K * N, 5), db0 = uniform_vector(N, 6);
  std::vector<float> dw = dw0, db = db0;

  SECTION("accumulate_dx = false: dx is written") {
    std::vector<float> dx(M * K, kGarbage);
    backward.backward(x.data(), w.data(), r.data(), dx.data(), false, dw.data(), db.data(), M);
    expect_gradient("dx", loss_of_x, x, dx, o);
    expect_gradient("dW (added)", loss_of_w, w, minus(dw, dw0), o);
    expect_gradient("db (added)", loss_of_b, b, minus(db, db0), o);
  }
  SECTION("accumulate_dx = true: dx is added to") {
    const auto dx0 = uniform_vector(M * K, 7);
    std::vector<float> dx = dx0;
    backward.backward(x.data(), w.data(), r.data(), dx.data(), true, dw.data(), db.data(), M);
    expect_gradient("dx (added)", loss_of_x, x, minus(dx, dx0), o);
    expect_gradient("dW (added)", loss_of_w, w, minus(dw, dw0), o);
    expect_gradient("db (added)", loss_of_b, b, minus(db, db0), o);
  }
}

// ---------------------------------------------------------------------------------------
// LayerNorm over rows: out = (x − mean) / sqrt(var + eps) · w + b.
TEST_CASE("LayerNorm backward (dx, dw, db) matches finite differences", "[gradcheck][layernorm]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. Rows have std ~1 (so h is 1% of it and
  // the truncation error of the 1/σ curvature is ~h²/σ² ≈ 1e-4 relative at most);
  // a component of x moves its whole row of 16 outputs, rounding ≈ 16 · ulp(4)/2 /
  // 2e-2 ≈ 2e-4 worst case, ~5e-5 typical, against dx of order 0.1..1. L is linear
  // in w and b: no truncation there.
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int N = 4, C = 16;
  const float eps = 1e-5f;
  nn::LayerNorm layernorm(C, eps);
  train::LayerNormBackward backward(C, eps);
  // Rows with different means and spreads, so that the mean and variance terms of
  // the backward both matter.
  auto x = uniform_vector(N * C, 11, -2.0f, 2.0f);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) x[n * C + c] = x[n * C + c] * (0.5f + 0.5f * n) + 1.5f * n - 2.0f;
  const auto w = uniform_vector(C, 12, 0.5f, 1.5f), b = uniform_vector(C, 13),
             r = uniform_vector(N * C, 14);
  auto loss = [&](const float* xx, const float* ww, const float* bb) {
    std::vector<float> out(N * C), mean(N), var(N);
    layernorm.forward_training(xx, ww, bb, out.data(), mean.data(), var.data(), N);
    return weighted_sum(r, out.data());
  };

  std::vector<float> out(N * C), mean(N), var(N);
  layernorm.forward_training(x.data(), w.data(), b.data(), out.data(), mean.data(), var.data(), N);
  const auto dx0 = uniform_vector(N * C, 15), dw0 = uniform_vector(C, 16),
             db0 = uniform_vector(C, 17);
  std::vector<float> dx = dx0, dw = dw0, db = db0;
  backward.backward(x.data(), w.data(), b.data(), mean.data(), var.data(), r.data(), dx.data(),
                    dw.data(), db.data(), N);

  expect_gradient(
      "dx (added)", [&](const std::vector<float>& v) { return loss(v.data(), w.data(), b.data()); },
      x, minus(dx, dx0), o);
  expect_gradient(
      "dw (added)", [&](const std::vector<float>& v) { return loss(x.data(), v.data(), b.data()); },
      w, minus(dw, dw0), o);
  expect_gradient(
      "db (added)", [&](const std::vector<float>& v) { return loss(x.data(), w.data(), v.data()); },
      b, minus(db, db0), o);
}

// ---------------------------------------------------------------------------------------
// GELU (erf form), elementwise.
TEST_CASE("GELU backward matches finite differences", "[gradcheck][gelu]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. gelu''' is bounded by ~1.2, so the
  // truncation error is < h²/6 · 1.2 · |r| ≈ 2e-5; one output of |y| <= 4 moves,
  // rounding ≈ ulp(4)/2 / 2e-2 ≈ 1e-5.
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int n = 64;
  const auto x = uniform_vector(n, 21, -4.0f, 4.0f), r = uniform_vector(n, 22);
  auto loss_of = [&](const std::vector<float>& v) {
    std::vector<float> y(n), dydx(n);
    train::gelu_forward(v.data(), y.data(), dydx.data(), n);
    return weighted_sum(r, y.data());
  };
  std::vector<float> y(n), dydx(n);
  train::gelu_forward(x.data(), y.data(), dydx.data(), n);
  std::vector<float> dx(n, kGarbage);  // written, not added to
  train::gelu_backward(dydx.data(), r.data(), dx.data(), n);
  expect_gradient("dx", loss_of, x, dx, o);

  // The training encoder runs both in place (y aliasing x, dx aliasing dy): same results.
  std::vector<float> in_place = r, y_in_place = x;
  train::gelu_backward(dydx.data(), in_place.data(), in_place.data(), n);
  CHECK(in_place == dx);
  train::gelu_forward(y_in_place.data(), y_in_place.data(), dydx.data(), n);
  CHECK(y_in_place == y);
}

TEST_CASE("GELU forward is within 1e-6 of the exact erf form, and its bf16 output rounds it",
          "[gelu]") {
  // Large and odd: the threaded, vectorized path with tails; plus the extremes.
  const std::int64_t n = 100003;
  auto x = uniform_vector(n, 23, -12.0f, 12.0f);
  const float specials[] = {0.0f,   -0.0f, 1e-30f, -1e-30f, 13.0f,
                            -13.0f, 1e4f,  -1e4f,  40.0f,   -40.0f};
  std::copy(std::begin(specials), std::end(specials), x.begin());
  std::vector<float> y(n), dydx(n), dydx_bf16(n);
  std::vector<std::uint16_t> y_bf16(n);
  train::gelu_forward(x.data(), y.data(), dydx.data(), n);
  train::gelu_forward(x.data(), y_bf16.data(), dydx_bf16.data(), n);
  double worst_y = 0, worst_d = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = x[i], cdf = 0.5 * (1.0 + std::erf(v / std::sqrt(2.0)));
    const double d = cdf + v * std::exp(-v * v / 2) / std::sqrt(2 * M_PI);
    worst_y = std::max(worst_y, std::abs(y[i] - v * cdf) / (1.0 + std::abs(v)));
    worst_d = std::max(worst_d, std::abs(dydx[i] - d));
    REQUIRE(y_bf16[i] == nn::to_bf16(y[i]));
    REQUIRE(dydx_bf16[i] == dydx[i]);
  }
  CHECK(worst_y < 1e-6);
  CHECK(worst_d < 1e-6);
  CHECK(y[0] == 0.0f);
  CHECK(y[4] == 13.0f);  // Φ(13) rounds to 1
  CHECK(y[5] == 0.0f);
  // A diverging run's NaN and infinities pass through (the trainer then stops on them).
  const float odd[] = {std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity()};
  float odd_y[3], odd_d[3];
  train::gelu_forward(odd, odd_y, odd_d, 3);
  CHECK(std::isnan(odd_y[0]));
  CHECK(std::isnan(odd_d[0]));
  CHECK(odd_y[1] == std::numeric_limits<float>::infinity());
  CHECK(!std::isfinite(odd_y[2]));  // −∞ · Φ(−∞) = −∞ · 0: NaN
}

// ---------------------------------------------------------------------------------------
// Attention core: qkv (B, T, 3C) → probs = softmax(q·kᵀ/√hd + key mask) → (dropout)
// → ctx = probs · v (B, T, C).
namespace {

struct AttentionCase {
  int B, T;
  std::vector<int> lengths;  // (B), real keys per sentence
  float dropout;             // attention dropout rate, 0 = none
  std::uint64_t seed;
};

void check_attention(const nn::Attention& attention, train::AttentionBackward& backward,
                     const AttentionCase& k) {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. Scores are ~N(0, 1) (q, k uniform in
  // [-1.5, 1.5], hd = 4, scaled by 1/2), so the softmax is far from saturated and the
  // truncation error is ~h² relative; a component of k or v moves up to T · hd = 24
  // outputs of |ctx| < 1.5 (rounding ≈ 24 · ulp(1.5)/2 / 2e-2 ≈ 7e-5 worst case).
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int B = k.B, T = k.T, C = attention.channels(), NH = attention.heads();
  const std::int64_t P = std::int64_t(B) * NH * T * T;
  const auto qkv = uniform_vector(std::size_t(B) * T * 3 * C, k.seed, -1.5f, 1.5f);
  const auto r = uniform_vector(std::size_t(B) * T * C, k.seed + 1);
  std::vector<float> key_mask(B * T);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) key_mask[b * T + t] = t < k.lengths[b] ? 0.0f : nn::kMaskedScore;

  // The dropout mask is drawn once and then held fixed: it is part of the function.
  std::vector<float> probs(P), used(P), mask(P, 1.0f);
  attention.scores_softmax(qkv.data(), key_mask.data(), probs.data(), B, T);
  if (k.dropout > 0)
    train::dropout_forward(probs.data(), used.data(), mask.data(), P, k.dropout, k.seed + 2);
  else
    used = probs;

  auto loss_of = [&](const std::vector<float>& v) {
    std::vector<float> p(P), ctx(std::size_t(B) * T * C);
    attention.scores_softmax(v.data(), key_mask.data(), p.data(), B, T);
    for (std::int64_t i = 0; i < P; ++i) p[i] *= mask[i];
    attention.context(p.data(), v.data(), ctx.data(), B, T);
    return weighted_sum(r, ctx.data());
  };

  std::vector<float> dqkv(qkv.size(), kGarbage);  // written, not added to
  backward.backward(qkv.data(), probs.data(), used.data(), k.dropout > 0 ? mask.data() : nullptr,
                    r.data(), dqkv.data(), B, T);
  expect_gradient("dqkv", loss_of, qkv, dqkv, o);

  // Padded keys are masked out of every softmax: their k and v get exactly zero.
  for (int b = 0; b < B; ++b)
    for (int t = k.lengths[b]; t < T; ++t)
      for (int c = C; c < 3 * C; ++c) {
        INFO("b " << b << " t " << t << " column " << c);
        CHECK(dqkv[(std::size_t(b) * T + t) * 3 * C + c] == 0.0f);
      }
}

}  // namespace

TEST_CASE("Attention backward (dqkv) matches finite differences, key mask and dropout",
          "[gradcheck][attention]") {
  // dim 8, 2 heads of width 4. The same layer objects serve every shape, as in
  // training (their primitives are cached per (B, T)).
  nn::Attention attention(8, 2);
  train::AttentionBackward backward(attention);
  SECTION("no dropout; lengths 5, 3, 1 in one batch") {
    check_attention(attention, backward, {3, 5, {5, 3, 1}, 0.0f, 31});
  }
  SECTION("attention dropout 0.3 with a fixed mask; lengths 5, 3, 1") {
    check_attention(attention, backward, {3, 5, {5, 3, 1}, 0.3f, 41});
  }
  SECTION("a second shape on the same objects; lengths 2, 4, with and without dropout") {
    check_attention(attention, backward, {3, 5, {5, 2, 4}, 0.0f, 51});
    check_attention(attention, backward, {2, 4, {2, 4}, 0.0f, 61});
    check_attention(attention, backward, {2, 4, {4, 3}, 0.5f, 71});
  }
}

// bf16 mode: the same backward with bf16 qkv, probabilities and dctx (and dS rounded
// inside), against the fp32 backward on the same rounded inputs.
TEST_CASE("bf16 attention backward stays within bf16 rounding of the fp32 backward",
          "[gradcheck][attention][bf16]") {
  const int B = 3, T = 6, C = 16, NH = 2;
  const int lengths[B] = {6, 4, 1};
  const std::int64_t P = std::int64_t(B) * NH * T * T;
  auto to_bf16_vector = [](const std::vector<float>& v) {
    std::vector<std::uint16_t> out(v.size());
    nn::to_bf16(v.data(), out.data(), v.size());
    return out;
  };
  auto widen = [](const std::vector<std::uint16_t>& v) {
    std::vector<float> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::uint32_t bits = std::uint32_t(v[i]) << 16;
      __builtin_memcpy(&out[i], &bits, 4);
    }
    return out;
  };
  const auto qkv_bf16 = to_bf16_vector(uniform_vector(std::size_t(B) * T * 3 * C, 91, -1.5f, 1.5f));
  const auto dctx_bf16 = to_bf16_vector(uniform_vector(std::size_t(B) * T * C, 92));
  const auto qkv = widen(qkv_bf16), dctx = widen(dctx_bf16);
  std::vector<float> key_mask(B * T);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) key_mask[b * T + t] = t < lengths[b] ? 0.0f : nn::kMaskedScore;

  nn::Attention fp32(C, NH), bf16(C, NH, true);
  train::AttentionBackward fp32_backward(fp32), bf16_backward(bf16);
  std::vector<float> probs(P), mask(P), used(P);
  bf16.scores_softmax(qkv_bf16.data(), key_mask.data(), probs.data(), B, T);
  train::dropout_forward(probs.data(), used.data(), mask.data(), P, 0.2f, 93);
  const auto used_bf16 = to_bf16_vector(used);
  const auto used_rounded = widen(used_bf16);

  std::vector<float> expected(qkv.size(), kGarbage), got(qkv.size(), kGarbage);
  fp32_backward.backward(qkv.data(), probs.data(), used_rounded.data(), mask.data(), dctx.data(),
                         expected.data(), B, T);
  bf16_backward.backward(qkv_bf16.data(), probs.data(), used_bf16.data(), mask.data(),
                         dctx_bf16.data(), got.data(), B, T);
  double err2 = 0, ref2 = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < 3 * C; ++c) {
        const std::size_t i = (std::size_t(b) * T + t) * 3 * C + c;
        if (t >= lengths[b] && c >= C) {  // padded keys: no gradient to k and v
          INFO("b " << b << " t " << t << " column " << c);
          CHECK(got[i] == 0.0f);
        }
        if (t >= lengths[b]) continue;  // padded query rows are never read
        err2 += (got[i] - expected[i]) * double(got[i] - expected[i]);
        ref2 += double(expected[i]) * expected[i];
      }
  // Only dS is rounded beyond the fp32 run's inputs: about 2^-9 relative per value.
  const double relative = std::sqrt(err2 / ref2);
  INFO("relative L2 error " << relative);
  CHECK(relative < 0.01);
  CHECK(relative > 0.0);  // it really ran in bf16
}

// ---------------------------------------------------------------------------------------
// L2 normalisation of rows: y = x / ||x||.
TEST_CASE("l2_normalize backward matches finite differences", "[gradcheck][pooling]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. Rows have norm ~1.4, so the curvature
  // terms are ~1/||x||³ and the truncation error ~h²/||x||² ≈ 5e-5 relative; a
  // component moves its row of 6 outputs of |y| < 1 (rounding ≈ 2e-5).
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int B = 3, C = 6;
  const auto x = uniform_vector(B * C, 81), r = uniform_vector(B * C, 82);
  auto loss_of = [&](const std::vector<float>& v) {
    std::vector<float> y(B * C);
    nn::l2_normalize_forward(y.data(), v.data(), nullptr, B, C);
    return weighted_sum(r, y.data());
  };
  std::vector<float> y(B * C), norms(B);
  nn::l2_normalize_forward(y.data(), x.data(), norms.data(), B, C);
  const auto dx0 = uniform_vector(B * C, 83);
  std::vector<float> dx = dx0;
  train::l2_normalize_backward(y.data(), norms.data(), r.data(), dx.data(), B, C);
  expect_gradient("dx (added)", loss_of, x, minus(dx, dx0), o);
}

// ---------------------------------------------------------------------------------------
// Pooling of token states h (B, T, C) over each sentence's real positions.
TEST_CASE("Pooling backward (mean, cls, max) matches finite differences", "[gradcheck][pooling]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. Each pooling is linear in h (max is
  // piecewise linear, and the data keeps every column's winner ahead of the runner-up
  // by >= 0.3 >> h), so no truncation error; one output moves (rounding ~1e-5).
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int B = 3, T = 4, C = 5;
  const std::vector<int> lengths{4, 2, 1};
  // Real positions of each (b, c) take the values −1 + 0.5·rank ± 0.1, ranks a random
  // permutation, so ties are impossible. Padded positions hold +10: a pooling that
  // read them would change its output (and max pooling would pick them).
  std::mt19937_64 rng(91);
  std::vector<float> h(B * T * C, 10.0f);
  const auto jitter = uniform_vector(B * T * C, 92, -0.1f, 0.1f);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c) {
      std::vector<int> rank(lengths[b]);
      std::iota(rank.begin(), rank.end(), 0);
      std::shuffle(rank.begin(), rank.end(), rng);
      for (int t = 0; t < lengths[b]; ++t) {
        const int i = (b * T + t) * C + c;
        h[i] = -1.0f + 0.5f * rank[t] + jitter[i];
      }
    }
  const auto r = uniform_vector(B * C, 93);

  for (Pooling pooling : {Pooling::kMean, Pooling::kCls, Pooling::kMax}) {
    INFO("pooling " << to_string(pooling));
    auto loss_of = [&](const std::vector<float>& v) {
      std::vector<float> out(B * C);
      nn::pooling_forward(pooling, out.data(), v.data(), lengths.data(), B, T, C);
      return weighted_sum(r, out.data());
    };
    std::vector<float> out(B * C);
    std::vector<int> argmax(B * C, -1);
    nn::pooling_forward(pooling, out.data(), h.data(), lengths.data(), B, T, C, argmax.data());
    const auto dh0 = uniform_vector(h.size(), 94);
    std::vector<float> dh = dh0;
    train::pooling_backward(pooling, r.data(), lengths.data(), argmax.data(), dh.data(), B, T, C);
    expect_gradient("dh (added)", loss_of, h, minus(dh, dh0), o);
  }
}

// ---------------------------------------------------------------------------------------
// Token + position embedding: x[b,t] = tok_emb[ids[b,t]] + pos_emb[t].
TEST_CASE("Embedding backward (tok_emb, pos_emb) matches finite differences",
          "[gradcheck][embedding]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. Linear in both tables: no truncation; a
  // table entry moves up to B·T = 18 outputs of |x| < 2 (rounding <= 18 · ulp(2)/2 /
  // 2e-2 ≈ 1e-4 worst case, ~3e-5 typical).
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int V = 10, Tmax = 8, B = 3, T = 6, C = 4;
  // Token 5 repeats within and across sentences (its gradient sums every use); the
  // padding id 0 fills the tails; tokens 1, 8, 9 and positions 6, 7 are unused.
  const std::vector<int> ids{2, 5, 3, 5, 4, 7,  //
                             2, 6, 5, 0, 0, 0,  //
                             2, 5, 0, 0, 0, 0};
  const auto tok = uniform_vector(V * C, 101), pos = uniform_vector(Tmax * C, 102),
             r = uniform_vector(B * T * C, 103);
  auto loss = [&](const float* tt, const float* pp) {
    std::vector<float> x(B * T * C);
    nn::embedding_forward(x.data(), ids.data(), tt, pp, B, T, C);
    return weighted_sum(r, x.data());
  };
  const auto dtok0 = uniform_vector(V * C, 104), dpos0 = uniform_vector(Tmax * C, 105);
  std::vector<float> dtok = dtok0, dpos = dpos0;
  // The backward takes packed rows with their positions; here every (b, t) is a row.
  std::vector<int> positions(B * T);
  for (int i = 0; i < B * T; ++i) positions[i] = i % T;
  train::embedding_backward_rows(r.data(), ids.data(), positions.data(), dtok.data(), dpos.data(),
                                 B * T, C);
  expect_gradient(
      "dtok_emb (added)", [&](const std::vector<float>& v) { return loss(v.data(), pos.data()); },
      tok, minus(dtok, dtok0), o);
  expect_gradient(
      "dpos_emb (added)", [&](const std::vector<float>& v) { return loss(tok.data(), v.data()); },
      pos, minus(dpos, dpos0), o);
}

// ---------------------------------------------------------------------------------------
// Inverted dropout: y = x ⊙ m, m ∈ {0, 1/(1−p)} drawn from (seed, element).
TEST_CASE("Dropout backward applies the forward's mask, and masks are reproducible",
          "[gradcheck][dropout]") {
  // Bounds: step 1e-2, rtol 1e-3, atol 1e-4. Linear in x: no truncation; one output
  // of |y| < 1.4 moves (rounding ~1e-5).
  const auto o = options(1e-2, 1e-3, 1e-4);
  const int n = 400;
  const float p = 0.25f;
  const std::uint64_t seed = 111;
  const auto x = uniform_vector(n, 112), r = uniform_vector(n, 113);
  std::vector<float> y(n), mask(n);
  train::dropout_forward(x.data(), y.data(), mask.data(), n, p, seed);

  int dropped = 0;
  for (int i = 0; i < n; ++i) {
    INFO("element " << i << " mask " << mask[i]);
    REQUIRE((mask[i] == 0.0f || mask[i] == 1.0f / (1.0f - p)));
    CHECK(y[i] == x[i] * mask[i]);
    dropped += mask[i] == 0.0f;
  }
  // Binomial(400, 0.25): mean 100, sd 8.7.
  CHECK(dropped > 60);
  CHECK(dropped < 140);

  // Same seed, same mask; another seed, another mask.
  std::vector<float> again(n), mask_again(n), other(n), mask_other(n);
  train::dropout_forward(x.data(), again.data(), mask_again.data(), n, p, seed);
  train::dropout_forward(x.data(), other.data(), mask_other.data(), n, p, seed + 1);
  CHECK(mask_again == mask);
  CHECK(mask_other != mask);

  // The loss re-draws the mask from the seed on every evaluation: the gradient check
  // passes only if the mask does not depend on x and the backward applies it.
  auto loss_of = [&](const std::vector<float>& v) {
    std::vector<float> yy(n), m(n);
    train::dropout_forward(v.data(), yy.data(), m.data(), n, p, seed);
    return weighted_sum(r, yy.data());
  };
  std::vector<float> dx(n, kGarbage);
  train::dropout_backward(r.data(), dx.data(), mask.data(), n);
  expect_gradient("dx", loss_of, x, dx, o);

  // In place, as the encoder uses both.
  std::vector<float> in_place = x;
  train::dropout_forward(in_place.data(), in_place.data(), mask_again.data(), n, p, seed);
  CHECK(in_place == y);
  std::vector<float> dx_in_place = r;
  train::dropout_backward(dx_in_place.data(), dx_in_place.data(), mask.data(), n);
  CHECK(dx_in_place == dx);
}

TEST_CASE("dropout on large tensors: thread-count independent, and dropout_add fuses the add",
          "[dropout]") {
  // Large enough for the threaded, vectorized path; odd so the ranges have tails.
  const std::int64_t n = 100003;
  const float p = 0.1f;
  const std::uint64_t seed = 7;
  const auto x = uniform_vector(n, 114), residual = uniform_vector(n, 115);
  std::vector<float> y(n), mask(n);
  train::dropout_forward(x.data(), y.data(), mask.data(), n, p, seed);
  // Element i's mask depends on (seed, i) only: the first 400 match a short call's.
  std::vector<float> short_y(400), short_mask(400);
  train::dropout_forward(x.data(), short_y.data(), short_mask.data(), 400, p, seed);
  CHECK(std::equal(short_mask.begin(), short_mask.end(), mask.begin()));
  std::vector<float> y1(n), mask1(n);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  train::dropout_forward(x.data(), y1.data(), mask1.data(), n, p, seed);
  omp_set_num_threads(threads);
  CHECK(mask1 == mask);
  CHECK(y1 == y);
  // Binomial(100003, 0.1): mean 10000, sd 95.
  const auto dropped = std::count(mask.begin(), mask.end(), 0.0f);
  CHECK(dropped > 9500);
  CHECK(dropped < 10500);

  // dropout_add: residual + dropout(x) in one pass, bit for bit.
  std::vector<float> sum(n), sum_mask(n);
  train::dropout_add(residual.data(), x.data(), sum.data(), sum_mask.data(), n, p, seed);
  CHECK(sum_mask == mask);
  for (std::int64_t i = 0; i < n; ++i)
    if (sum[i] != residual[i] + y[i]) FAIL("element " << i << ": " << sum[i]);
}

// ---------------------------------------------------------------------------------------
// The whole training encoder on a tiny model, dropout on.
namespace {

ModelConfig tiny_config(Pooling pooling, bool normalize) {
  ModelConfig c;
  c.vocab_size = 24;
  c.max_len = 8;
  c.layers = 2;
  c.dim = 16;
  c.heads = 2;
  c.ffn_dim = 32;
  c.pooling = pooling;
  c.normalize = normalize;
  c.validate();
  return c;
}

// Checks the sampled components of one tensor (those gradcheck's max_checks would
// pick) one at a time. A component passes the central difference of `o`, or, when
// that fails and a kink ladder is given, one rung of it: a central difference of the
// rung's step h, or of step h/2 on either half [x−h, x] / [x, x+h]. This is for max
// pooling, whose loss is only piecewise smooth: a perturbation can hand a column's
// maximum to another position (a kink). A kink lies in at most one half, and the
// other is wholly on the branch the analytic gradient belongs to; smaller rungs
// find room between closely spaced kinks. A wrong gradient fails every estimate.
struct TensorCheck {
  int checked = 0, failed = 0, on_ladder = 0;
  std::string worst;  // describe() of the worst failure
};

template <class LossOf>
TensorCheck check_tensor(LossOf&& loss_of, const std::vector<float>& x,
                         const std::vector<float>& analytic, const GradcheckOptions& o,
                         const std::vector<GradcheckOptions>& kink_ladder) {
  TensorCheck result;
  double worst_ratio = -1;
  const std::size_t n = x.size(), checks = std::min(n, o.max_checks ? o.max_checks : n);
  for (std::size_t k = 0; k < checks; ++k) {
    const std::size_t i = k * n / checks;
    auto loss_of_component = [&](const std::vector<float>& v) {
      std::vector<float> y = x;
      y[i] = v[0];
      return loss_of(y);
    };
    const std::vector<float> g{analytic[i]};
    auto check_at = [&](double offset, GradcheckOptions opt) {
      opt.max_checks = 0;
      return gradcheck(loss_of_component,
                       std::vector<float>{static_cast<float>(double(x[i]) + offset)}, g, opt);
    };
    ++result.checked;
    const auto central = check_at(0.0, o);
    if (central.ok) continue;
    bool passed = false;
    for (const auto& rung : kink_ladder) {
      GradcheckOptions half = rung;
      half.step = rung.step / 2;
      if (check_at(0.0, rung).ok || check_at(-half.step, half).ok || check_at(half.step, half).ok) {
        passed = true;
        break;
      }
    }
    if (passed) {
      ++result.on_ladder;
      continue;
    }
    ++result.failed;
    if (central.worst_ratio > worst_ratio) {
      worst_ratio = central.worst_ratio;
      result.worst = "component " + std::to_string(i) + ": " + central.describe();
    }
  }
  return result;
}

// Tiny model, 3 sequences (by default of lengths 8, 5, 2), all three dropouts at 0.1 with a fixed
// seed (the masks depend on the seed only, so every evaluation draws the same ones).
// Checks every parameter tensor on a sample of o.max_checks components, with a
// negative control per tensor, and that the backward adds into a non-zero arena.
const std::vector<std::vector<int>> kMixedLengths{
    {2, 5, 9, 5, 17, 23, 11, 6},  // full length, token 5 twice
    {2, 13, 7, 5, 20},            //
    {2, 14}};

void check_training_encoder(const ModelConfig& config, const GradcheckOptions& o,
                            const std::vector<GradcheckOptions>& kink_ladder = {},
                            const std::vector<std::vector<int>>& sequences = kMixedLengths) {
  std::vector<const std::vector<int>*> batch;
  for (const auto& s : sequences) batch.push_back(&s);
  const int B = static_cast<int>(sequences.size()), C = config.dim;
  const std::uint64_t dropout_seed = 1234;
  train::TrainingEncoder encoder(config, train::DropoutRates{0.1f, 0.1f, 0.1f});

  // Parameters: the standard initialisation plus uniform noise of ±0.3, so that
  // attention is not uniform, biases are non-zero and LayerNorm weights differ from 1.
  std::vector<float> params(config.parameter_count());
  init_parameters(config, params.data(), 7);
  const auto noise = uniform_vector(params.size(), 8, -0.3f, 0.3f);
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += noise[i];
  const auto r = uniform_vector(std::size_t(B) * C, 9);

  auto loss_with = [&](const std::vector<float>& p) {
    std::vector<float> out(std::size_t(B) * C);
    encoder.forward(p.data(), batch, out.data(), dropout_seed);
    return weighted_sum(r, out.data());
  };
  const double loss0 = loss_with(params);
  std::vector<float> grads(params.size(), 0.0f);
  encoder.backward(params.data(), r.data(), grads.data());

  // Dropout is really on: another seed gives another output.
  std::vector<float> out_other(std::size_t(B) * C);
  encoder.forward(params.data(), batch, out_other.data(), dropout_seed + 1);
  CHECK(weighted_sum(r, out_other.data()) != loss0);

  int checked = 0, on_ladder = 0;
  for (const auto& spec : parameter_specs(config)) {
    const std::vector<float> x(params.begin() + spec.offset,
                               params.begin() + spec.offset + spec.size);
    const std::vector<float> analytic(grads.begin() + spec.offset,
                                      grads.begin() + spec.offset + spec.size);
    auto loss_of = [&](const std::vector<float>& v) {
      std::vector<float> p = params;
      std::copy(v.begin(), v.end(), p.begin() + spec.offset);
      return loss_with(p);
    };
    const auto result = check_tensor(loss_of, x, analytic, o, kink_ladder);
    INFO(spec.name << ": " << result.checked << " components, " << result.failed
                   << " failed; worst " << result.worst);
    CHECK(result.failed == 0);
    checked += result.checked;
    on_ladder += result.on_ladder;

    // Negative control: the sampled gradient scaled by 1.05 must be rejected.
    std::vector<float> scaled(analytic);
    for (auto& g : scaled) g *= 1.05f;
    const auto control = gradcheck(loss_of, x, scaled, o);
    INFO("negative control (analytic × 1.05): " << control.describe());
    CHECK_FALSE(control.ok);
  }
  // The ladder is the exception (about 6% of components for max pooling at h = 3e-3),
  // and never needed where the loss is smooth.
  INFO(on_ladder << " of " << checked << " components passed only on the kink ladder");
  CHECK(on_ladder <= (kink_ladder.empty() ? 0 : checked / 8));

  // The backward adds into the arena: on top of a non-zero arena it gives
  // prefill + the gradient above. (Re-run the forward: the checks above ran others.)
  loss_with(params);
  const auto prefill = uniform_vector(params.size(), 10);
  std::vector<float> added = prefill;
  encoder.backward(params.data(), r.data(), added.data());
  int mismatches = 0;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (std::fabs(double(added[i]) - prefill[i] - grads[i]) > 1e-6 + 1e-5 * std::fabs(grads[i]))
      ++mismatches;
  CHECK(mismatches == 0);
}

}  // namespace

// Bounds of the smooth variants: step 1e-2, rtol 1e-2, atol 2e-4, 32 components per
// tensor. Float32 through 2 blocks and 3 LayerNorms leaves ~3e-7 of rounding noise
// in L (measured: the slope of L over 5e-4 steps jitters by ~1e-3), i.e. ~2e-5
// over 2h = 2e-2, under atol; the truncation error of the softmax / LayerNorm /
// GELU curvature at h = 1e-2, against parameters of size ~0.3, stays under 1% of
// the gradient (rtol). Measured worst error/bound: ~0.3.
TEST_CASE("TrainingEncoder gradients match finite differences: mean pooling, normalised",
          "[gradcheck][encoder]") {
  check_training_encoder(tiny_config(Pooling::kMean, true), options(1e-2, 1e-2, 2e-4, 32));
}

TEST_CASE("TrainingEncoder gradients match finite differences: cls pooling, normalised",
          "[gradcheck][encoder]") {
  // Bounds: those of the mean variant, above.
  check_training_encoder(tiny_config(Pooling::kCls, true), options(1e-2, 1e-2, 2e-4, 32));
}

TEST_CASE("TrainingEncoder gradients match finite differences: mean pooling, not normalised",
          "[gradcheck][encoder]") {
  // Bounds: those of the mean variant, above (outputs of |y| ~ 1..3 instead of unit
  // rows: a few times the rounding noise, still under atol at h = 1e-2).
  check_training_encoder(tiny_config(Pooling::kMean, false), options(1e-2, 1e-2, 2e-4, 32));
}

TEST_CASE("TrainingEncoder gradients match finite differences: sentences of one length",
          "[gradcheck][encoder]") {
  // No padding: the packed rows are the padded layout, and the encoder skips its
  // scatter / gather copies. Bounds: those of the mean variant, above.
  check_training_encoder(tiny_config(Pooling::kMean, true), options(1e-2, 1e-2, 2e-4, 32), {},
                         {{2, 5, 9, 5, 17}, {2, 13, 7, 5, 20}, {2, 14, 3, 3, 8}});
}

TEST_CASE("TrainingEncoder gradients match finite differences: max pooling, normalised",
          "[gradcheck][encoder]") {
  // Bounds: step 3e-3, rtol 1e-2, atol 2e-4, 32 components per tensor; kink ladder
  // step 1e-3 with atol 5e-4. Max pooling makes L piecewise smooth, and the kinks are
  // dense: scanning L along pos_emb[0][5] in steps of 5e-4 shows three within ±3e-3,
  // the slope between them matching the analytic gradient. h = 3e-3 keeps most
  // components clear of kinks (rounding noise ~7e-5 over 2h); the rest get the
  // ladder, whose finest estimate (step 5e-4 over a half interval) carries ~4e-4 of
  // noise, hence its atol.
  check_training_encoder(tiny_config(Pooling::kMax, true), options(3e-3, 1e-2, 2e-4, 32),
                         {options(1e-3, 1e-2, 5e-4)});
}

TEST_CASE(
    "TrainingEncoder grows with its batches: after a small batch, a large one as on a fresh one",
    "[encoder]") {
  const ModelConfig config = tiny_config(Pooling::kMean, true);
  std::vector<float> params(config.parameter_count());
  init_parameters(config, params.data(), 7);
  const std::vector<std::vector<int>> small{{2, 9}};
  auto pointers = [](const std::vector<std::vector<int>>& sequences) {
    std::vector<const std::vector<int>*> batch;
    for (const auto& s : sequences) batch.push_back(&s);
    return batch;
  };
  for (const bool bf16 : {false, true}) {
    INFO((bf16 ? "bf16" : "fp32"));
    const train::DropoutRates dropout{0.1f, 0.1f, 0.1f};
    train::TrainingEncoder grown(config, dropout, bf16), fresh(config, dropout, bf16);
    const int C = config.dim, B = static_cast<int>(kMixedLengths.size());
    std::vector<float> out(std::size_t(B) * C), grads(params.size(), 0.0f);
    grown.forward(params.data(), pointers(small), out.data(), 1);
    grown.backward(params.data(), out.data(), grads.data());

    const auto r = uniform_vector(std::size_t(B) * C, 9);
    std::vector<float> out_grown(out.size()), out_fresh(out.size());
    std::vector<float> grads_grown(params.size(), 0.0f), grads_fresh(params.size(), 0.0f);
    grown.forward(params.data(), pointers(kMixedLengths), out_grown.data(), 2);
    grown.backward(params.data(), r.data(), grads_grown.data());
    fresh.forward(params.data(), pointers(kMixedLengths), out_fresh.data(), 2);
    fresh.backward(params.data(), r.data(), grads_fresh.data());
    CHECK(out_grown == out_fresh);
    CHECK(grads_grown == grads_fresh);
  }
}
