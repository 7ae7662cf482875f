// Losses: hand-computed values on tiny batches, finite-difference gradient checks,
// and the protocol (backward adds, scales, validates its inputs).
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "gradcheck.h"
#include "sentemb/errors.h"
#include "train/losses.h"

using namespace sentemb;
using sentemb::test::gradcheck;
using sentemb::test::GradcheckOptions;

namespace {

// Random inputs for one batch; x packs [anchor; positive; negative], (3, B, D).
struct Inputs {
  int B, D;
  std::vector<float> x;
  std::vector<float> label;
  std::vector<std::int64_t> group;
  bool with_negative = true, with_label = false, with_group = false;

  Inputs(int batch, int dim, unsigned seed) : B(batch), D(dim), x(3 * batch * dim) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : x) v = normal(rng);
    for (int i = 0; i < B; ++i) label.push_back(static_cast<float>(i % 2));
  }
  EmbeddingBatch batch(const std::vector<float>& values) const {
    EmbeddingBatch e;
    e.anchor = values.data();
    e.positive = values.data() + B * D;
    e.negative = with_negative ? values.data() + 2 * B * D : nullptr;
    e.label = with_label ? label.data() : nullptr;
    e.group = with_group ? group.data() : nullptr;
    e.batch = B;
    e.dim = D;
    return e;
  }
  // The analytic gradient of the loss with respect to x, (3, B, D).
  std::vector<float> gradient(Loss& loss, float scale = 1.0f) const {
    std::vector<float> g(x.size(), 0.0f);
    loss.forward(batch(x));
    EmbeddingGrads grads{g.data(), g.data() + B * D,
                         with_negative ? g.data() + 2 * B * D : nullptr};
    loss.backward(scale, grads);
    return g;
  }
};

// Bounds of every loss gradcheck. The loss is read back in double (Loss::value(),
// the losses compute in double from the float inputs), so rounding noise is ~1e-16 /
// h and negligible; what remains is the truncation error of the central difference,
// h^2/6 * f''', relative to f' about (h / |x|)^2 / t^2 / 6 ~ 1e-5 for h = 1e-3, rows
// of norm ~2.4 and temperature t >= 0.05. Bound: rtol 1e-4, atol 1e-7.
GradcheckOptions loss_gradcheck_options() {
  GradcheckOptions o;
  o.step = 1e-3;
  o.rtol = 1e-4;
  o.atol = 1e-7;
  return o;
}

void check_gradient(Loss& loss, const Inputs& in,
                    const GradcheckOptions& options = loss_gradcheck_options()) {
  const std::vector<float> analytic = in.gradient(loss);
  auto loss_of = [&](const std::vector<float>& x) {
    const float rounded = loss.forward(in.batch(x));
    CHECK(rounded == static_cast<float>(loss.value()));
    return loss.value();
  };
  const auto report = gradcheck(loss_of, in.x, analytic, options);
  INFO(loss.name() << ": " << report.describe());
  CHECK(report.ok);
  // The check must have exercised something: a zero gradient would pass trivially.
  double max_abs = 0;
  for (std::size_t i = 0; i < analytic.size(); ++i)
    if (in.with_negative || i < 2 * static_cast<std::size_t>(in.B * in.D))
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(analytic[i])));
  CHECK(max_abs > 1e-2);
}

double cosine(const float* x, const float* y, int d) {
  double xy = 0, xx = 0, yy = 0;
  for (int k = 0; k < d; ++k) {
    xy += double(x[k]) * y[k];
    xx += double(x[k]) * x[k];
    yy += double(y[k]) * y[k];
  }
  return xy / std::sqrt(xx * yy);
}

// Hinges of cosine-distance triplets on Inputs, to keep test data away from kinks.
double min_abs_hinge(const Inputs& in, double margin) {
  double m = 1e9;
  for (int i = 0; i < in.B; ++i) {
    const float* a = &in.x[i * in.D];
    const float* p = &in.x[(in.B + i) * in.D];
    const float* n = &in.x[(2 * in.B + i) * in.D];
    const double hinge = (1 - cosine(a, p, in.D)) - (1 - cosine(a, n, in.D)) + margin;
    m = std::min(m, std::fabs(hinge));
  }
  return m;
}

