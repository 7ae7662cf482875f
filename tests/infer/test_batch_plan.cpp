// plan_batches: where sentences sorted by length are cut into forward passes.
#include <catch2/catch.hpp>
#include <limits>
#include <random>

#include "batch_plan.h"

using sentemb::plan_batches;

namespace {

// The planner's cost of a set of cuts: per batch, the overhead plus its padded rows.
std::size_t cost_of(const std::vector<std::size_t>& lengths, const std::vector<std::size_t>& ends,
                    std::size_t overhead) {
  std::size_t cost = 0, start = 0;
  for (std::size_t end : ends) cost += overhead + (end - start) * lengths[end - 1], start = end;
  return cost;
}

// The cheapest cost over every way to cut (2^(n-1) of them) into batches of <= max_batch.
std::size_t brute_force_cost(const std::vector<std::size_t>& lengths, std::size_t max_batch,
                             std::size_t overhead) {
  const std::size_t n = lengths.size();
  std::size_t best = std::numeric_limits<std::size_t>::max();
  for (std::size_t mask = 0; mask < (std::size_t(1) << (n - 1)); ++mask) {
    std::vector<std::size_t> ends;
    for (std::size_t i = 1; i < n; ++i)
      if (mask >> (i - 1) & 1) ends.push_back(i);
    ends.push_back(n);
    bool fits = true;
    for (std::size_t k = 0, start = 0; k < ends.size(); start = ends[k++])
      fits &= ends[k] - start <= max_batch;
    if (fits) best = std::min(best, cost_of(lengths, ends, overhead));
  }
  return best;
}

void check_well_formed(const std::vector<std::size_t>& ends, std::size_t n, std::size_t max_batch) {
  REQUIRE(!ends.empty());
  CHECK(ends.back() == n);
  for (std::size_t k = 0, start = 0; k < ends.size(); start = ends[k++]) {
    CHECK(ends[k] > start);
    CHECK(ends[k] - start <= max_batch);
  }
}

}  // namespace

TEST_CASE("plan_batches: equal lengths fill whole batches", "[batch_plan]") {
  const std::vector<std::size_t> lengths(130, 12);
  const auto ends = plan_batches(lengths, 64, 32);
  check_well_formed(ends, lengths.size(), 64);
  CHECK(ends.size() == 3);  // no padding to save: as few passes as the batch size allows
}

TEST_CASE("plan_batches: cuts where the length jumps", "[batch_plan]") {
  std::vector<std::size_t> lengths(10, 5);
  lengths.insert(lengths.end(), 10, 100);
  CHECK(plan_batches(lengths, 64, 32) == std::vector<std::size_t>{10, 20});
  // A jump too small to pay for another pass is not cut.
  std::vector<std::size_t> close(10, 20);
  close.insert(close.end(), 10, 21);
  CHECK(plan_batches(close, 64, 32) == std::vector<std::size_t>{20});
}

TEST_CASE("plan_batches: no sentences give no batches, and max_batch 0 is refused", "[batch_plan]") {
  CHECK(plan_batches({}, 64, 32).empty());
  CHECK_THROWS_AS(plan_batches({3}, 0, 32), std::invalid_argument);
}

TEST_CASE("plan_batches finds the cheapest cuts (against every way to cut)", "[batch_plan]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + rng() % 12, max_batch = 1 + rng() % 6, overhead = rng() % 40;
    std::vector<std::size_t> lengths(n);
    for (auto& l : lengths) l = 1 + rng() % 60;
    std::sort(lengths.begin(), lengths.end());
    const auto ends = plan_batches(lengths, max_batch, overhead);
    check_well_formed(ends, n, max_batch);
    CHECK(cost_of(lengths, ends, overhead) == brute_force_cost(lengths, max_batch, overhead));
  }
}
