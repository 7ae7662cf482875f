// The encoder as a whole: padding invariance, order, precision paths.
#include <catch2/catch.hpp>
#include <cmath>
#include <exception>
#include <random>
#include <stdexcept>
#include <thread>

#include "encoder_forward.h"
#include "infer/test_models.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"
#include "test_util.h"

using namespace sentemb;
using test::random_sequences;
using test::random_vector;
using test::tiny_model;

namespace {

// One forward pass over every sequence, padded to the longest. (Encoder::encode_ids
// would cut them into passes of similar length: batch_plan.h.)
std::vector<float> one_padded_pass(Model& model, Precision precision,
                                   const std::vector<std::vector<int>>& seqs) {
  std::vector<const std::vector<int>*> batch;
  for (const auto& s : seqs) batch.push_back(&s);
  const auto tensors = bind_parameters(model.config, model.parameters.data());
  EncoderForward forward(model.config, tensors, precision, static_cast<int>(seqs.size()));
  std::vector<float> out(seqs.size() * model.config.dim);
  forward.forward(batch, out.data(), model.config.normalize);
  return out;
}

}  // namespace

TEST_CASE("A sentence's embedding is the same alone or in a padded batch of 64", "[encoder]") {
  for (auto pooling : {Pooling::kMean, Pooling::kCls, Pooling::kMax}) {
    Model model = tiny_model(pooling);
    const auto seqs = random_sequences(64, 32, 5);
    const auto batched = one_padded_pass(model, Precision::kFp32, seqs);
    Encoder encoder(std::move(model), EncoderOptions{Precision::kFp32, 0, 64, {}});
    std::vector<float> alone(encoder.dim()), planned(64 * encoder.dim());
    encoder.encode_ids(seqs, planned.data());  // cut by length, in input order
    float worst = 0, worst_planned = 0;
    for (int i = 0; i < 64; ++i) {
      encoder.encode_ids({seqs[i]}, alone.data());
      for (int c = 0; c < encoder.dim(); ++c) {
        worst = std::max(worst, std::abs(alone[c] - batched[i * encoder.dim() + c]));
        worst_planned =
            std::max(worst_planned, std::abs(alone[c] - planned[i * encoder.dim() + c]));
      }
    }
    INFO("pooling " << to_string(pooling));
    CHECK(worst < 1e-5f);
    CHECK(worst_planned < 1e-5f);
  }
}

// 64 sentences of up to 32 tokens make products of over 256 rows, which read the
// linear weights packed (nn/linear.h); one sentence alone reads the plain ones.
TEST_CASE("bf16: a sentence's embedding is the same alone or in a batch on packed weights",
          "[encoder]") {
  Model model = tiny_model();
  const auto seqs = random_sequences(64, 32, 6);
  const auto batched = one_padded_pass(model, Precision::kBf16, seqs);
  Encoder encoder(std::move(model), EncoderOptions{Precision::kBf16, 0, 64, {}});
  const int C = encoder.dim();
  std::vector<float> alone(C);
  double worst = 1;
  for (int i = 0; i < 64; ++i) {
    encoder.encode_ids({seqs[i]}, alone.data());
    double dot = 0;
    for (int c = 0; c < C; ++c) dot += alone[c] * batched[i * C + c];
    worst = std::min(worst, dot);
  }
  CHECK(worst > 0.9999);
}

// Training's evaluator reads parameters that the optimiser moves between calls.
TEST_CASE("An EncoderForward on live weights follows changes to them", "[encoder]") {
  Model model = tiny_model();
  const auto seqs = random_sequences(64, 32, 8);
  std::vector<const std::vector<int>*> batch;
  for (const auto& s : seqs) batch.push_back(&s);
  const int C = model.config.dim;
  const auto tensors = bind_parameters(model.config, model.parameters.data());
  EncoderForward live(model.config, tensors, Precision::kFp32, 64, EncoderForward::Weights::kLive);
  std::vector<float> before(64 * C), after(64 * C), fresh(64 * C);
  live.forward(batch, before.data(), true);
  for (auto& p : model.parameters) p *= 1.1f;
  live.forward(batch, after.data(), true);
  EncoderForward(model.config, tensors, Precision::kFp32, 64).forward(batch, fresh.data(), true);
  float moved = 0, worst = 0;
  for (int i = 0; i < 64 * C; ++i) {
    moved = std::max(moved, std::abs(after[i] - before[i]));
    worst = std::max(worst, std::abs(after[i] - fresh[i]));
  }
  CHECK(moved > 1e-3f);
  CHECK(worst < 1e-5f);
  CHECK_THROWS_AS(
      EncoderForward(model.config, tensors, Precision::kBf16, 64, EncoderForward::Weights::kLive),
      std::logic_error);
}