int count_active_hinges(const Inputs& in, double margin) {
  int active = 0;
  for (int i = 0; i < in.B; ++i) {
    const float* a = &in.x[i * in.D];
    const float* p = &in.x[(in.B + i) * in.D];
    const float* n = &in.x[(2 * in.B + i) * in.D];
    active += (1 - cosine(a, p, in.D)) - (1 - cosine(a, n, in.D)) + margin > 0;
  }
  return active;
}

const double kInvSqrt2 = 1.0 / std::sqrt(2.0);

}  // namespace

// ---------------------------------------------------------------------------
// Hand-computed values, B = 2, D = 2.

TEST_CASE("infonce on a 2x2 batch matches hand computation", "[losses]") {
  // a1 = (1,0), a2 = (0,1); p1 = (2,0), p2 = (3,3) (unnormalised on purpose).
  // cos: a1.p1 = 1, a1.p2 = 1/sqrt2, a2.p1 = 0, a2.p2 = 1/sqrt2.
  const std::vector<float> a = {1, 0, 0, 1}, p = {2, 0, 3, 3};
  EmbeddingBatch e;
  e.anchor = a.data();
  e.positive = p.data();
  e.batch = 2;
  e.dim = 2;
  const double s = kInvSqrt2;

  InfoNceLoss plain({/*temperature=*/1.0f, /*symmetric=*/false});
  const double row1 = std::log(std::exp(1.0) + std::exp(s)) - 1.0;
  const double row2 = std::log(std::exp(0.0) + std::exp(s)) - s;
  const double ab = (row1 + row2) / 2;
  CHECK(plain.forward(e) == Approx(ab).epsilon(1e-6));

  // Temperature 0.5 doubles every logit.
  InfoNceLoss hot({0.5f, false});
  const double hot_ab = ((std::log(std::exp(2.0) + std::exp(2 * s)) - 2.0) +
                         (std::log(std::exp(0.0) + std::exp(2 * s)) - 2 * s)) /
                        2;
  CHECK(hot.forward(e) == Approx(hot_ab).epsilon(1e-6));

  // Symmetric: p1 over anchors: logits (1, 0) -> log(e + 1) - 1; p2: (s, s) -> log 2.
  InfoNceLoss sym({1.0f, true});
  const double ba = ((std::log(std::exp(1.0) + 1.0) - 1.0) + std::log(2.0)) / 2;
  CHECK(sym.forward(e) == Approx((ab + ba) / 2).epsilon(1e-6));

  // Hard negatives n1 = (0,1), n2 = (-1,0): extra columns a1.n = (0, -1), a2.n = (1, 0).
  const std::vector<float> n = {0, 1, -1, 0};
  e.negative = n.data();
  const double with_neg =
      ((std::log(std::exp(1.0) + std::exp(s) + std::exp(0.0) + std::exp(-1.0)) - 1.0) +
       (std::log(std::exp(0.0) + std::exp(s) + std::exp(1.0) + std::exp(0.0)) - s)) /
      2;
  CHECK(plain.forward(e) == Approx(with_neg).epsilon(1e-6));

  // Both rows in one group: p2 and n2 leave row 1's softmax, p1 and n1 leave row 2's.
  const std::vector<std::int64_t> same = {7, 7};
  e.group = same.data();
  const double grouped = ((std::log(std::exp(1.0) + std::exp(0.0)) - 1.0) +
                          (std::log(std::exp(s) + std::exp(0.0)) - s)) /
                         2;
  CHECK(plain.forward(e) == Approx(grouped).epsilon(1e-6));
  // Different groups (and -1 = none) mask nothing.
  const std::vector<std::int64_t> apart = {-1, -1};
  e.group = apart.data();
  CHECK(plain.forward(e) == Approx(with_neg).epsilon(1e-6));
}

TEST_CASE("infonce stays finite at a tiny temperature", "[losses]") {
  // Logits of +-1e4: exp would overflow without the max subtraction.
  // a1 = (1,0) is closer to p2 = (1, 0.1) than to its own p1 = (0,1).
  const std::vector<float> a = {1, 0, 0, 1}, p = {0, 1, 1, 0.1f};
  EmbeddingBatch e{a.data(), p.data(), nullptr, nullptr, nullptr, 2, 2};
  const double t = 1e-4;
  InfoNceLoss loss({static_cast<float>(t), true});
  const float value = loss.forward(e);
  // Up to exp(-huge) terms each row costs (max logit - target logit), c = cos(a1,p2):
  //   rows:    a1: (c - 0) / t          a2 (target p2, but p1 = a2): (1 - 0.1c) / t
  //   columns: p1: (1 - 0) / t          p2: (c - 0.1c) / t
  const double c = 1 / std::sqrt(1.01);
  const double ab = (c / t + (1 - 0.1 * c) / t) / 2, ba = (1 / t + 0.9 * c / t) / 2;
  const double expected = (ab + ba) / 2;
  CHECK(value == Approx(expected).epsilon(1e-4));
  std::vector<float> ga(4, 0), gp(4, 0);
  loss.backward(1.0f, {ga.data(), gp.data(), nullptr});
  for (float g : ga) CHECK(std::isfinite(g));
  for (float g : gp) CHECK(std::isfinite(g));
}

