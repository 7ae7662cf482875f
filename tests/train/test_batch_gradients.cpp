// Gradient caching (--mini-batch): the gradient of a batch computed in chunks equals
// the plain batch's up to rounding, with dropout on (the masks are keyed per sentence),
// for pairs, triplets and groups, in fp32 and bf16.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "sentemb/parameters.h"
#include "train/batch_gradients.h"
#include "train/losses.h"

using namespace sentemb;

namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.vocab_size = 50;
  c.max_len = 12;
  c.layers = 2;
  c.dim = 16;
  c.heads = 2;
  c.ffn_dim = 32;
  return c;
}

// B examples of rows_per_example random sentences of 2..max_len tokens, BOS first.
std::vector<std::vector<int>> random_rows(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int>> out(rows);
  for (auto& s : out) {
    s = {1};
    const int length = 2 + static_cast<int>(rng() % 11);
    while (static_cast<int>(s.size()) < length) s.push_back(4 + static_cast<int>(rng() % 46));
  }
  return out;
}

struct Case {
  int B;
  bool triplets;
  bool groups;
  bool bf16;
  int chunk_rows;
};

// The gradients of one batch computed plainly and in chunks of chunk_rows rows.
std::pair<std::vector<float>, std::vector<float>> both_ways(const Case& c, Loss& plain_loss,
                                                            Loss& cached_loss) {
  const ModelConfig config = small_config();
  std::vector<float> parameters(config.parameter_count());
  init_parameters(config, parameters.data(), 7);
  const int rows = c.B * (c.triplets ? 3 : 2);
  const auto sentences = random_rows(rows, 11);
  std::vector<const std::vector<int>*> seqs;
  for (const auto& s : sentences) seqs.push_back(&s);
  std::vector<std::uint64_t> keys(rows);
  for (int r = 0; r < rows; ++r) keys[r] = r;
  std::vector<std::int64_t> groups(c.B, -1);
  if (c.groups) groups[0] = groups[2] = 5;  // examples 0 and 2 are not each other's negatives
  train::LossBatch batch{&seqs, keys.data(), c.B, c.triplets, nullptr, groups.data()};

  std::vector<float> plain(parameters.size(), 0.0f), cached(parameters.size(), 0.0f);
  train::TrainingEncoder encoder_a(config, {0.1f, 0.1f, 0.1f}, c.bf16);
  train::TrainingEncoder encoder_b(config, {0.1f, 0.1f, 0.1f}, c.bf16);
  train::BatchGradients a, b;
  const float loss_a = a.compute(encoder_a, parameters.data(), batch, 99, plain_loss, plain.data());
  const float loss_b =
      b.compute(encoder_b, parameters.data(), batch, 99, cached_loss, cached.data(), c.chunk_rows);
  CHECK(loss_b == Approx(loss_a).epsilon(c.bf16 ? 1e-3 : 1e-5));
  // The cached embeddings are those of the plain forward, masks and all.
  REQUIRE(a.embeddings().size() == b.embeddings().size());
  for (std::size_t i = 0; i < a.embeddings().size(); ++i)
    REQUIRE(b.embeddings()[i] == Approx(a.embeddings()[i]).margin(c.bf16 ? 2e-3 : 1e-5));
  return {plain, cached};
}

void check_close(const std::vector<float>& plain, const std::vector<float>& cached, bool bf16) {
  double diff = 0, norm = 0, max_abs = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    diff += (double(plain[i]) - cached[i]) * (double(plain[i]) - cached[i]);
    norm += double(plain[i]) * plain[i];
    max_abs = std::max(max_abs, std::fabs(double(plain[i]) - cached[i]));
  }
  INFO("relative L2 " << std::sqrt(diff / norm) << ", max abs " << max_abs);
  REQUIRE(norm > 1e-6);  // a zero gradient would match trivially
  CHECK(std::sqrt(diff / norm) < (bf16 ? 2e-2 : 1e-5));
}

}  // namespace

TEST_CASE("a gradient-cached batch has the plain batch's gradient", "[train][gradcache]") {
  LossOptions lo;
  lo.infonce = {0.05f, true};
  for (const Case& c : {Case{8, false, false, false, 4}, Case{8, true, true, false, 6},
                        Case{7, false, true, false, 5}, Case{8, false, false, true, 4},
                        Case{8, true, false, true, 8}}) {
    INFO("B " << c.B << " triplets " << c.triplets << " groups " << c.groups << " bf16 " << c.bf16
              << " chunk " << c.chunk_rows);
    auto plain_loss = make_loss("infonce", lo), cached_loss = make_loss("infonce", lo);
    const auto [plain, cached] = both_ways(c, *plain_loss, *cached_loss);
    check_close(plain, cached, c.bf16);
  }
  SECTION("with a triplet and a Matryoshka loss") {
    lo.triplet.margin = 0.8f;
    auto make = [&] { return make_loss("infonce:1,triplet:0.5", lo); };
    MatryoshkaLoss plain_loss({16, 8}, make), cached_loss({16, 8}, make);
    const auto [plain, cached] = both_ways(Case{6, true, false, false, 4}, plain_loss, cached_loss);
    check_close(plain, cached, false);
  }
}
