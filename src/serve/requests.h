// Parsing and validation of the JSON request bodies: what each endpoint accepts,
// checked before anything is queued. Every failure is an ApiError (400) naming the
// field.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sentemb/model_config.h"

namespace sentemb::serve {

struct RequestLimits {
  std::size_t max_inputs = 2048;  // sentences per request (pairs count twice)
};

enum class EncodingFormat { kFloat, kBase64 };

// POST /v1/embeddings (the OpenAI embeddings API).
struct EmbeddingsRequest {
  std::vector<std::string> input;
  std::string model;  // echoed
  EncodingFormat format = EncodingFormat::kFloat;
  std::optional<int> dimensions;
};

// POST /similarity: {"pairs":[["a","b"],...]}.
struct SimilarityRequest {
  std::vector<std::pair<std::string, std::string>> pairs;
};

EmbeddingsRequest parse_embeddings_request(const std::string& body, const RequestLimits& limits);
SimilarityRequest parse_similarity_request(const std::string& body, const RequestLimits& limits);

// How the response's vectors are cut to `dimensions`: the width K, and a warning
// when K is not one the model was trained at (empty when it is, or when no
// truncation is asked for). Throws ApiError when K exceeds the width, or the model
// was not trained for truncation (no matryoshka_dims).
struct Truncation {
  int width = 0;
  std::string warning;
};
Truncation plan_truncation(const std::optional<int>& dimensions, const ModelConfig& config);

}  // namespace sentemb::serve
