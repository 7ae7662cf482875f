// A model: configuration, tokenizer and parameters — everything one model file holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sentemb/model_config.h"
#include "sentemb/parameters.h"

namespace sentemb {

struct Model {
  ModelConfig config;
  std::string tokenizer_model;    // serialized SentencePiece model (a .model file's bytes)
  std::vector<float> parameters;  // (config.parameter_count()) arena, see parameters.h

  // A randomly initialised model (init_parameters); config.vocab_size must match the tokenizer.
  static Model create(ModelConfig config, std::string tokenizer_model, std::uint64_t seed,
                      float token_embedding_std = kDefaultTokenEmbeddingStd);
};

}  // namespace sentemb
