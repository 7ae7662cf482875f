// An encoder's OpenMP thread count holds for its own calls only (issue 17): two
// encoders with different counts take turns on one thread, threads = 0 keeps the
// constructing thread's default, and the caller's own count is left as it was.
// The evidence is timing-free: a test hook runs inside each encoder call and gets
// omp_get_max_threads() there (what oneDNN's OpenMP runtime sizes its teams from)
// and the size of a parallel team the encoder's code starts there.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>
#include <vector>

#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "test_models.h"

namespace {

using namespace sentemb;

struct Seen {
  int max_threads = -1;  // omp_get_max_threads() inside the call
  int team = -1;         // omp_get_num_threads() in a parallel region opened there
};
std::vector<Seen> seen;

void record(int max_threads, int team_size) {
  seen.push_back({max_threads, team_size});
}

struct HookScope {
  HookScope() {
    seen.clear();
    detail::encoder_call_hook = record;
  }
  ~HookScope() { detail::encoder_call_hook = nullptr; }
};

// The calls' observations: one Seen per encode call (the last one recorded).
Seen encode_and_observe(Encoder& encoder) {
  seen.clear();
  const auto out = encoder.encode({"a short sentence", "another one, a little longer"});
  REQUIRE(out.size() == 2 * static_cast<std::size_t>(encoder.dim()));
  REQUIRE(seen.size() == 1);
  return seen.back();
}

}  // namespace

TEST_CASE("each encoder's calls run with its own OpenMP thread count", "[encoder][threads]") {
  // ctest runs every test with OMP_NUM_THREADS=1; the caller here chooses 3, as a
  // program on a 3-core machine would have by default.
  const int before = omp_get_max_threads();
  omp_set_dynamic(0);
  omp_set_num_threads(3);
  HookScope hook;

  EncoderOptions one, two, all;
  one.threads = 1;
  two.threads = 2;
  all.threads = 0;
  Encoder e1(test::tiny_model(), one);
  CHECK(omp_get_max_threads() == 3);  // construction does not leak its count either
  Encoder e2(test::tiny_model(), two);
  CHECK(omp_get_max_threads() == 3);

  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    Seen s = encode_and_observe(e1);
    CHECK(s.max_threads == 1);
    CHECK(s.team == 1);
    CHECK(omp_get_max_threads() == 3);
    s = encode_and_observe(e2);
    CHECK(s.max_threads == 2);
    CHECK(s.team == 2);
    CHECK(omp_get_max_threads() == 3);
  }

  // threads = 0 after a 1-thread encoder: the default (here the caller's 3) again.
  Encoder e0(test::tiny_model(), all);
  Seen s = encode_and_observe(e0);
  CHECK(s.max_threads == 3);
  CHECK(s.team == 3);
  CHECK(omp_get_max_threads() == 3);
  s = encode_and_observe(e1);
  CHECK(s.max_threads == 1);
  s = encode_and_observe(e0);
  CHECK(s.max_threads == 3);

  // encode_ids too.
  seen.clear();
  std::vector<float> out(2 * static_cast<std::size_t>(e2.dim()));
  e2.encode_ids({{Tokenizer::kBosId, 5, 6}, {Tokenizer::kBosId}}, out.data());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].max_threads == 2);
  CHECK(omp_get_max_threads() == 3);

  omp_set_num_threads(before);
}

TEST_CASE("encoders on different threads, each created on its own, run concurrently",
          "[encoder][threads]") {
  // The supported way to serve from worker threads (encoder.h): one Encoder per
  // thread, created, used and destroyed there. Results match a single thread's.
  const std::vector<std::string> texts = {"the first sentence", "a second, longer sentence here",
                                          "", "short"};
  std::vector<float> expected;
  {
    Encoder encoder(test::tiny_model());
    expected = encoder.encode(texts);
  }
  constexpr int kWorkers = 3;
  std::vector<std::vector<float>> results(kWorkers);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      EncoderOptions options;
      options.threads = 1 + w % 2;
      Encoder encoder(test::tiny_model(), options);
      for (int round = 0; round < 20; ++round) results[w] = encoder.encode(texts);
    });
  }
  for (auto& t : workers) t.join();
  for (int w = 0; w < kWorkers; ++w) {
    INFO("worker " << w);
    REQUIRE(results[w].size() == expected.size());
    float most = 0;
    for (std::size_t i = 0; i < expected.size(); ++i)
      most = std::max(most, std::abs(results[w][i] - expected[i]));
    CHECK(most < 1e-5f);
  }
}

TEST_CASE("a batch size beyond kMaxBatchSize is a usage error", "[encoder]") {
  EncoderOptions options;
  options.batch_size = kMaxBatchSize + 1;
  CHECK_THROWS_AS(Encoder(test::tiny_model(), options), UsageError);
  options.batch_size = 0;
  CHECK_THROWS_AS(Encoder(test::tiny_model(), options), UsageError);
}
