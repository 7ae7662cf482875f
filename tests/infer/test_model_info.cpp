// model_info_json (`sentemb info --json`, the Python module's Model.config), an
// Encoder's per-call options, and pair_cosines.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "infer/test_models.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/model_file.h"
#include "sentemb/model_info.h"
#include "sentemb/pair_scoring.h"
#include "sentemb/similarity.h"

using namespace sentemb;
using sentemb::test::tiny_model;

TEST_CASE("model_info_json is the configuration with the file version, size and tokenizer",
          "[model_info]") {
  const Model model = tiny_model();
  const Tokenizer tokenizer = Tokenizer::from_bytes(model.tokenizer_model);
  const auto j = nlohmann::json::parse(model_info_json(model.config, tokenizer));
  const auto config = nlohmann::json::parse(model.config.to_json());
  for (const auto& [key, value] : config.items()) CHECK(j.at(key) == value);
  CHECK(j.at("format_version") == kModelFileVersion);
  CHECK(j.at("parameters") == model.config.parameter_count());
  CHECK(j.at("tokenizer_pieces") == tokenizer.vocab_size());
  CHECK(j.at("tokenizer_bytes") == model.tokenizer_model.size());
  CHECK(j.at("layers") == 2);
  CHECK(j.at("dim") == 32);
}

TEST_CASE("set_batch_size and set_normalize act like an encoder built with them", "[encoder]") {
  const std::vector<std::string> sentences = {"a much longer sentence than the others",
                                              "hi",
                                              "",
                                              "the cat sat on the mat",
                                              "x",
                                              "two words"};
  Encoder encoder(tiny_model(), EncoderOptions{Precision::kFp32, 1, 2, {}});
  for (int batch : {1, 3, 2, 8}) {
    for (std::optional<bool> normalize : {std::optional<bool>{}, std::optional<bool>{false}}) {
      encoder.set_batch_size(batch);
      encoder.set_normalize(normalize);
      Encoder fresh(tiny_model(), EncoderOptions{Precision::kFp32, 1, batch, normalize});
      CHECK(encoder.options().batch_size == batch);
      CHECK(encoder.options().normalize == normalize);
      const auto got = encoder.encode(sentences), expected = fresh.encode(sentences);
      REQUIRE(got.size() == expected.size());
      for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == Approx(expected[i]).margin(1e-6));
    }
  }
  CHECK_THROWS_AS(encoder.set_batch_size(0), UsageError);
  CHECK_THROWS_AS(encoder.set_batch_size(kMaxBatchSize + 1), UsageError);
}

TEST_CASE("pair_cosines is the cosine of each pair's embeddings", "[pair_scoring]") {
  Encoder encoder(tiny_model(), EncoderOptions{Precision::kFp32, 1, 4, {}});
  const std::vector<std::string> a = {"the cat sat", "hi", "a dog runs"},
                                 b = {"a cat sits", "hello there", "a dog runs"};
  const auto cosines = pair_cosines(encoder, a, b);
  REQUIRE(cosines.size() == 3);
  const int C = encoder.dim();
  for (std::size_t i = 0; i < 3; ++i) {
    const auto va = encoder.encode({a[i]}), vb = encoder.encode({b[i]});
    CHECK(cosines[i] == Approx(cosine(va.data(), vb.data(), C)).margin(1e-5));
    CHECK(sentence_cosine(encoder, a[i], b[i]) == Approx(cosines[i]).margin(1e-6));
  }
  CHECK(cosines[2] == Approx(1.0).margin(1e-5));
  CHECK(pair_cosines(encoder, {}, {}).empty());
  CHECK_THROWS_AS(pair_cosines(encoder, a, {"one"}), UsageError);
}