TEST_CASE("triplet on a 2x2 batch matches hand computation", "[losses]") {
  // a1 = (1,0), p1 = (1,1), n1 = (0,1); a2 = (0,2), p2 = (1,0), n2 = (0,1).
  const std::vector<float> a = {1, 0, 0, 2}, p = {1, 1, 1, 0}, n = {0, 1, 0, 1};
  EmbeddingBatch e{a.data(), p.data(), n.data(), nullptr, nullptr, 2, 2};
  const double s = kInvSqrt2;

  SECTION("cosine, default margin 0.5") {
    TripletLoss loss;
    CHECK(loss.margin() == 0.5f);
    // Row 1: d_ap = 1 - s, d_an = 1: hinge (1 - s) - 1 + 0.5 < 0 -> 0.
    // Row 2: d_ap = 1, d_an = 0: 1 - 0 + 0.5 = 1.5.
    CHECK(loss.forward(e) == Approx(1.5 / 2).epsilon(1e-6));
  }
  SECTION("euclidean, default margin 5") {
    TripletLoss loss({TripletDistance::kEuclidean});
    CHECK(loss.margin() == 5.0f);
    // Row 1: ||a-p|| = 1, ||a-n|| = sqrt2. Row 2: ||a-p|| = sqrt5, ||a-n|| = 1.
    const double expected = ((1 - std::sqrt(2.0) + 5) + (std::sqrt(5.0) - 1 + 5)) / 2;
    CHECK(loss.forward(e) == Approx(expected).epsilon(1e-6));
  }
  SECTION("cosine, batch hard") {
    TripletLoss loss({TripletDistance::kCosine, 0.5f, true});
    // Row 1 candidates: p2 (d = 0), n1 (d = 1), n2 (d = 1): hardest p2, d = 0.
    //   hinge (1 - s) - 0 + 0.5.
    // Row 2 candidates: p1 (d = 1 - s), n1 (d = 0), n2 (d = 0): hardest d = 0.
    //   hinge 1 - 0 + 0.5.
    CHECK(loss.forward(e) == Approx(((1 - s + 0.5) + 1.5) / 2).epsilon(1e-6));
    // Groups: with both rows in one group, only the row's own n_i is left.
    const std::vector<std::int64_t> same = {3, 3};
    e.group = same.data();
    CHECK(loss.forward(e) == Approx(1.5 / 2).epsilon(1e-6));
    // Without negatives and with one group there is no candidate at all: 0.
    e.negative = nullptr;
    CHECK(loss.forward(e) == 0.0f);
  }
}

TEST_CASE("contrastive on a 2x2 batch matches hand computation", "[losses]") {
  // Pair 1: (1,0) vs (1,1), label 1: d = 1 - s, loss 0.5 d^2.
  // Pair 2: (1,0) vs (2,1), label 0: d = 1 - 2/sqrt5, loss 0.5 (0.5 - d)^2.
  const std::vector<float> a = {1, 0, 1, 0}, b = {1, 1, 2, 1}, y = {1, 0};
  EmbeddingBatch e{a.data(), b.data(), nullptr, y.data(), nullptr, 2, 2};
  const double d1 = 1 - kInvSqrt2, d2 = 1 - 2 / std::sqrt(5.0);
  ContrastiveLoss loss;
  CHECK(loss.forward(e) == Approx((0.5 * d1 * d1 + 0.5 * (0.5 - d2) * (0.5 - d2)) / 2));
  // A dissimilar pair already beyond the margin costs nothing.
  const std::vector<float> far = {-1, 0, 0, 1}, zero_labels = {0, 0};
  EmbeddingBatch e2{a.data(), far.data(), nullptr, zero_labels.data(), nullptr, 2, 2};
  CHECK(loss.forward(e2) == 0.0f);
}

