#include "nn/embedding.h"

#include <cstdint>

namespace sentemb::nn {

void embedding_forward(float* x, const int* ids, const float* tok_emb, const float* pos_emb, int B,
                       int T, int C) {
#pragma omp parallel for schedule(static)
  for (int bt = 0; bt < B * T; ++bt) {
    const float* tok = tok_emb + std::int64_t(ids[bt]) * C;
    const float* pos = pos_emb + std::int64_t(bt % T) * C;
    float* out = x + std::int64_t(bt) * C;
    for (int c = 0; c < C; ++c) out[c] = tok[c] + pos[c];
  }
}

void embedding_forward_rows(float* x, const int* ids, const int* positions, const float* tok_emb,
                            const float* pos_emb, int N, int C) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < N; ++r) {
    const float* tok = tok_emb + std::int64_t(ids[r]) * C;
    const float* pos = pos_emb + std::int64_t(positions[r]) * C;
    float* out = x + std::int64_t(r) * C;
    for (int c = 0; c < C; ++c) out[c] = tok[c] + pos[c];
  }
}

}  // namespace sentemb::nn