TEST_CASE("encode() returns vectors in input order, unit length", "[encoder]") {
  Encoder encoder(tiny_model(), EncoderOptions{Precision::kFp32, 0, 4, {}});
  std::vector<std::string> sentences = {
      "a much longer sentence than the others, with many words in it", "hi", "",
      "the cat sat on the mat", "x"};
  const auto all = encoder.encode(sentences);
  const int C = encoder.dim();
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto one = encoder.encode({sentences[i]});
    double sq = 0;
    for (int c = 0; c < C; ++c) {
      CHECK(one[c] == Approx(all[i * C + c]).margin(1e-5));
      sq += one[c] * one[c];
    }
    CHECK(sq == Approx(1.0).epsilon(1e-5));
  }
  // Different sentences get different vectors.
  double dot = 0;
  for (int c = 0; c < C; ++c) dot += all[c] * all[3 * C + c];
  CHECK(dot < 0.9999);
}

// ctest runs every test with OMP_NUM_THREADS=1 (tests run side by side), so the
// threaded paths are exercised here, with explicit thread counts.
TEST_CASE("1, 2 and 3 encoder threads give the same embeddings", "[encoder][openmp]") {
  const Model model = tiny_model();
  const auto seqs = random_sequences(40, 32, 11);
  std::vector<std::string> sentences;
  for (int i = 0; i < 40; ++i)
    sentences.push_back(std::string(i % 17, 'a') + " the cat " + std::to_string(i));
  for (auto precision : {Precision::kFp32, Precision::kBf16, Precision::kInt8}) {
    std::vector<std::vector<float>> from_ids, from_text;
    for (int threads : {1, 2, 3}) {
      Encoder encoder(model, EncoderOptions{precision, threads, 16, {}});
      from_ids.emplace_back(seqs.size() * encoder.dim());
      encoder.encode_ids(seqs, from_ids.back().data());
      from_text.push_back(encoder.encode(sentences));
    }
    INFO("precision " << to_string(precision));
    for (int t = 1; t < 3; ++t) {
      // Only the order of a gemm's partial sums may change with the thread count.
      for (std::size_t i = 0; i < from_ids[0].size(); ++i)
        REQUIRE(from_ids[t][i] == Approx(from_ids[0][i]).margin(1e-5));
      for (std::size_t i = 0; i < from_text[0].size(); ++i)
        REQUIRE(from_text[t][i] == Approx(from_text[0][i]).margin(1e-5));
    }
  }
}

// A server may run one Encoder per thread. oneDNN (built without concurrent
// execution) wants each primitive run on the thread that created it, so each
// Encoder here is created on the thread that uses it. Under ThreadSanitizer
// (tools/tsan.sh) this also checks that shared state (the oneDNN engine and
// stream, the tokenizer) is used without data races.
TEST_CASE("Encoders on separate threads give the vectors of one alone", "[encoder][threads]") {
  const Model model = tiny_model();
  std::vector<std::string> sentences;
  for (int i = 0; i < 24; ++i) sentences.push_back("sentence " + std::to_string(i * 7) + " x");
  const auto expected =
      Encoder(model, EncoderOptions{Precision::kFp32, 1, 8, {}}).encode(sentences);
  constexpr int kThreads = 3;
  std::vector<std::vector<float>> got(kThreads);
  std::vector<std::exception_ptr> errors(kThreads);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      try {
        // threads 0: the tokenizer splits each call over all cores (std::thread).
        Encoder encoder(model, EncoderOptions{Precision::kFp32, 0, 8, {}});
        for (int round = 0; round < 3; ++round) got[t] = encoder.encode(sentences);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) {
    if (errors[t]) std::rethrow_exception(errors[t]);
    REQUIRE(got[t].size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      REQUIRE(got[t][i] == Approx(expected[i]).margin(1e-6));
  }
}

TEST_CASE("bf16 inference stays within cosine 0.999 of fp32", "[encoder]") {
  Model model = tiny_model();
  Encoder fp32(model, EncoderOptions{Precision::kFp32, 0, 16, {}});
  Encoder bf16(model, EncoderOptions{Precision::kBf16, 0, 16, {}});
  std::vector<std::string> sentences = {"the quick brown fox jumps over the lazy dog",
                                        "a man is playing a guitar", "two dogs run in a field",
                                        "café naïve résumé", "numbers 1 2 3 and symbols !?"};
  const auto a = fp32.encode(sentences), b = bf16.encode(sentences);
  const int C = fp32.dim();
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    double dot = 0;
    for (int c = 0; c < C; ++c) dot += a[i * C + c] * b[i * C + c];
    CHECK(dot >= 0.999);
    CHECK(dot <= 1.0001);
  }
}

TEST_CASE("Invalid ids and lengths are rejected", "[encoder]") {
  Encoder encoder(tiny_model(), EncoderOptions{});
  std::vector<float> out(encoder.dim());
  CHECK_THROWS_AS(encoder.encode_ids({{}}, out.data()), UsageError);
  CHECK_THROWS_AS(encoder.encode_ids({{2, 9999}}, out.data()), UsageError);
  CHECK_THROWS_AS(encoder.encode_ids({std::vector<int>(33, 5)}, out.data()), UsageError);
}