TEST_CASE("weighted sum adds its terms and reports each", "[losses]") {
  const std::vector<float> a = {1, 0, 1, 0}, b = {1, 1, 2, 1}, y = {1, 0};
  EmbeddingBatch e{a.data(), b.data(), nullptr, y.data(), nullptr, 2, 2};
  InfoNceLoss infonce;
  ContrastiveLoss contrastive;
  const double l1 = infonce.forward(e), l2 = contrastive.forward(e);
  auto sum = make_loss("infonce:1, contrastive:0.5");
  CHECK(sum->name() == "1*infonce+0.5*contrastive");
  CHECK(sum->needs_label());
  CHECK_FALSE(sum->needs_negative());
  CHECK(sum->forward(e) == Approx(l1 + 0.5 * l2).epsilon(1e-6));
  const auto terms = sum->terms();
  REQUIRE(terms.size() == 2);
  CHECK(terms[0].first == "infonce");
  CHECK(terms[0].second == Approx(l1));
  CHECK(terms[1].first == "contrastive");
  CHECK(terms[1].second == Approx(l2));
}

// ---------------------------------------------------------------------------
// Gradient checks: B = 4, D = 6, random normal embeddings (not normalised).

TEST_CASE("infonce gradients match finite differences", "[losses][gradcheck]") {
  SECTION("plain, no negatives, default temperature 0.05") {
    Inputs in(4, 6, 1);
    in.with_negative = false;
    InfoNceLoss loss;
    check_gradient(loss, in);
  }
  SECTION("with hard negatives") {
    Inputs in(4, 6, 2);
    InfoNceLoss loss({0.1f, false});
    check_gradient(loss, in);
  }
  SECTION("symmetric with negatives") {
    Inputs in(4, 6, 3);
    InfoNceLoss loss({0.1f, true});
    check_gradient(loss, in);
  }
  SECTION("symmetric with groups") {
    Inputs in(5, 6, 4);
    in.with_group = true;
    in.group = {0, 1, 0, -1, 1};
    InfoNceLoss loss({0.1f, true});
    check_gradient(loss, in);
  }
}

TEST_CASE("triplet gradients match finite differences", "[losses][gradcheck]") {
  SECTION("cosine, some hinges active and some not") {
    Inputs in(6, 6, 11);
    REQUIRE(min_abs_hinge(in, 0.5) > 0.02);  // test data away from the kink
    const int active = count_active_hinges(in, 0.5);
    REQUIRE(active > 0);
    REQUIRE(active < in.B);
    TripletLoss loss;
    check_gradient(loss, in);
  }
  SECTION("euclidean") {
    Inputs in(4, 6, 12);
    TripletLoss loss({TripletDistance::kEuclidean});
    check_gradient(loss, in);
  }
  SECTION("cosine, batch hard with groups") {
    Inputs in(5, 6, 13);
    in.with_group = true;
    in.group = {2, -1, 2, 4, -1};
    TripletLoss loss({TripletDistance::kCosine, 1.5f, true});
    check_gradient(loss, in);
  }
  SECTION("euclidean, batch hard, no negatives") {
    Inputs in(5, 6, 14);
    in.with_negative = false;
    TripletLoss loss({TripletDistance::kEuclidean, 5.0f, true});
    check_gradient(loss, in);
  }
}

TEST_CASE("contrastive gradients match finite differences", "[losses][gradcheck]") {
  Inputs in(6, 6, 21);
  in.with_negative = false;
  in.with_label = true;
  // Dissimilar pairs of random vectors have d near 1, beyond the margin: use a
  // margin of 1.2 so their hinges are active too.
  ContrastiveLoss loss({1.2f});
  check_gradient(loss, in);
}

TEST_CASE("weighted sum gradients match finite differences", "[losses][gradcheck]") {
  Inputs in(4, 6, 31);
  in.with_label = true;
  LossOptions options;
  options.infonce.temperature = 0.1f;
  options.triplet.margin = 1.5f;  // every hinge active: no kink near the data
  auto loss = make_loss("symmetric_infonce:1,triplet:0.5,contrastive:2", options);
  check_gradient(*loss, in);
}

// ---------------------------------------------------------------------------
// Protocol.

