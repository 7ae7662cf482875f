// int8 inference: the quantizers, the int8 linear layer against its exact
// dequantized math, and the whole encoder against fp32 (cosine, padding
// invariance, model file untouched).
#include <Eigen/Dense>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "infer/test_models.h"
#include "nn/linear.h"
#include "nn/quantize.h"
#include "sentemb/encoder.h"
#include "sentemb/model_file.h"
#include "sentemb/tokenizer.h"
#include "test_util.h"

using namespace sentemb;
using test::random_sequences;
using test::random_vector;
using test::tiny_model;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

const std::vector<std::string>& sentences() {
  static const std::vector<std::string> s = {
      "the quick brown fox jumps over the lazy dog",
      "a man is playing a guitar",
      "two dogs run in a field",
      "café naïve résumé",
      "numbers 1 2 3 and symbols !?",
      "A woman is slicing an onion on a wooden cutting board in the kitchen.",
      "x"};
  return s;
}

// Cosine of each row pair of two (N, C) matrices.
std::vector<double> row_cosines(const std::vector<float>& a, const std::vector<float>& b, int C) {
  std::vector<double> cos(a.size() / C);
  for (std::size_t i = 0; i < cos.size(); ++i) {
    double ab = 0, aa = 0, bb = 0;
    for (int c = 0; c < C; ++c) {
      ab += double(a[i * C + c]) * b[i * C + c];
      aa += double(a[i * C + c]) * a[i * C + c];
      bb += double(b[i * C + c]) * b[i * C + c];
    }
    cos[i] = ab / std::sqrt(aa * bb);
  }
  return cos;
}

double gelu(double v) {
  return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
}

}  // namespace

TEST_CASE("quantize_rows: per-row scale, error at most half a step, rows independent", "[int8]") {
  const int M = 5, K = 40;
  auto x = random_vector(M * K, 1);
  for (int k = 0; k < K; ++k) x[1 * K + k] *= 100.0f;  // a large row
  for (int k = 0; k < K; ++k) x[2 * K + k] = 0.0f;     // an all-zero row
  x[3 * K + 7] = -50.0f;                               // one outlier in a row
  std::vector<std::int8_t> q(M * K);
  std::vector<float> scales(M);
  nn::quantize_rows(x.data(), M, K, q.data(), scales.data());
  for (int m = 0; m < M; ++m) {
    INFO("row " << m);
    float max_abs = 0;
    int max_q = 0;
    for (int k = 0; k < K; ++k) {
      max_abs = std::max(max_abs, std::abs(x[m * K + k]));
      max_q = std::max(max_q, std::abs(int(q[m * K + k])));
      CHECK(std::abs(x[m * K + k] - q[m * K + k] * scales[m]) <= 0.5001f * scales[m]);
    }
    CHECK(scales[m] == Approx(max_abs / 127.0f));
    CHECK(max_q == (m == 2 ? 0 : 127));
  }
  CHECK(scales[2] == 0.0f);
  // A row's quantization does not depend on its neighbours (padding invariance).
  std::vector<std::int8_t> q_alone(K);
  float scale_alone;
  nn::quantize_rows(x.data() + 4 * K, 1, K, q_alone.data(), &scale_alone);
  CHECK(scale_alone == scales[4]);
  CHECK(std::equal(q_alone.begin(), q_alone.end(), q.begin() + 4 * K));
}

