// AdamW, gradient clipping and the learning-rate schedule.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "sentemb/errors.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"

using namespace sentemb;

TEST_CASE("adamw matches a hand-computed two-step update", "[adamw]") {
  // Two parameters; only the first decays. lr 0.1, weight decay 0.1, betas (0.9,
  // 0.999), eps 1e-8.
  //   step 1, g = (0.5, -1): m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2, so
  //     the Adam direction is g / |g| = (1, -1):
  //     p0 = 1 - 0.1 (1 + 0.1 * 1) = 0.89;  p1 = -2 - 0.1 (-1) = -1.9
  //   step 2, g = (0.1, 0.3): m = (0.055, -0.06), v = (2.5975e-4, 1.089e-3),
  //     m_hat = m / 0.19, v_hat = v / (1 - 0.999^2):
  //     p0 = 0.89 - 0.1 (m_hat0 / sqrt(v_hat0) + 0.1 * 0.89) = 0.8007959
  //     p1 = -1.9 - 0.1 m_hat1 / sqrt(v_hat1) = -1.8572151
  AdamWOptions options;
  options.weight_decay = 0.1f;
  AdamW adamw(2, options, {{0, 1}});
  CHECK(adamw.decays(0));
  CHECK_FALSE(adamw.decays(1));
  std::vector<float> p = {1.0f, -2.0f};
  const std::vector<float> g1 = {0.5f, -1.0f}, g2 = {0.1f, 0.3f};
  adamw.step(p.data(), g1.data(), 0.1f);
  CHECK(adamw.step_count() == 1);
  CHECK(p[0] == Approx(0.89).epsilon(1e-6));
  CHECK(p[1] == Approx(-1.9).epsilon(1e-6));
  CHECK(adamw.m()[0] == Approx(0.05));
  CHECK(adamw.v()[1] == Approx(0.001).epsilon(1e-4));  // 1 - 0.999f is 1e-3 to 1e-5
  adamw.step(p.data(), g2.data(), 0.1f);
  CHECK(adamw.step_count() == 2);
  CHECK(p[0] == Approx(0.8007959063646516).epsilon(1e-6));
  CHECK(p[1] == Approx(-1.8572151424292263).epsilon(1e-6));
  CHECK(adamw.m()[0] == Approx(0.055));
  CHECK(adamw.m()[1] == Approx(-0.06));
  CHECK(adamw.v()[0] == Approx(2.5975e-4).epsilon(1e-4));
  CHECK(adamw.v()[1] == Approx(1.089e-3).epsilon(1e-4));
}

TEST_CASE("adamw decays exactly the given ranges", "[adamw]") {
  // With zero gradients the Adam term is 0: decayed elements shrink by (1 - lr wd),
  // the others do not move at all.
  AdamWOptions options;
  options.weight_decay = 0.5f;
  // Overlapping and unsorted ranges: [6, 8) and [2, 4) u [3, 5) = [2, 5).
  AdamW adamw(10, options, {{6, 2}, {2, 2}, {3, 2}});
  std::vector<float> p(10, 2.0f), g(10, 0.0f);
  adamw.step(p.data(), g.data(), 0.1f);
  for (std::size_t i = 0; i < 10; ++i) {
    const bool decays = (i >= 2 && i < 5) || (i >= 6 && i < 8);
    INFO("element " << i);
    CHECK(adamw.decays(i) == decays);
    CHECK(p[i] == Approx(decays ? 2.0 * (1 - 0.1 * 0.5) : 2.0));
  }
  CHECK_THROWS_AS(AdamW(10, options, {{8, 3}}), UsageError);  // past the end
  AdamWOptions bad;
  bad.beta2 = 1.0f;
  CHECK_THROWS_AS(AdamW(10, bad, {}), UsageError);
}

TEST_CASE("adamw state round-trips through load_state", "[adamw]") {
  AdamWOptions options;
  AdamW a(3, options, {{0, 3}}), b(3, options, {{0, 3}});
  std::vector<float> pa = {0.3f, -0.2f, 1.0f};
  const std::vector<float> g1 = {0.1f, 0.2f, -0.3f}, g2 = {-0.5f, 0.0f, 0.25f};
  a.step(pa.data(), g1.data(), 0.01f);
  std::vector<float> pb = pa;
  b.load_state(a.step_count(), a.m(), a.v());
  a.step(pa.data(), g2.data(), 0.01f);
  b.step(pb.data(), g2.data(), 0.01f);
  CHECK(pa == pb);
  CHECK(b.step_count() == 2);
  CHECK_THROWS_AS(b.load_state(1, std::vector<float>(2), std::vector<float>(3)), ModelFileError);
  CHECK_THROWS_AS(b.load_state(-1, a.m(), a.v()), ModelFileError);
}