TEST_CASE("backward adds scale times the gradient into the buffers", "[losses]") {
  Inputs in(4, 5, 41);
  InfoNceLoss loss({0.1f, true});
  const std::vector<float> g1 = in.gradient(loss, 1.0f);
  std::vector<float> g(in.x.size(), 1.0f);  // pre-filled: must be added to
  loss.forward(in.batch(in.x));
  const int BD = in.B * in.D;
  loss.backward(2.0f, {g.data(), g.data() + BD, g.data() + 2 * BD});
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(1.0f + 2.0f * g1[i]));
  // A nullptr gradient array is skipped, the others are still filled.
  std::vector<float> ga(BD, 0.0f);
  loss.backward(1.0f, {ga.data(), nullptr, nullptr});
  for (int i = 0; i < BD; ++i) CHECK(ga[i] == Approx(g1[i]));
}

TEST_CASE("losses reject batches missing what they need", "[losses]") {
  const std::vector<float> a = {1, 0}, p = {0, 1};
  EmbeddingBatch e{a.data(), p.data(), nullptr, nullptr, nullptr, 1, 2};
  TripletLoss triplet;
  CHECK(triplet.needs_negative());
  CHECK_THROWS_AS(triplet.forward(e), UsageError);
  ContrastiveLoss contrastive;
  CHECK_THROWS_AS(contrastive.forward(e), UsageError);
  InfoNceLoss infonce;
  CHECK_THROWS_AS(infonce.backward(1.0f, {}), UsageError);  // before forward
  EmbeddingBatch empty = e;
  empty.batch = 0;
  CHECK_THROWS_AS(infonce.forward(empty), UsageError);
  CHECK_THROWS_AS(InfoNceLoss({0.0f, false}), UsageError);
  CHECK_THROWS_AS(ContrastiveLoss({-1.0f}), UsageError);
}

