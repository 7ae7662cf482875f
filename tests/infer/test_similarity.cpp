// Similarity and correlation statistics against values computed by hand
// (retrieval metrics: test_retrieval.cpp; top-k: test_search.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/similarity.h"

using namespace sentemb;

TEST_CASE("dot and cosine", "[similarity]") {
  const std::vector<float> a = {1, 2, 2}, b = {2, 0, 0}, c = {-2, -4, -4}, zero = {0, 0, 0};
  CHECK(dot(a.data(), b.data(), 3) == 2.0f);
  // |a| = 3, |b| = 2: 2 / 6.
  CHECK(cosine(a.data(), b.data(), 3) == Approx(1.0 / 3.0));
  CHECK(cosine(a.data(), a.data(), 3) == Approx(1.0));
  CHECK(cosine(a.data(), c.data(), 3) == Approx(-1.0));
  CHECK(cosine(a.data(), zero.data(), 3) == 0.0f);
}

TEST_CASE("l2_normalize_rows scales rows to unit length, leaves zero rows", "[similarity]") {
  std::vector<float> rows = {3, 4, 0, 0, 0, -2};
  l2_normalize_rows(rows.data(), 3, 2);
  CHECK(rows[0] == Approx(0.6));
  CHECK(rows[1] == Approx(0.8));
  CHECK(rows[2] == 0.0f);
  CHECK(rows[3] == 0.0f);
  CHECK(rows[4] == 0.0f);
  CHECK(rows[5] == Approx(-1.0));
}

TEST_CASE("dot_scores is the query × candidate product", "[similarity]") {
  const std::vector<float> q = {1, 0, 2,    // q0
                                0, 1, -1};  // q1
  const std::vector<float> c = {1,  1, 1,   // c0
                                2,  0, 0,   // c1
                                0,  3, 1,   // c2
                                -1, 0, 1};  // c3
  std::vector<float> s(2 * 4);
  dot_scores(q.data(), 2, c.data(), 4, 3, s.data());
  CHECK(s == std::vector<float>{3, 2, 2, 1,  //
                                0, 0, 2, -1});
}

TEST_CASE("pearson", "[similarity]") {
  // x̄ = 2.5, ȳ = 5: Σdxdy = 1.5·... computed: dx = {-1.5,-0.5,0.5,1.5},
  // dy = {-3,-1,-2,6}: Σdxdy = 4.5+0.5-1+9 = 13, Σdx² = 5, Σdy² = 50,
  // r = 13 / sqrt(250) = 0.822192...
  CHECK(pearson({1, 2, 3, 4}, {2, 4, 3, 11}) == Approx(13.0 / std::sqrt(250.0)));
  CHECK(pearson({1, 2, 3}, {10, 20, 30}) == Approx(1.0));
  CHECK(pearson({1, 2, 3}, {3, 2, 1}) == Approx(-1.0));
  CHECK(std::isnan(pearson({1, 2, 3}, {5, 5, 5})));  // constant side
  CHECK(std::isnan(pearson({1}, {2})));
  CHECK_THROWS_AS(pearson({1, 2}, {1, 2, 3}), UsageError);
}

TEST_CASE("average_ranks gives tied values the mean rank", "[similarity]") {
  CHECK(average_ranks({10, 20, 20, 30}) == std::vector<double>{1, 2.5, 2.5, 4});
  CHECK(average_ranks({3, 1, 2}) == std::vector<double>{3, 1, 2});
  CHECK(average_ranks({5, 5, 5}) == std::vector<double>{2, 2, 2});
  CHECK(average_ranks({0.5, -1, 0.5, 0.5, 7}) == std::vector<double>{3, 1, 3, 3, 5});
  CHECK(average_ranks({}).empty());
}

TEST_CASE("spearman", "[similarity]") {
  // Monotone but not linear: rank correlation is exactly 1.
  CHECK(spearman({1, 2, 3, 4}, {1, 8, 27, 1000}) == Approx(1.0));
  CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  // No ties: ranks x = {1,2,3,4}, y = {2,1,4,3}; d² sum = 4, ρ = 1 - 6·4/(4·15) = 0.6.
  CHECK(spearman({10, 20, 30, 40}, {0.2, 0.1, 0.9, 0.5}) == Approx(0.6));
  // Ties: ranks x = {1, 2.5, 2.5, 4}, y = {1,2,3,4}. Pearson of the ranks:
  // dx = {-1.5,0,0,1.5}, dy = {-1.5,-0.5,0.5,1.5}: Σdxdy = 4.5, Σdx² = 4.5,
  // Σdy² = 5, ρ = 4.5 / sqrt(22.5) = 0.948683...
  CHECK(spearman({1, 2, 2, 3}, {1, 2, 3, 4}) == Approx(4.5 / std::sqrt(22.5)));
  CHECK(std::isnan(spearman({1, 1, 1}, {1, 2, 3})));
}
