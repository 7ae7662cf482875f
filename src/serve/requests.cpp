#include "serve/requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sentemb/utf8.h"
#include "serve/api_error.h"

namespace sentemb::serve {

namespace {

using nlohmann::json;

json parse_body(const std::string& body) {
  std::size_t bad = 0;
  if (!is_valid_utf8(body, &bad))
    throw ApiError::bad_request(fmt::format("body is not valid UTF-8 (byte {})", bad));
  try {
    json j = json::parse(body);
    if (!j.is_object()) throw ApiError::bad_request("body must be a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw ApiError::bad_request(fmt::format("body is not valid JSON: {}", e.what()));
  }
}

void check_count(std::size_t n, const char* field, const RequestLimits& limits) {
  if (n == 0) throw ApiError::bad_request(fmt::format("'{}' must not be empty", field));
  if (n > limits.max_inputs)
    throw ApiError::bad_request(
        fmt::format("'{}' has {} sentences; at most {} per request", field, n, limits.max_inputs));
}

}  // namespace

EmbeddingsRequest parse_embeddings_request(const std::string& body, const RequestLimits& limits) {
  const json j = parse_body(body);
  EmbeddingsRequest request;
  const auto input = j.find("input");
  if (input == j.end()) throw ApiError::bad_request("'input' is required");
  if (input->is_string()) {
    request.input.push_back(input->get<std::string>());
  } else if (input->is_array()) {
    check_count(input->size(), "input", limits);
    for (std::size_t i = 0; i < input->size(); ++i) {
      if (!(*input)[i].is_string())
        throw ApiError::bad_request(fmt::format("'input[{}]' must be a string", i));
      request.input.push_back((*input)[i].get<std::string>());
    }
  } else {
    throw ApiError::bad_request("'input' must be a string or an array of strings");
  }
  if (const auto model = j.find("model"); model != j.end() && !model->is_null()) {
    if (!model->is_string()) throw ApiError::bad_request("'model' must be a string");
    request.model = model->get<std::string>();
  }
  if (const auto format = j.find("encoding_format"); format != j.end() && !format->is_null()) {
    if (!format->is_string()) throw ApiError::bad_request("'encoding_format' must be a string");
    const auto name = format->get<std::string>();
    if (name == "float") {
      request.format = EncodingFormat::kFloat;
    } else if (name == "base64") {
      request.format = EncodingFormat::kBase64;
    } else {
      throw ApiError::bad_request(
          fmt::format("'encoding_format' must be \"float\" or \"base64\", not \"{}\"", name));
    }
  }
  if (const auto dims = j.find("dimensions"); dims != j.end() && !dims->is_null()) {
    if (!dims->is_number_integer() || dims->get<long long>() < 1 ||
        dims->get<long long>() > (1 << 30))
      throw ApiError::bad_request("'dimensions' must be a positive integer");
    request.dimensions = dims->get<int>();
  }
  return request;
}

SimilarityRequest parse_similarity_request(const std::string& body, const RequestLimits& limits) {
  const json j = parse_body(body);
  const auto pairs = j.find("pairs");
  if (pairs == j.end()) throw ApiError::bad_request("'pairs' is required");
  if (!pairs->is_array()) throw ApiError::bad_request("'pairs' must be an array of [a, b] pairs");
  check_count(pairs->size() * 2, "pairs", limits);
  SimilarityRequest request;
  for (std::size_t i = 0; i < pairs->size(); ++i) {
    const json& p = (*pairs)[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string())
      throw ApiError::bad_request(fmt::format("'pairs[{}]' must be an array of two strings", i));
    request.pairs.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  }
  return request;
}

Truncation plan_truncation(const std::optional<int>& dimensions, const ModelConfig& config) {
  if (!dimensions || *dimensions == config.dim) return {config.dim, {}};
  const int k = *dimensions;
  if (k > config.dim)
    throw ApiError::bad_request(
        fmt::format("'dimensions' is {}, more than the model's width {}", k, config.dim));
  const auto& trained = config.matryoshka_dims;
  if (trained.empty())
    throw ApiError::bad_request(
        fmt::format("'dimensions': the model was not trained for truncation (no matryoshka_dims); "
                    "only its full width {} is available",
                    config.dim));
  if (std::find(trained.begin(), trained.end(), k) != trained.end()) return {k, {}};
  return {k, fmt::format("dimensions {} is not among the widths the model was trained at ({})", k,
                         fmt::join(trained, ", "))};
}

}  // namespace sentemb::serve
