// Retrieval evaluation (retrieval.h) on hand-built score matrices, vectors and
// pairs whose recall@1, recall@10 and MRR are known exactly.
#include <catch2/catch.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/corpus.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/retrieval.h"
#include "sentemb/similarity.h"
#include "test_util.h"

using namespace sentemb;

TEST_CASE("rank_of_correct counts ties against the query", "[retrieval]") {
  const std::vector<float> s = {0.2f, 0.8f, 0.5f, 0.8f};
  CHECK(rank_of_correct(s.data(), 4, 1) == 2);  // c3 ties with it
  CHECK(rank_of_correct(s.data(), 4, 3) == 2);
  CHECK(rank_of_correct(s.data(), 4, 2) == 3);
  CHECK(rank_of_correct(s.data(), 4, 0) == 4);
  const std::vector<float> equal = {1, 1, 1};
  CHECK(rank_of_correct(equal.data(), 3, 0) == 3);
  CHECK_THROWS_AS(rank_of_correct(s.data(), 4, 4), UsageError);
}

TEST_CASE("recall@k and MRR", "[retrieval]") {
  const std::vector<std::size_t> ranks = {1, 3, 1, 12};
  CHECK(recall_at_k(ranks, 1) == Approx(0.5));
  CHECK(recall_at_k(ranks, 3) == Approx(0.75));
  CHECK(recall_at_k(ranks, 10) == Approx(0.75));
  CHECK(recall_at_k(ranks, 12) == Approx(1.0));
  CHECK(mean_reciprocal_rank(ranks) == Approx((1 + 1.0 / 3 + 1 + 1.0 / 12) / 4));
  CHECK(recall_at_k({}, 1) == 0);
  CHECK(mean_reciprocal_rank({}) == 0);
}

TEST_CASE("retrieval_metrics from a score matrix", "[retrieval]") {
  // 3 queries × 3 candidates; correct = diagonal.
  const std::vector<float> s = {0.9f, 0.1f, 0.3f,   // q0: correct best, rank 1
                                0.7f, 0.6f, 0.65f,  // q1: correct last, rank 3
                                0.2f, 0.5f, 0.4f};  // q2: rank 2
  RetrievalMetrics m = retrieval_metrics(s.data(), 3, 3, {0, 1, 2});
  CHECK(m.queries == 3);
  CHECK(m.recall_at_1 == Approx(1.0 / 3));
  CHECK(m.recall_at_10 == Approx(1.0));
  CHECK(m.mrr == Approx((1 + 1.0 / 3 + 0.5) / 3));
  CHECK_THROWS_AS(retrieval_metrics(s.data(), 3, 3, {0, 1}), UsageError);
}

TEST_CASE("retrieval_metrics: a correct answer ranked 11th misses recall@10", "[retrieval]") {
  // 4 queries over the same 12 candidates scored 0, 1, ..., 11 (candidate 11 best).
  std::vector<float> s;
  for (int q = 0; q < 4; ++q)
    for (int j = 0; j < 12; ++j) s.push_back(static_cast<float>(j));
  // correct 0 → rank 12, 11 → rank 1, 1 → rank 11, 2 → rank 10.
  const RetrievalMetrics m = retrieval_metrics(s.data(), 4, 12, {0, 11, 1, 2});
  CHECK(m.queries == 4);
  CHECK(m.recall_at_1 == 0.25);
  CHECK(m.recall_at_10 == 0.5);
  CHECK(m.mrr == Approx((1.0 / 12 + 1 + 1.0 / 11 + 1.0 / 10) / 4));
}

