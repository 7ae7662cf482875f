#include "serve/responses.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "sentemb/similarity.h"

namespace sentemb::serve {

namespace {

nlohmann::json usage(std::size_t tokens) {
  return {{"prompt_tokens", tokens}, {"total_tokens", tokens}};
}

}  // namespace

std::string base64_encode(const void* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) |
                            (i + 1 < size ? std::uint32_t{bytes[i + 1]} << 8 : 0) |
                            (i + 2 < size ? std::uint32_t{bytes[i + 2]} : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string embeddings_response(const std::vector<float>& vectors, int dim,
                                const Truncation& truncation, bool renormalize,
                                EncodingFormat format, const std::string& model,
                                std::size_t tokens) {
  static_assert(sizeof(float) == 4, "float32 expected");
  const std::size_t n = vectors.size() / dim, k = truncation.width;
  nlohmann::json data = nlohmann::json::array();
  std::vector<float> row(k);
  for (std::size_t i = 0; i < n; ++i) {
    std::copy_n(vectors.data() + i * dim, k, row.begin());
    if (renormalize && static_cast<int>(k) != dim) {
      double norm = 0;
      for (float v : row) norm += static_cast<double>(v) * v;
      norm = std::sqrt(norm);
      if (norm > 0)
        for (float& v : row) v = static_cast<float>(v / norm);
    }
    nlohmann::json item = {{"object", "embedding"}, {"index", i}};
    // x86-64 (the only target) is little-endian, so the bytes are already in order.
    if (format == EncodingFormat::kBase64)
      item["embedding"] = base64_encode(row.data(), k * sizeof(float));
    else
      item["embedding"] = row;
    data.push_back(std::move(item));
  }
  nlohmann::json j = {
      {"object", "list"}, {"data", std::move(data)}, {"model", model}, {"usage", usage(tokens)}};
  if (!truncation.warning.empty()) j["warning"] = truncation.warning;
  return j.dump();
}

std::string similarity_response(const std::vector<float>& vectors, int dim, std::size_t pairs,
                                std::size_t tokens) {
  std::vector<float> scores(pairs);
  for (std::size_t i = 0; i < pairs; ++i)
    scores[i] = cosine(vectors.data() + i * dim, vectors.data() + (pairs + i) * dim, dim);
  return nlohmann::json{{"scores", scores}, {"usage", usage(tokens)}}.dump();
}

}  // namespace sentemb::serve
