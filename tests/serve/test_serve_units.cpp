// The server library without sockets: request validation, truncation rules, base64,
// the API key check, metrics text, and the batching queue under concurrent callers.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "../infer/test_models.h"
#include "sentemb/encoder.h"
#include "serve/api_error.h"
#include "serve/auth.h"
#include "serve/batch_queue.h"
#include "serve/metrics.h"
#include "serve/requests.h"
#include "serve/responses.h"

using namespace sentemb;
using namespace sentemb::serve;

namespace {

// The ApiError's message for `body`, or "" when it parses.
std::string embeddings_error(const std::string& body, std::size_t max_inputs = 4) {
  try {
    parse_embeddings_request(body, RequestLimits{max_inputs});
  } catch (const ApiError& e) {
    CHECK(e.status() == 400);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("serve: an embeddings request takes a string or an array of strings") {
  auto one = parse_embeddings_request(R"({"input":"hello","model":"m"})", {});
  CHECK(one.input == std::vector<std::string>{"hello"});
  CHECK(one.model == "m");
  CHECK(one.format == EncodingFormat::kFloat);
  auto many = parse_embeddings_request(
      R"({"input":["a","b"],"encoding_format":"base64","dimensions":16})", {});
  CHECK(many.input == std::vector<std::string>{"a", "b"});
  CHECK(many.format == EncodingFormat::kBase64);
  CHECK(many.dimensions == 16);
}

TEST_CASE("serve: bad embeddings requests are 400s naming the field") {
  CHECK_THAT(embeddings_error("{"), Catch::Contains("not valid JSON"));
  CHECK_THAT(embeddings_error("[1]"), Catch::Contains("JSON object"));
  CHECK_THAT(embeddings_error("{}"), Catch::Contains("'input' is required"));
  CHECK_THAT(embeddings_error(R"({"input":3})"), Catch::Contains("'input' must be"));
  CHECK_THAT(embeddings_error(R"({"input":[]})"), Catch::Contains("'input' must not be empty"));
  CHECK_THAT(embeddings_error(R"({"input":["a",2]})"), Catch::Contains("'input[1]'"));
  CHECK_THAT(embeddings_error(R"({"input":["a","b","c"]})", 2), Catch::Contains("at most 2"));
  CHECK_THAT(embeddings_error(R"({"input":"a","encoding_format":"int8"})"),
             Catch::Contains("'encoding_format'"));
  CHECK_THAT(embeddings_error(R"({"input":"a","dimensions":0})"), Catch::Contains("'dimensions'"));
  CHECK_THAT(embeddings_error(R"({"input":"a","dimensions":"8"})"),
             Catch::Contains("'dimensions'"));
  CHECK_THAT(embeddings_error(R"({"input":"a","model":1})"), Catch::Contains("'model'"));
  CHECK_THAT(embeddings_error("{\"input\":\"\xff\"}"),
             Catch::Contains("not valid UTF-8 (byte 10)"));
}

TEST_CASE("serve: similarity requests are arrays of two strings") {
  auto ok = parse_similarity_request(R"({"pairs":[["a","b"],["c","d"]]})", {});
  REQUIRE(ok.pairs.size() == 2);
  CHECK(ok.pairs[1].second == "d");
  CHECK_THROWS_WITH(parse_similarity_request(R"({"pairs":[["a"]]})", {}),
                    Catch::Contains("'pairs[0]'"));
  CHECK_THROWS_WITH(parse_similarity_request(R"({"pairs":[]})", {}), Catch::Contains("empty"));
  CHECK_THROWS_WITH(parse_similarity_request(R"({"pairs":[["a","b"]]})", RequestLimits{1}),
                    Catch::Contains("at most 1"));
}

TEST_CASE("serve: dimensions truncate only models trained for it, a warning off the list") {
  ModelConfig config;
  config.dim = 32;
  CHECK(plan_truncation(std::nullopt, config).width == 32);
  CHECK(plan_truncation(32, config).width == 32);
  CHECK_THROWS_WITH(plan_truncation(16, config), Catch::Contains("not trained for truncation"));
  config.matryoshka_dims = {16, 8};
  CHECK_THROWS_WITH(plan_truncation(64, config), Catch::Contains("more than the model's width"));
  const auto trained = plan_truncation(16, config);
  CHECK(trained.width == 16);
  CHECK(trained.warning.empty());
  const auto other = plan_truncation(12, config);
  CHECK(other.width == 12);
  CHECK_THAT(other.warning, Catch::Contains("16, 8"));
}

TEST_CASE("serve: base64 follows RFC 4648 test vectors") {
  const std::string s = "foobar";
  CHECK(base64_encode(s.data(), 0) == "");
  CHECK(base64_encode(s.data(), 1) == "Zg==");
  CHECK(base64_encode(s.data(), 2) == "Zm8=");
  CHECK(base64_encode(s.data(), 3) == "Zm9v");
  CHECK(base64_encode(s.data(), 6) == "Zm9vYmFy");
}

TEST_CASE("serve: truncated vectors are renormalised to unit length") {
  const std::vector<float> v = {0.6f, 0.8f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  const auto body =
      embeddings_response(v, 4, Truncation{1, ""}, true, EncodingFormat::kFloat, "m", 3);
  CHECK(
      body ==
      R"({"data":[{"embedding":[1.0],"index":0,"object":"embedding"},{"embedding":[1.0],"index":1,)"
      R"("object":"embedding"}],"model":"m","object":"list","usage":{"prompt_tokens":3,"total_tokens":3}})");
}

TEST_CASE("serve: the bearer check accepts exactly the key") {
  CHECK(bearer_matches("Bearer secret", "secret"));
  CHECK_FALSE(bearer_matches("Bearer secre", "secret"));
  CHECK_FALSE(bearer_matches("Bearer secretx", "secret"));
  CHECK_FALSE(bearer_matches("bearer secret", "secret"));
  CHECK_FALSE(bearer_matches("", "secret"));
}

TEST_CASE("serve: metrics render Prometheus counters and cumulative histograms") {
  Metrics metrics;
  metrics.record_request("/v1/embeddings", 200, 0.002);
  metrics.record_request("/v1/embeddings", 400, 0.0001);
  metrics.record_batch(3, 17);
  const std::string text = metrics.prometheus();
  CHECK_THAT(text, Catch::Contains("sentemb_requests_total{endpoint=\"/v1/embeddings\"} 2\n"));
  CHECK_THAT(text, Catch::Contains(
                       "sentemb_errors_total{endpoint=\"/v1/embeddings\",status=\"400\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("sentemb_sentences_total 3\n"));
  CHECK_THAT(text, Catch::Contains("sentemb_tokens_total 17\n"));
  CHECK_THAT(text, Catch::Contains("sentemb_request_duration_seconds_bucket{le=\"0.001\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("sentemb_request_duration_seconds_bucket{le=\"0.0025\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("sentemb_batch_sentences_bucket{le=\"4\"} 1\n"));
}

TEST_CASE("serve: concurrent callers of the batching queue get encode's vectors") {
  EncoderOptions options;
  options.threads = 1;
  Encoder reference(test::tiny_model(), options);
  std::vector<Encoder> encoders;
  encoders.emplace_back(test::tiny_model(), options);
  encoders.emplace_back(test::tiny_model(), options);
  Metrics metrics;
  BatchOptions batch_options;
  batch_options.batch_tokens = 64;
  batch_options.max_wait = std::chrono::milliseconds(1);
  BatchQueue queue(std::move(encoders), batch_options, &metrics);

  const std::vector<std::string> sentences = {
      "hello world", "a", "the quick brown fox jumps", "", "again and again and again", "x y z"};
  const auto expected = reference.encode(sentences);
  const int dim = reference.dim();
  constexpr int kThreads = 8, kRounds = 10;
  std::vector<float> worst(kThreads, 0.0f);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const std::size_t i = (t + r) % sentences.size();
        const auto got = queue.encode({sentences[i], sentences[(i + 1) % sentences.size()]});
        for (int k = 0; k < 2; ++k)
          for (int d = 0; d < dim; ++d)
            worst[t] =
                std::max(worst[t], std::abs(got.vectors[k * dim + d] -
                                            expected[((i + k) % sentences.size()) * dim + d]));
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK(*std::max_element(worst.begin(), worst.end()) < 1e-5f);
  queue.stop();
  CHECK_THROWS_WITH(queue.encode({"late"}), Catch::Contains("shutting down"));
  CHECK_THAT(metrics.prometheus(), Catch::Contains("sentemb_sentences_total 160\n"));
}
