// Encoding at a Matryoshka width (EncoderOptions::dim, `--dim K`): each vector's first
// K values, renormalised.
#include <catch2/catch.hpp>
#include <cmath>

#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "test_models.h"

using namespace sentemb;

TEST_CASE("encoding at width K gives the full vectors' first K values renormalised",
          "[encoder][matryoshka]") {
  const std::vector<std::string> sentences{"a short one", "another sentence here", "x"};
  Model model = test::tiny_model();
  const int C = model.config.dim, K = C / 2;
  Encoder full(model);
  const auto all = full.encode(sentences);
  EncoderOptions o;
  o.dim = K;
  Encoder prefix(model, o);
  REQUIRE(prefix.dim() == K);
  const auto some = prefix.encode(sentences);
  REQUIRE(some.size() == sentences.size() * K);
  std::vector<std::vector<int>> ids;
  for (const auto& s : sentences) ids.push_back(full.tokenizer().encode(s, model.config.max_len));
  std::vector<float> from_ids(sentences.size() * K);
  prefix.encode_ids(ids, from_ids.data());
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    double norm = 0;
    for (int c = 0; c < K; ++c) norm += double(all[i * C + c]) * all[i * C + c];
    norm = std::sqrt(norm);
    for (int c = 0; c < K; ++c) {
      CHECK(some[i * K + c] == Approx(all[i * C + c] / norm).margin(1e-6));
      CHECK(from_ids[i * K + c] == Approx(all[i * C + c] / norm).margin(1e-6));
    }
  }
  SECTION("without normalisation the prefix is not rescaled") {
    o.normalize = false;
    EncoderOptions raw_full;
    raw_full.normalize = false;
    const auto raw = Encoder(model, raw_full).encode(sentences);
    const auto cut = Encoder(model, o).encode(sentences);
    for (std::size_t i = 0; i < sentences.size(); ++i)
      for (int c = 0; c < K; ++c) CHECK(cut[i * K + c] == raw[i * C + c]);
  }
}

TEST_CASE("a width above the model's is an error, an untrained one a warning",
          "[encoder][matryoshka]") {
  Model model = test::tiny_model();
  const int C = model.config.dim;
  EncoderOptions o;
  o.dim = C + 1;
  CHECK_THROWS_AS(Encoder(model, o), UsageError);
  CHECK(matryoshka_warning(model.config, C) == "");
  CHECK(matryoshka_warning(model.config, 0) == "");
  CHECK_THAT(matryoshka_warning(model.config, C / 2), Catch::Contains("not trained"));
  model.config.matryoshka_dims = {C, C / 2};
  CHECK(matryoshka_warning(model.config, C / 2) == "");
  CHECK_THAT(matryoshka_warning(model.config, C / 4), Catch::Contains("trained for widths"));
}

TEST_CASE("set_dim changes the width of later calls as the option does", "[encoder][matryoshka]") {
  const std::vector<std::string> sentences{"a short one", "another sentence here"};
  Model model = test::tiny_model();
  const int C = model.config.dim, K = C / 4;
  EncoderOptions o;
  o.dim = K;
  const auto expected = Encoder(model, o).encode(sentences);
  Encoder encoder(model);
  const auto full = encoder.encode(sentences);
  encoder.set_dim(K);
  CHECK(encoder.dim() == K);
  CHECK(encoder.encode(sentences) == expected);
  CHECK_THROWS_AS(encoder.set_dim(C + 1), UsageError);
  CHECK_THROWS_AS(encoder.set_dim(-1), UsageError);
  CHECK(encoder.dim() == K);  // a refused width leaves the last one
  encoder.set_dim(0);
  CHECK(encoder.dim() == C);
  CHECK(encoder.encode(sentences) == full);
}