TEST_CASE("clip_grad_norm returns the norm and scales down only above the limit", "[adamw]") {
  std::vector<float> g = {3.0f, 4.0f};  // norm 5
  CHECK(clip_grad_norm(g.data(), g.size(), 10.0f) == Approx(5.0));
  CHECK(g == std::vector<float>{3.0f, 4.0f});
  CHECK(clip_grad_norm(g.data(), g.size(), 1.0f) == Approx(5.0));
  CHECK(g[0] == Approx(0.6));
  CHECK(g[1] == Approx(0.8));
  CHECK(grad_norm(g.data(), g.size()) == Approx(1.0));
  // max_norm <= 0 disables clipping.
  std::vector<float> h = {30.0f, 40.0f};
  CHECK(clip_grad_norm(h.data(), h.size(), 0.0f) == Approx(50.0));
  CHECK(h[0] == 30.0f);
  // Accumulated in double: 1e6 values of 1e-3 (float sums would drift).
  std::vector<float> many(1000000, 1e-3f);
  CHECK(grad_norm(many.data(), many.size()) == Approx(1.0).epsilon(1e-6));
  // A non-finite norm is reported and leaves the gradients alone.
  std::vector<float> bad = {1.0f, std::numeric_limits<float>::infinity()};
  CHECK(std::isinf(clip_grad_norm(bad.data(), bad.size(), 1.0f)));
  CHECK(bad[0] == 1.0f);
}

TEST_CASE("adamw and clipping on a large arena match a plain scalar loop exactly", "[adamw]") {
  // Large enough for the threaded, vectorized path; odd so the ranges have tails.
  const std::size_t n = 300001;
  std::vector<float> p(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = std::sin(0.001f * i);
    g[i] = std::cos(0.0037f * i) * 0.5f;
  }
  const std::size_t decay_begin = 1000, decay_end = 200000;
  AdamWOptions options;
  options.weight_decay = 0.05f;
  AdamW adamw(n, options, {{decay_begin, decay_end - decay_begin}});
  std::vector<float> expected = p, m(n, 0.0f), v(n, 0.0f);
  for (int step = 1; step <= 3; ++step) {
    const float lr = 0.01f * step;
    adamw.step(p.data(), g.data(), lr);
    const float c1 = static_cast<float>(1.0 - std::pow(double(0.9f), step));
    const float c2 = static_cast<float>(1.0 - std::pow(double(0.999f), step));
    for (std::size_t i = 0; i < n; ++i) {
      const float decay = i >= decay_begin && i < decay_end ? 0.05f : 0.0f;
      m[i] = 0.9f * m[i] + (1.0f - 0.9f) * g[i];
      v[i] = 0.999f * v[i] + (1.0f - 0.999f) * g[i] * g[i];
      const float m_hat = m[i] / c1, v_hat = v[i] / c2;
      expected[i] -= lr * (m_hat / (std::sqrt(v_hat) + 1e-8f) + decay * expected[i]);
    }
  }
  CHECK(p == expected);
  CHECK(adamw.m() == m);

  // Clipping with the norm already measured scales exactly as clipping that measures it.
  std::vector<float> a = g, b = g;
  const float norm = clip_grad_norm(a.data(), n, 1.0f);
  clip_grad_norm(b.data(), n, 1.0f, grad_norm(g.data(), n));
  CHECK(norm > 1.0f);
  CHECK(a == b);
  CHECK(grad_norm(a.data(), n) == Approx(1.0).epsilon(1e-6));
  clip_grad_norm(b.data(), n, 0.0f, 123.0);  // max_norm <= 0: nothing to do
  CHECK(a == b);
}