TEST_CASE("ranks_of_correct ranks by dot product, block by block", "[retrieval]") {
  // Candidates c0 = (1, 0), c1 = (0, 1), c2 = (-1, 0); every query is (1, 0), so
  // it scores them 1, 0, -1: correct c0 is rank 1, c1 rank 2, c2 rank 3.
  const std::vector<float> c = {1, 0, 0, 1, -1, 0};
  SECTION("a few queries") {
    const std::vector<float> q = {1, 0, 1, 0, 1, 0};
    CHECK(ranks_of_correct(q.data(), 3, c.data(), 3, 2, {2, 0, 1}) ==
          std::vector<std::size_t>{3, 1, 2});
  }
  SECTION("more queries than one block of 512") {
    const std::size_t nq = 1100;
    std::vector<float> q;
    std::vector<std::size_t> correct;
    for (std::size_t i = 0; i < nq; ++i) {
      q.insert(q.end(), {1.0f, 0.0f});
      correct.push_back(i % 3);
    }
    const std::vector<std::size_t> ranks = ranks_of_correct(q.data(), nq, c.data(), 3, 2, correct);
    REQUIRE(ranks.size() == nq);
    for (std::size_t i = 0; i < nq; ++i) REQUIRE(ranks[i] == i % 3 + 1);
    // 367 queries of rank 1, 367 of rank 2, 366 of rank 3.
    const RetrievalMetrics m = retrieval_metrics(ranks);
    CHECK(m.recall_at_1 == Approx(367.0 / 1100));
    CHECK(m.recall_at_10 == 1.0);
    CHECK(m.mrr == Approx((367 + 367 / 2.0 + 366 / 3.0) / 1100));
  }
  SECTION("no queries, and bad arguments") {
    CHECK(ranks_of_correct(nullptr, 0, c.data(), 3, 2, {}).empty());
    const std::vector<float> q = {1, 0};
    CHECK_THROWS_AS(ranks_of_correct(q.data(), 1, c.data(), 3, 2, {}), UsageError);
    CHECK_THROWS_AS(ranks_of_correct(q.data(), 1, c.data(), 3, 2, {3}), UsageError);
  }
}

TEST_CASE("retrieval_set_from_pairs: distinct second columns, first-seen order", "[retrieval]") {
  std::vector<Record> pairs(4);
  pairs[0].a = "q1", pairs[0].b = "x";
  pairs[1].a = "q2", pairs[1].b = "y";
  pairs[2].a = "q3", pairs[2].b = "x";
  pairs[3].a = "q4", pairs[3].b = "z";
  const RetrievalSet set = retrieval_set_from_pairs(pairs);
  CHECK(set.queries == std::vector<std::string>{"q1", "q2", "q3", "q4"});
  CHECK(set.candidates == std::vector<std::string>{"x", "y", "z"});
  CHECK(set.correct == std::vector<std::size_t>{0, 1, 0, 2});
}

TEST_CASE("read_retrieval_set reads pairs, ignores extra columns, rejects an empty file",
          "[retrieval]") {
  test::TempDir dir;
  const std::string path = dir.file("pairs.tsv");
  test::write_file(path, "a\tb\textra\nc\tb\n");
  const RetrievalSet set = read_retrieval_set(path);
  CHECK(set.queries == std::vector<std::string>{"a", "c"});
  CHECK(set.candidates == std::vector<std::string>{"b"});
  CHECK(set.correct == std::vector<std::size_t>{0, 0});

  const std::string empty = dir.file("empty.tsv");
  test::write_file(empty, "");
  CHECK_THROWS_WITH(read_retrieval_set(empty), empty + ": no pairs to evaluate");
}

TEST_CASE("evaluate_retrieval: each query finds its own sentence first", "[retrieval]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  RetrievalSet set;
  set.candidates = {"the cat sat on the mat", "a dog ran in the park", "hello world",
                    "the weather is nice today"};
  set.queries = {"hello world", "the cat sat on the mat", "the weather is nice today"};
  set.correct = {2, 0, 3};
  std::size_t progress = 0;
  const RetrievalMetrics m =
      evaluate_retrieval(encoder, set, [&](std::size_t n) { progress += n; });
  CHECK(progress == 7);
  CHECK(m.queries == 3);
  CHECK(m.recall_at_1 == 1.0);
  CHECK(m.recall_at_10 == 1.0);
  CHECK(m.mrr == 1.0);

  // Pointing each query at another candidate: the same as the full score matrix.
  set.correct = {0, 1, 2};
  const std::vector<float> q = encoder.encode(set.queries), c = encoder.encode(set.candidates);
  std::vector<float> scores(3 * 4);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      scores[i * 4 + j] =
          cosine(q.data() + i * encoder.dim(), c.data() + j * encoder.dim(), encoder.dim());
  const RetrievalMetrics expected = retrieval_metrics(scores.data(), 3, 4, set.correct);
  const RetrievalMetrics got = evaluate_retrieval(encoder, set);
  CHECK(got.recall_at_1 == expected.recall_at_1);
  CHECK(got.recall_at_10 == expected.recall_at_10);
  CHECK(got.mrr == Approx(expected.mrr));
  CHECK(got.recall_at_1 == 0.0);  // the correct sentence is always another one
}
