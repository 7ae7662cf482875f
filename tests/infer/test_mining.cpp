// Hard-negative mining (mining.h) on a hand-built case: 2-d unit vectors at
// known angles from the anchor, so every score and rank is known. The corpus
// holds the anchor's own positive, the anchor itself, another positive of the
// anchor, a near-duplicate of the positive (which a margin must drop) and four
// true hard negatives in a known order.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/mining.h"
#include "sentemb/search.h"
#include "sentemb/vector_io.h"

using namespace sentemb;

namespace {

const std::string kAnchor = "the anchor";
const std::string kPositive = "the positive";
const std::string kOther = "another positive of the anchor";

// Corpus lines and their angle (degrees) from the anchor: score = cos(angle).
struct Line {
  std::string text;
  double degrees;
};
const std::vector<Line> kCorpus = {
    {"far away", 120}, {"hard 3", 50}, {kPositive, 10}, {"hard 1", 30}, {"near duplicate", 12},
    {kAnchor, 0},      {"hard 4", 60}, {kOther, 5},     {"hard 2", 40},
};

std::vector<float> unit(double degrees) {
  const double r = degrees * M_PI / 180.0;
  return {static_cast<float>(std::cos(r)), static_cast<float>(std::sin(r))};
}

struct Case {
  MiningCorpus corpus;
  VectorMatrix vectors;
  std::vector<Record> pairs;
  std::vector<float> anchors, positives;
};

Case make_case() {
  Case c;
  std::vector<std::string> lines;
  c.vectors.dim = 2;
  for (const auto& line : kCorpus) {
    lines.push_back(line.text);
    for (float x : unit(line.degrees)) c.vectors.data.push_back(x);
  }
  c.vectors.rows = lines.size();
  Record first, second;
  first.a = kAnchor;
  first.b = kPositive;
  second.a = kAnchor;
  second.b = kOther;
  c.pairs = {first, second};
  c.corpus = make_mining_corpus(lines, c.pairs);
  for (double deg : {0.0, 0.0}) {
    for (float x : unit(deg)) c.anchors.push_back(x);
  }
  for (double deg : {10.0, 5.0}) {
    for (float x : unit(deg)) c.positives.push_back(x);
  }
  return c;
}

// The negatives chosen for the first pair (anchor, positive at 10 degrees).
std::vector<std::string> negatives(const MiningOptions& options, std::size_t pair_index = 0) {
  const Case c = make_case();
  MiningCounts counts;
  std::vector<std::string> out;
  std::vector<Record> one = {c.pairs[0]};
  mine_window(
      one, c.anchors.data(), c.positives.data(), pair_index, c.corpus, c.vectors, options,
      [&](const std::string& a, const std::string& p, const std::string& n, float) {
        CHECK(a == kAnchor);
        CHECK(p == kPositive);
        out.push_back(n);
      },
      counts);
  return out;
}

using Texts = std::vector<std::string>;

}  // namespace

TEST_CASE("mining skips the own positive, the anchor and its other positives", "[mining]") {
  MiningOptions o;
  // No margin: the near-duplicate of the positive is the hardest admissible one.
  CHECK(negatives(o) == Texts{"near duplicate"});
  o.num_negatives = 3;
  CHECK(negatives(o) == Texts{"near duplicate", "hard 1", "hard 2"});
}

TEST_CASE("an absolute margin drops candidates above positive - margin", "[mining]") {
  MiningOptions o;
  o.absolute_margin = 0.1f;  // positive cos 10° = 0.985: drops > 0.885 (near duplicate 0.978)
  CHECK(negatives(o) == Texts{"hard 1"});
  o.num_negatives = 3;
  CHECK(negatives(o) == Texts{"hard 1", "hard 2", "hard 3"});
  o.absolute_margin = 0.2f;  // drops > 0.785: hard 1 (0.866) too
  CHECK(negatives(o) == Texts{"hard 2", "hard 3", "hard 4"});
}

TEST_CASE("a relative margin drops candidates above (1 - m) x positive", "[mining]") {
  MiningOptions o;
  o.relative_margin = 0.05f;  // drops > 0.936: the near duplicate
  CHECK(negatives(o) == Texts{"hard 1"});
  o.relative_margin = 0.15f;  // drops > 0.837: hard 1 too
  o.num_negatives = 2;
  CHECK(negatives(o) == Texts{"hard 2", "hard 3"});
  o.relative_margin = 0.99f;  // drops > 0.00985: everything but "far away" (-0.5)
  CHECK(negatives(o) == Texts{"far away"});
}

TEST_CASE("the rank window counts admissible candidates only", "[mining]") {
  MiningOptions o;
  o.absolute_margin = 0.1f;  // admissible: hard 1, 2, 3, 4, far away (ranks 0..4)
  o.range_min = 1;
  o.range_max = 3;
  o.num_negatives = 5;  // more than the window holds: all of it
  CHECK(negatives(o) == Texts{"hard 2", "hard 3"});
  o.range_min = 4;
  o.range_max = 50;
  CHECK(negatives(o) == Texts{"far away"});
  o.range_min = 5;  // nothing left at rank 5
  CHECK(negatives(o).empty());
}