TEST_CASE("make_loss parses specs and rejects bad ones", "[losses]") {
  CHECK(make_loss("infonce")->name() == "infonce");
  CHECK(make_loss("symmetric_infonce")->name() == "symmetric_infonce");
  CHECK(make_loss("batch_hard_triplet")->name() == "batch_hard_triplet");
  CHECK_FALSE(make_loss("batch_hard_triplet")->needs_negative());
  CHECK(make_loss("triplet")->needs_negative());
  CHECK(make_loss("contrastive")->needs_label());
  CHECK(make_loss("infonce,triplet:0.25")->name() == "1*infonce+0.25*triplet");
  LossOptions options;
  options.infonce.symmetric = true;
  CHECK(make_loss("infonce", options)->name() == "symmetric_infonce");
  CHECK_THROWS_AS(make_loss("cosent"), UsageError);
  CHECK_THROWS_AS(make_loss(""), UsageError);
  CHECK_THROWS_AS(make_loss("infonce,,triplet"), UsageError);
  CHECK_THROWS_AS(make_loss("infonce:abc"), UsageError);
  CHECK_THROWS_AS(make_loss("infonce:-1"), UsageError);
  CHECK_THROWS_AS(make_loss("infonce:1x"), UsageError);
  try {
    make_loss("infonce:1,tripplet");
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("tripplet") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// Matryoshka.

namespace {

// The prefix of every row of x (3, B, D), first k values, renormalised: (3, B, k).
std::vector<float> renormalised_prefix(const Inputs& in, int k) {
  std::vector<float> out;
  for (int row = 0; row < 3 * in.B; ++row) {
    const float* x = &in.x[std::size_t(row) * in.D];
    double norm = 0;
    for (int c = 0; c < k; ++c) norm += double(x[c]) * x[c];
    norm = std::sqrt(norm);
    for (int c = 0; c < k; ++c) out.push_back(static_cast<float>(x[c] / norm));
  }
  return out;
}

}  // namespace

TEST_CASE("matryoshka loss is the sum of the inner loss on renormalised prefixes", "[losses]") {
  Inputs in(5, 8, 41);
  LossOptions options;
  options.triplet.distance = TripletDistance::kEuclidean;  // sees the renormalisation
  options.triplet.margin = 1.0f;
  for (const std::string spec : {"infonce", "triplet"}) {
    MatryoshkaLoss loss({8, 4, 2}, [&] { return make_loss(spec, options); });
    const double total = loss.forward(in.batch(in.x));
    double expected = 0;
    for (int k : {8, 4, 2}) {
      const auto prefix = renormalised_prefix(in, k);
      Inputs p(in.B, k, 0);
      p.x = prefix;
      auto inner = make_loss(spec, options);
      const double value = inner->forward(p.batch(p.x));
      expected += value;
      bool reported = false;
      for (const auto& [name, v] : loss.terms())
        if (name == "matryoshka@" + std::to_string(k)) reported = v == Approx(value).epsilon(1e-6);
      CHECK(reported);
    }
    INFO(spec);
    CHECK(total == Approx(expected).epsilon(1e-6));
  }
  CHECK_THROWS_AS(MatryoshkaLoss({4, 8}, [] { return make_loss("infonce"); }), UsageError);
  MatryoshkaLoss too_wide({16, 4}, [] { return make_loss("infonce"); });
  CHECK_THROWS_AS(too_wide.forward(in.batch(in.x)), UsageError);
}

TEST_CASE("matryoshka gradients match finite differences", "[losses][gradcheck]") {
  Inputs in(4, 6, 43);
  LossOptions options;
  options.infonce.temperature = 0.1f;
  // The renormalised prefixes are stored in float: their rounding (~6e-8 relative) over
  // the step is ~1e-4 of the difference quotient, so the step is 10x larger than the
  // other losses' and the bound 1e-3 (truncation error ~(h/|x|)^2/t^2/6 ~ 1e-3 at worst).
  GradcheckOptions coarse = loss_gradcheck_options();
  coarse.step = 1e-2;
  coarse.rtol = 1e-3;
  MatryoshkaLoss loss({6, 3, 2}, [&] { return make_loss("symmetric_infonce", options); });
  check_gradient(loss, in, coarse);
  options.triplet.distance = TripletDistance::kEuclidean;
  options.triplet.margin = 3.0f;  // every hinge active: no kink near the data
  MatryoshkaLoss triplet({6, 3}, [&] { return make_loss("triplet", options); });
  check_gradient(triplet, in, coarse);
}

namespace {

// InfoNCE straight from its definition (losses.h), over the whole (B, M) matrix at
// once: the reference for the row-blocked implementation.
double infonce_by_definition(const Inputs& in, const std::vector<float>& x, double t,
                             bool symmetric) {
  const int B = in.B, D = in.D, M = in.with_negative ? 2 * B : B;
  auto row = [&](int block, int i) { return &x[(block * B + i) * D]; };
  auto masked = [&](int i, int j) {
    return in.with_group && i != j && in.group[i] >= 0 && in.group[i] == in.group[j];
  };
  auto cross_entropy = [&](auto logit, int candidates) {
    double loss = 0;
    for (int i = 0; i < B; ++i) {
      double sum = 0;
      for (int j = 0; j < candidates; ++j)
        if (!masked(i, j % B)) sum += std::exp(logit(i, j));
      loss += std::log(sum) - logit(i, i);
    }
    return loss / B;
  };
  const double ab = cross_entropy(
      [&](int i, int j) { return cosine(row(0, i), row(j < B ? 1 : 2, j % B), D) / t; }, M);
  if (!symmetric) return ab;
  const double ba =
      cross_entropy([&](int j, int i) { return cosine(row(1, j), row(0, i), D) / t; }, B);
  return 0.5 * (ab + ba);
}

}  // namespace

TEST_CASE("infonce over several blocks of rows equals its definition", "[losses]") {
  // B = 600 spans three blocks of logit rows (256 each); groups, negatives, symmetric.
  Inputs in(600, 8, 5);
  in.with_group = true;
  for (int i = 0; i < in.B; ++i) in.group.push_back(i % 7 == 0 ? -1 : i % 150);
  const float temperature = 0.2f;
  const double t = temperature;  // the loss divides by the float's value
  InfoNceLoss loss({temperature, true});
  const std::vector<float> analytic = in.gradient(loss);
  CHECK(loss.value() == Approx(infonce_by_definition(in, in.x, t, true)).epsilon(1e-12));

  // Central differences of the definition at coordinates around the block edges.
  const double h = 1e-3;
  for (int r : {0, 255, 256, 511, 512, 599}) {
    for (int block = 0; block < 3; ++block) {
      const std::size_t k = (static_cast<std::size_t>(block) * in.B + r) * in.D + r % in.D;
      std::vector<float> x = in.x;
      const float x_up = in.x[k] + static_cast<float>(h), x_down = in.x[k] - static_cast<float>(h);
      x[k] = x_up;
      const double up = infonce_by_definition(in, x, t, true);
      x[k] = x_down;
      const double down = infonce_by_definition(in, x, t, true);
      const double numeric = (up - down) / (static_cast<double>(x_up) - x_down);
      INFO("row " << r << " of input " << block);
      CHECK(analytic[k] == Approx(numeric).epsilon(1e-3).margin(1e-7));
    }
  }
}