TEST_CASE("quantize_weights: per-output-channel scales", "[int8]") {
  const int K = 24, N = 6;
  for (int qmax : {127, 63}) {
    auto w = random_vector(K * N, 2);
    for (int k = 0; k < K; ++k) w[k * N + 1] *= 30.0f;  // a large column
    for (int k = 0; k < K; ++k) w[k * N + 4] = 0.0f;    // an all-zero column
    const auto q = nn::quantize_weights(w.data(), K, N, qmax);
    REQUIRE(q.values.size() == std::size_t(K * N));
    REQUIRE(q.scales.size() == std::size_t(N));
    for (int n = 0; n < N; ++n) {
      INFO("qmax " << qmax << " column " << n);
      float max_abs = 0;
      int max_q = 0;
      for (int k = 0; k < K; ++k) {
        max_abs = std::max(max_abs, std::abs(w[k * N + n]));
        max_q = std::max(max_q, std::abs(int(q.values[k * N + n])));
        CHECK(std::abs(w[k * N + n] - q.values[k * N + n] * q.scales[n]) <= 0.5001f * q.scales[n]);
      }
      CHECK(q.scales[n] == Approx(max_abs / qmax));
      CHECK(max_q == (n == 4 ? 0 : qmax));
    }
  }
  const int qmax = nn::weight_qmax();
  CHECK((qmax == 127 || qmax == 63));
}

TEST_CASE("int8 Linear equals its dequantized math, plain, with GELU and accumulating", "[int8]") {
  const int M = 37, K = 64, N = 48;
  const auto x = random_vector(M * K, 3), w = random_vector(K * N, 4, 0.2f),
             b = random_vector(N, 5), y0 = random_vector(M * N, 6);
  std::vector<std::int8_t> xq(M * K);
  std::vector<float> xs(M);
  nn::quantize_rows(x.data(), M, K, xq.data(), xs.data());
  const auto wq = nn::quantize_weights(w.data(), K, N, nn::weight_qmax());
  // The exact math of the quantized product, in double.
  Eigen::MatrixXd dq(M, N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      std::int64_t acc = 0;
      for (int k = 0; k < K; ++k) acc += std::int64_t(xq[m * K + k]) * wq.values[k * N + n];
      dq(m, n) = double(xs[m]) * wq.scales[n] * double(acc) + b[n];
    }
  // And the fp32 product it approximates.
  const Matrix exact =
      Eigen::Map<const Matrix>(x.data(), M, K) * Eigen::Map<const Matrix>(w.data(), K, N) +
      Eigen::Map<const Matrix>(b.data(), 1, N).replicate(M, 1);

  for (auto [gelu_on, accumulate] : {std::pair{false, false}, {true, false}, {false, true}}) {
    INFO("gelu " << gelu_on << " accumulate " << accumulate);
    nn::LinearOptions options;
    options.gelu = gelu_on;
    options.accumulate = accumulate;
    options.int8 = true;
    nn::Linear linear(K, N, options);
    std::vector<float> y = y0;
    std::vector<std::int32_t> acc(M * N);
    linear.forward_int8(xq.data(), xs.data(), wq.values.data(), wq.scales.data(), b.data(),
                        y.data(), acc.data(), M);
    double worst = 0, err2 = 0, ref2 = 0;
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        double expected = gelu_on ? gelu(dq(m, n)) : dq(m, n);
        double fp32 = gelu_on ? gelu(exact(m, n)) : exact(m, n);
        if (accumulate) expected += y0[m * N + n], fp32 += y0[m * N + n];
        worst = std::max(worst, std::abs(y[m * N + n] - expected) / (1.0 + std::abs(expected)));
        err2 += (y[m * N + n] - fp32) * (y[m * N + n] - fp32);
        ref2 += fp32 * fp32;
      }
    CHECK(worst < 1e-5);  // float rounding only
    // Against fp32: the quantization error, a little under 1% of the signal here.
    INFO("relative error vs fp32 " << std::sqrt(err2 / ref2));
    CHECK(std::sqrt(err2 / ref2) < 0.02);
  }
}