TEST_CASE("all_finite spots NaN and infinity", "[adamw]") {
  std::vector<float> g = {1.0f, -2.0f, 0.0f};
  CHECK(all_finite(g.data(), g.size()));
  g[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(all_finite(g.data(), g.size()));
  g[1] = -std::numeric_limits<float>::infinity();
  CHECK_FALSE(all_finite(g.data(), g.size()));
}

TEST_CASE("lr schedule: warm-up then linear or cosine decay", "[adamw][lr]") {
  LrScheduleOptions o;
  o.peak_lr = 1.0f;
  o.warmup_steps = 10;
  o.total_steps = 110;
  SECTION("linear to zero") {
    LrSchedule s(o);
    CHECK(s.lr_at(0) == Approx(0.1));  // (0 + 1) / 10
    CHECK(s.lr_at(4) == Approx(0.5));
    CHECK(s.lr_at(9) == Approx(1.0));
    CHECK(s.lr_at(10) == Approx(1.0));  // decay starts at progress 0
    CHECK(s.lr_at(60) == Approx(0.5));  // halfway through the 100 decay steps
    CHECK(s.lr_at(109) == Approx(0.01));
    CHECK(s.lr_at(110) == 0.0f);
    CHECK(s.lr_at(1000) == 0.0f);
  }
  SECTION("cosine with a floor") {
    o.decay = LrDecay::kCosine;
    o.min_ratio = 0.1f;
    LrSchedule s(o);
    CHECK(s.lr_at(10) == Approx(1.0));
    CHECK(s.lr_at(60) == Approx(0.55));  // floor + (1 - floor) * (1 + cos(pi/2)) / 2
    CHECK(s.lr_at(35) == Approx(0.1 + 0.9 * (1 + std::cos(M_PI * 0.25)) / 2));
    CHECK(s.lr_at(110) == Approx(0.1));
  }
  SECTION("constant after warm-up") {
    o.decay = LrDecay::kConstant;
    LrSchedule s(o);
    CHECK(s.lr_at(5) == Approx(0.6));
    CHECK(s.lr_at(50) == 1.0f);
    CHECK(s.lr_at(500) == 1.0f);
  }
  SECTION("no warm-up") {
    o.warmup_steps = 0;
    o.total_steps = 4;
    LrSchedule s(o);
    CHECK(s.lr_at(0) == 1.0f);
    CHECK(s.lr_at(2) == Approx(0.5));
  }
}

TEST_CASE("lr schedule rejects bad options", "[adamw][lr]") {
  LrScheduleOptions o;
  o.total_steps = 10;
  o.warmup_steps = 11;
  CHECK_THROWS_AS(LrSchedule(o), UsageError);
  o.warmup_steps = 0;
  o.peak_lr = 0;
  CHECK_THROWS_AS(LrSchedule(o), UsageError);
  o.peak_lr = 1e-4f;
  o.min_ratio = 1.5f;
  CHECK_THROWS_AS(LrSchedule(o), UsageError);
  CHECK(lr_decay_from_string("cosine") == LrDecay::kCosine);
  CHECK(to_string(LrDecay::kLinear) == "linear");
  CHECK_THROWS_AS(lr_decay_from_string("step"), UsageError);
}

TEST_CASE("step with clip_factor equals clip_grad_norm then step, bit for bit", "[adamw]") {
  // Large and odd: the threaded, vectorized update with tails; two decay segments.
  const std::size_t n = 300007;
  AdamWOptions options;
  std::vector<float> p(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = std::sin(0.37f * float(i));
    g[i] = std::cos(0.11f * float(i)) * (i % 5 == 0 ? 10.0f : 0.1f);
  }
  AdamW fused(n, options, {{1000, 200000}}), separate(n, options, {{1000, 200000}});
  std::vector<float> p_fused = p, p_separate = p;
  for (int step = 0; step < 3; ++step) {
    std::vector<float> g_separate = g;
    const double norm = grad_norm(g.data(), n);
    const float factor = clip_factor(1.0f, norm);
    CHECK(factor == Approx(1.0 / norm));
    fused.step(p_fused.data(), g.data(), 0.01f, factor);
    clip_grad_norm(g_separate.data(), n, 1.0f, norm);
    separate.step(p_separate.data(), g_separate.data(), 0.01f);
    CHECK(p_fused == p_separate);
    CHECK(fused.m() == separate.m());
    CHECK(fused.v() == separate.v());
  }
  CHECK(clip_factor(10.0f, 5.0) == 1.0f);  // below the limit: no scaling
  CHECK(clip_factor(0.0f, 50.0) == 1.0f);  // clipping off
}
