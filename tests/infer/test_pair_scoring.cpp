// Cosines of sentence pairs and the STS evaluation (pair_scoring.h), on pairs
// whose answers are known: identical sentences score 1, and with ties at the top
// Spearman has a closed form.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/corpus.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/pair_scoring.h"
#include "sentemb/similarity.h"
#include "test_util.h"

using namespace sentemb;

TEST_CASE("sentence_cosine: 1 for a sentence and itself, else the vectors' cosine",
          "[pair_scoring]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  CHECK(sentence_cosine(encoder, "hello world", "hello world") == Approx(1.0).margin(1e-6));
  const std::vector<float> v = encoder.encode({"the cat sat", "a dog ran"});
  CHECK(sentence_cosine(encoder, "the cat sat", "a dog ran") ==
        Approx(cosine(v.data(), v.data() + encoder.dim(), encoder.dim())).margin(1e-6));
}

TEST_CASE("for_each_pair_window gives each pair's cosine in input order", "[pair_scoring]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  test::TempDir dir;
  const std::string path = dir.file("pairs.tsv");
  test::write_file(path, "hello world\thello world\nthe cat sat\ta dog ran\nsame\tsame\n");
  CorpusReader reader(path, CorpusFormat::kPairs);
  std::vector<std::string> firsts;
  std::vector<double> cosines;
  int windows = 0;
  for_each_pair_window(reader, encoder, [&](const auto& records, const auto& c) {
    ++windows;
    for (const auto& r : records) firsts.push_back(r.a);
    cosines.insert(cosines.end(), c.begin(), c.end());
  });
  CHECK(windows == 1);
  CHECK(firsts == std::vector<std::string>{"hello world", "the cat sat", "same"});
  REQUIRE(cosines.size() == 3);
  CHECK(cosines[0] == Approx(1.0).margin(1e-6));
  CHECK(cosines[1] == Approx(sentence_cosine(encoder, "the cat sat", "a dog ran")).margin(1e-6));
  CHECK(cosines[2] == Approx(1.0).margin(1e-6));
}

TEST_CASE("evaluate_sts: identical pairs on top give Spearman sqrt(32/37)", "[pair_scoring]") {
  // 4 identical pairs (gold 5, cosine 1) and 4 different ones (gold 0, cosine
  // below 1 and distinct): average ranks make Spearman exactly sqrt(32/37)
  // (tests/data/cli/README.md).
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  std::size_t progress = 0;
  const StsResult r = evaluate_sts(encoder, test::data_path("cli/sts_identical.tsv"),
                                   [&](std::size_t n) { progress += n; });
  CHECK(r.pairs == 8);
  CHECK(progress == 8);
  CHECK(r.spearman == Approx(std::sqrt(32.0 / 37.0)).margin(1e-6));
  CHECK(r.pearson > 0.0);
}

TEST_CASE("evaluate_sts: one pair leaves the correlations undefined, none is an error",
          "[pair_scoring]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  test::TempDir dir;
  const std::string one = dir.file("one.tsv"), empty = dir.file("empty.tsv");
  test::write_file(one, "3.5\ta cat\ta dog\n");
  test::write_file(empty, "");
  const StsResult r = evaluate_sts(encoder, one);
  CHECK(r.pairs == 1);
  CHECK(std::isnan(r.spearman));
  CHECK(std::isnan(r.pearson));
  CHECK_THROWS_AS(evaluate_sts(encoder, empty), Error);
  CHECK_THROWS_WITH(evaluate_sts(encoder, empty), empty + ": no STS pairs to evaluate");
}
