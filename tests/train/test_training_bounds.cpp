// A training batch whose saved attention probabilities cannot fit is a clear error
// naming --batch and --max-len, raised before anything is allocated (issue 17).
#include <catch2/catch.hpp>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/model.h"
#include "train/training_encoder.h"

using namespace sentemb;

TEST_CASE("an over-large training batch is an error naming --batch and --max-len",
          "[train][bounds]") {
  ModelConfig config;
  config.vocab_size = 16;
  config.max_len = 4096;
  config.layers = 1;
  config.dim = 16;
  config.heads = 16;
  config.ffn_dim = 16;
  // 64 sentences of 4096 tokens, 16 heads: 69 GB of probabilities for one layer.
  train::TrainingEncoder encoder(config, {});
  std::vector<float> parameters(config.parameter_count(), 0.01f);
  const std::vector<int> sentence(4096, 5);
  std::vector<const std::vector<int>*> batch(64, &sentence);
  std::vector<float> out(64 * config.dim);
  CHECK_THROWS_WITH(
      encoder.forward(parameters.data(), batch, out.data(), 1),
      Catch::Contains("--batch") && Catch::Contains("--max-len") && Catch::Contains("68.7 GB"));
}