// The bound, 0.999 (the issue asks for 0.99): on these random models
// (parameters + N(0, 0.1); the golden model with std-0.2 weights) the worst
// int8-to-fp32 cosine is 0.99988 with 8-bit weights (VNNI CPUs) and 0.99962 with
// the 7-bit weights used without VNNI (ONEDNN_MAX_CPU_ISA=AVX512_CORE or AVX2).
// 0.999 keeps a margin over both; the exactness of the int8 arithmetic itself is
// checked by the Linear test above.
TEST_CASE("int8 inference stays within cosine 0.999 of fp32", "[int8][encoder]") {
  for (auto pooling : {Pooling::kMean, Pooling::kCls, Pooling::kMax}) {
    INFO("pooling " << to_string(pooling));
    Model model = tiny_model(pooling);
    Encoder fp32(model, EncoderOptions{Precision::kFp32, 0, 16, {}});
    Encoder int8(model, EncoderOptions{Precision::kInt8, 0, 16, {}});
    const auto a = fp32.encode(sentences()), b = int8.encode(sentences());
    const auto cos = row_cosines(a, b, fp32.dim());
    double worst_diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      worst_diff = std::max(worst_diff, double(std::abs(a[i] - b[i])));
    for (std::size_t i = 0; i < cos.size(); ++i) {
      INFO("sentence " << i << ": cosine " << cos[i]);
      CHECK(cos[i] >= 0.999);
      CHECK(cos[i] <= 1.0001);
    }
    // int8 really ran: the vectors differ from fp32 beyond float rounding.
    CHECK(worst_diff > 1e-4);
  }
  SECTION("the golden model (weights std 0.2, random LayerNorm parameters)") {
    Model model = load_model(test::data_path("golden/tiny.semb"));
    Encoder fp32(model, EncoderOptions{Precision::kFp32, 0, 16, {}});
    Encoder int8(model, EncoderOptions{Precision::kInt8, 0, 16, {}});
    const auto cos = row_cosines(fp32.encode(sentences()), int8.encode(sentences()), fp32.dim());
    for (std::size_t i = 0; i < cos.size(); ++i) {
      INFO("sentence " << i << ": cosine " << cos[i]);
      CHECK(cos[i] >= 0.999);
    }
  }
}

// Per-row activation scales make int8 exactly as padding-invariant as fp32:
// a token's quantization never sees the other tokens, and the s32 sums are exact.
TEST_CASE("int8: a sentence's embedding is the same alone or in a padded batch of 64",
          "[int8][encoder]") {
  for (auto pooling : {Pooling::kMean, Pooling::kCls, Pooling::kMax}) {
    Encoder encoder(tiny_model(pooling), EncoderOptions{Precision::kInt8, 0, 64, {}});
    const auto seqs = random_sequences(64, 32, 5);
    std::vector<float> batched(64 * encoder.dim()), alone(encoder.dim());
    encoder.encode_ids(seqs, batched.data());
    float worst = 0;
    for (int i = 0; i < 64; ++i) {
      encoder.encode_ids({seqs[i]}, alone.data());
      for (int c = 0; c < encoder.dim(); ++c)
        worst = std::max(worst, std::abs(alone[c] - batched[i * encoder.dim() + c]));
    }
    INFO("pooling " << to_string(pooling));
    CHECK(worst < 1e-5f);
  }
}

TEST_CASE("int8 leaves the model file and the fp32 weights untouched", "[int8][encoder]") {
  test::TempDir tmp;
  const std::string path = tmp.file("model.semb");
  const Model model = tiny_model();
  save_model(model, path);
  const std::string bytes_before = test::read_file(path);

  Encoder fp32_before = Encoder::load(path, EncoderOptions{Precision::kFp32, 0, 16, {}});
  const auto a = fp32_before.encode(sentences());
  {
    Encoder int8 = Encoder::load(path, EncoderOptions{Precision::kInt8, 0, 16, {}});
    const auto q = int8.encode(sentences());
    CHECK(q != a);
  }
  CHECK(test::read_file(path) == bytes_before);
  const Model reloaded = load_model(path);
  CHECK(reloaded.parameters == model.parameters);  // still fp32, bit for bit
  Encoder fp32_after = Encoder::load(path, EncoderOptions{Precision::kFp32, 0, 16, {}});
  CHECK(fp32_after.encode(sentences()) == a);
}
