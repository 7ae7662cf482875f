// The JSON bodies the endpoints answer with: embeddings in the OpenAI list shape
// (float arrays or base64 of little-endian float32), similarity scores.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "serve/requests.h"

namespace sentemb::serve {

// Base64 (RFC 4648, with padding) of `size` bytes.
std::string base64_encode(const void* data, std::size_t size);

// `vectors` is (n, dim) row-major; each row is cut to truncation.width values and,
// when `renormalize`, scaled back to unit length.
std::string embeddings_response(const std::vector<float>& vectors, int dim,
                                const Truncation& truncation, bool renormalize,
                                EncodingFormat format, const std::string& model,
                                std::size_t tokens);

// {"scores":[…],"usage":{…}}: cos(a_i, b_i) of `vectors`, the a's (n rows) then the b's.
std::string similarity_response(const std::vector<float>& vectors, int dim, std::size_t pairs,
                                std::size_t tokens);

}  // namespace sentemb::serve
