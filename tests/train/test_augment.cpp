// --augment: token deletion and span cropping on token ids.
#include <catch2/catch.hpp>
#include <numeric>
#include <set>

#include "sentemb/errors.h"
#include "train/augment.h"

using namespace sentemb::train;

namespace {

std::vector<int> sentence(int n) {  // BOS (1) then tokens 100..100+n-1
  std::vector<int> ids{1};
  for (int i = 0; i < n; ++i) ids.push_back(100 + i);
  return ids;
}

bool is_subsequence(const std::vector<int>& sub, const std::vector<int>& of) {
  std::size_t j = 0;
  for (int v : of)
    if (j < sub.size() && sub[j] == v) ++j;
  return j == sub.size();
}

}  // namespace

TEST_CASE("augment spec: rates parsed, bad parts named", "[train][augment]") {
  const auto o = augment_options_from_string("delete:0.1,crop:0.25");
  CHECK(o.delete_rate == Approx(0.1f));
  CHECK(o.crop_rate == Approx(0.25f));
  CHECK(augment_options_from_string("crop:0.5").delete_rate == 0);
  for (const std::string bad : {"delete", "delete:1", "delete:-0.1", "drop:0.1", "crop:x", ""}) {
    INFO(bad);
    CHECK_THROWS_WITH(augment_options_from_string(bad), Catch::Contains("--augment"));
  }
}

TEST_CASE("augment: deletion keeps BOS, order and about 1 - rate of the tokens",
          "[train][augment]") {
  AugmentOptions o;
  o.delete_rate = 0.3f;
  const auto ids = sentence(20);
  std::size_t kept = 0, draws = 2000;
  for (std::uint64_t k = 0; k < draws; ++k) {
    const auto a = augment(ids, o, augment_key(42, 7, static_cast<std::int64_t>(k)));
    REQUIRE(a.size() >= 2);
    REQUIRE(a[0] == 1);
    REQUIRE(is_subsequence(a, ids));
    kept += a.size() - 1;
  }
  CHECK(double(kept) / (draws * 20) == Approx(0.7).margin(0.02));
}

TEST_CASE("augment: cropping keeps one contiguous span of (1 - rate) of the tokens",
          "[train][augment]") {
  AugmentOptions o;
  o.crop_rate = 0.25f;
  const auto ids = sentence(8);
  std::set<int> starts;
  for (std::int64_t row = 0; row < 200; ++row) {
    const auto a = augment(ids, o, augment_key(1, 0, row));
    REQUIRE(a.size() == 1 + 6);
    CHECK(a[0] == 1);
    for (std::size_t i = 2; i < a.size(); ++i) CHECK(a[i] == a[i - 1] + 1);
    starts.insert(a[1]);
  }
  CHECK(starts == std::set<int>{100, 101, 102});  // every start of a 6-token span of 8
}

TEST_CASE("augment: keyed, deterministic, never empty, identity at rate 0", "[train][augment]") {
  AugmentOptions o;
  o.delete_rate = 0.5f;
  o.crop_rate = 0.5f;
  const auto ids = sentence(30);
  CHECK(augment(ids, o, augment_key(3, 5, 2)) == augment(ids, o, augment_key(3, 5, 2)));
  CHECK(augment(ids, o, augment_key(3, 5, 2)) != augment(ids, o, augment_key(3, 5, 3)));
  CHECK(augment(ids, o, augment_key(3, 5, 2)) != augment(ids, o, augment_key(3, 6, 2)));
  o.delete_rate = 0.99f;
  for (std::int64_t row = 0; row < 100; ++row)
    CHECK(augment(sentence(1), o, augment_key(3, 5, row)) == sentence(1));
  CHECK(augment(ids, AugmentOptions{}, 7) == ids);
  CHECK(augment(std::vector<int>{1}, o, 7) == std::vector<int>{1});
}
