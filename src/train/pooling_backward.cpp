#include "train/pooling_backward.h"

#include <cstdint>

namespace sentemb::train {

void l2_normalize_backward(const float* y, const float* norms, const float* dy, float* dx, int B,
                           int C) {
  for (int b = 0; b < B; ++b) {
    const float* yb = y + std::int64_t(b) * C;
    const float* dyb = dy + std::int64_t(b) * C;
    double dot = 0.0;
    for (int c = 0; c < C; ++c) dot += double(yb[c]) * dyb[c];
    const float inv = 1.0f / norms[b];
    float* dxb = dx + std::int64_t(b) * C;
    for (int c = 0; c < C; ++c) dxb[c] += (dyb[c] - yb[c] * static_cast<float>(dot)) * inv;
  }
}

void pooling_backward(Pooling pooling, const float* dout, const int* lengths, const int* argmax,
                      float* dh, int B, int T, int C) {
  for (int b = 0; b < B; ++b) {
    const float* d = dout + std::int64_t(b) * C;
    float* dhb = dh + std::int64_t(b) * T * C;
    switch (pooling) {
      case Pooling::kCls:
        for (int c = 0; c < C; ++c) dhb[c] += d[c];
        break;
      case Pooling::kMean: {
        const float inv = 1.0f / static_cast<float>(lengths[b]);
        for (int t = 0; t < lengths[b]; ++t)
          for (int c = 0; c < C; ++c) dhb[std::int64_t(t) * C + c] += d[c] * inv;
        break;
      }
      case Pooling::kMax:
        for (int c = 0; c < C; ++c)
          dhb[std::int64_t(argmax[std::int64_t(b) * C + c]) * C + c] += d[c];
        break;
    }
  }
}

void embedding_backward_rows(const float* dx, const int* ids, const int* positions, float* dtok_emb,
                             float* dpos_emb, int N, int C) {
  // Serial over rows: two rows with the same token id would race.
  for (int r = 0; r < N; ++r) {
    const float* g = dx + std::int64_t(r) * C;
    float* tok = dtok_emb + std::int64_t(ids[r]) * C;
    float* pos = dpos_emb + std::int64_t(positions[r]) * C;
    for (int c = 0; c < C; ++c) {
      tok[c] += g[c];
      pos[c] += g[c];
    }
  }
}

}  // namespace sentemb::train