TEST_CASE("random sampling is seeded, within the window and best first", "[mining]") {
  MiningOptions o;
  o.absolute_margin = 0.1f;
  o.range_max = 4;  // hard 1..4
  o.num_negatives = 2;
  o.sampling = NegativeSampling::kRandom;
  const Texts window = {"hard 1", "hard 2", "hard 3", "hard 4"};
  std::set<Texts> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    o.seed = seed;
    const Texts chosen = negatives(o);
    CHECK(chosen == negatives(o));  // the same seed, the same choice
    REQUIRE(chosen.size() == 2);
    // Both in the window, in rank order.
    const auto i = std::find(window.begin(), window.end(), chosen[0]);
    const auto j = std::find(window.begin(), window.end(), chosen[1]);
    CHECK(i < j);
    CHECK(j != window.end());
    seen.insert(chosen);
  }
  CHECK(seen.size() > 2);  // seeds differ in what they choose
  // The pair's position in the file keys the choice too.
  o.seed = 7;
  std::set<Texts> by_position;
  for (std::size_t pair = 0; pair < 20; ++pair) by_position.insert(negatives(o, pair));
  CHECK(by_position.size() > 2);
  // A window no larger than num_negatives is taken whole, whatever the seed.
  o.num_negatives = 4;
  CHECK(negatives(o) == window);
}

TEST_CASE("mine_window writes triplets in pair order and counts anchors left out", "[mining]") {
  const Case c = make_case();
  MiningOptions o;
  o.absolute_margin = 0.1f;
  std::vector<std::array<std::string, 3>> triplets;
  MiningCounts counts;
  mine_window(
      c.pairs, c.anchors.data(), c.positives.data(), 0, c.corpus, c.vectors, o,
      [&](const std::string& a, const std::string& p, const std::string& n, float score) {
        triplets.push_back({a, p, n});
        CHECK(score < 0.9f);
      },
      counts);
  // Pair 2 (positive at 5°, 0.996: drops > 0.896): the near duplicate (0.978) goes,
  // and neither positive of the anchor is mined for it.
  REQUIRE(triplets.size() == 2);
  CHECK(triplets[0] == std::array<std::string, 3>{kAnchor, kPositive, "hard 1"});
  CHECK(triplets[1] == std::array<std::string, 3>{kAnchor, kOther, "hard 1"});
  CHECK(counts.pairs == 2);
  CHECK(counts.triplets == 2);
  CHECK(counts.without_negative == 0);

  o.absolute_margin = 2.0f;  // drops everything
  MiningCounts none;
  mine_window(
      c.pairs, c.anchors.data(), c.positives.data(), 0, c.corpus, c.vectors, o,
      [](const std::string&, const std::string&, const std::string&, float) { FAIL(); }, none);
  CHECK(none.pairs == 2);
  CHECK(none.triplets == 0);
  CHECK(none.without_negative == 2);
}

TEST_CASE("make_mining_corpus deduplicates lines and drops empty ones", "[mining]") {
  const MiningCorpus c = make_mining_corpus({"b", "a", "", "b", "c", "a"}, {});
  CHECK(c.lines == Texts{"b", "a", "c"});
}

TEST_CASE("mining options out of range are usage errors naming the option", "[mining]") {
  auto message = [](const MiningOptions& o) {
    try {
      check_mining_options(o);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  MiningOptions o;
  CHECK(message(o).empty());
  o.num_negatives = 0;
  CHECK_THAT(message(o), Catch::Contains("--num-negatives"));
  o = {};
  o.range_min = 10;
  o.range_max = 5;
  CHECK_THAT(message(o), Catch::Contains("--range-min") && Catch::Contains("--range-max"));
  o.range_max = 10;
  CHECK_THAT(message(o), Catch::Contains("--range-min"));
  o = {};
  o.absolute_margin = -0.1f;
  CHECK_THAT(message(o), Catch::Contains("--margin"));
  o.absolute_margin = 2.5f;
  CHECK_THAT(message(o), Catch::Contains("--margin"));
  o = {};
  o.relative_margin = 1.0f;
  CHECK_THAT(message(o), Catch::Contains("--relative-margin"));
  o.relative_margin = -0.5f;
  CHECK_THAT(message(o), Catch::Contains("--relative-margin"));
  CHECK_THROWS_AS(negative_sampling_from_string("best"), UsageError);
}

TEST_CASE("mine_hard_negatives gives the same triplets whatever the window", "[mining]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  const std::string pairs = test::data_path("mine/pairs.tsv");
  const MiningCorpus corpus = read_mining_corpus(pairs, test::data_path("mine/corpus.txt"));
  REQUIRE(corpus.lines.size() == 10);
  REQUIRE(corpus.pairs == 8);
  const VectorMatrix vectors = encode_corpus(encoder, corpus.lines);
  MiningOptions o;
  o.num_negatives = 2;
  o.range_max = 5;
  o.sampling = NegativeSampling::kRandom;
  o.seed = 11;
  auto run = [&](std::size_t window, std::size_t* progress) {
    o.window = window;
    std::vector<std::string> out;
    const MiningCounts counts = mine_hard_negatives(
        encoder, pairs, corpus, vectors, o,
        [&](const std::string& a, const std::string& p, const std::string& n, float) {
          CHECK(n != a);
          CHECK(n != p);
          out.push_back(a + "\t" + p + "\t" + n);
        },
        [&](std::size_t n) { *progress += n; });
    CHECK(counts.pairs == 8);
    CHECK(counts.triplets == out.size());
    return out;
  };
  std::size_t done_whole = 0, done_windows = 0;
  const auto whole = run(kEncodeWindow, &done_whole);
  CHECK(whole.size() == 16);  // 2 of 5 admissible candidates for each of the 8 pairs
  CHECK(run(3, &done_windows) == whole);
  CHECK(done_whole == 8);
  CHECK(done_windows == 8);
}
