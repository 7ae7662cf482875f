// Small models and inputs shared by the inference tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "sentemb/model.h"
#include "sentemb/tokenizer.h"
#include "test_util.h"

namespace sentemb::test {

inline std::vector<float> random_vector(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

// A 2-layer, width-32 model over tests/data/tokenizer/tiny.model, with weights
// made larger than the initialisation (+ N(0, 0.1)) so numerical differences show.
inline Model tiny_model(Pooling pooling = Pooling::kMean) {
  const auto tokenizer_bytes = read_file(data_path("tokenizer/tiny.model"));
  ModelConfig config;
  config.vocab_size = Tokenizer::from_bytes(tokenizer_bytes).vocab_size();
  config.max_len = 32;
  config.layers = 2;
  config.dim = 32;
  config.heads = 4;
  config.ffn_dim = 64;
  config.pooling = pooling;
  Model model = Model::create(config, tokenizer_bytes, 7);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  for (auto& p : model.parameters) p += noise(rng);
  return model;
}

// n id sequences, BOS first, lengths 1..max_len.
inline std::vector<std::vector<int>> random_sequences(int n, int max_len, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> len(1, max_len), id(4, 255);
  std::vector<std::vector<int>> seqs(n);
  for (auto& s : seqs) {
    s.push_back(Tokenizer::kBosId);
    const int L = len(rng);
    while (static_cast<int>(s.size()) < L) s.push_back(id(rng));
  }
  return seqs;
}

}  // namespace sentemb::test
