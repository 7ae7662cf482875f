#include "nn/pooling.h"

#include <cmath>
#include <cstdint>

namespace sentemb::nn {

void pooling_forward(Pooling pooling, float* out, const float* h, const int* lengths, int B, int T,
                     int C, int* argmax) {
  for (int b = 0; b < B; ++b) {
    const float* hb = h + std::int64_t(b) * T * C;
    float* o = out + std::int64_t(b) * C;
    const int len = lengths[b];
    switch (pooling) {
      case Pooling::kCls:
        for (int c = 0; c < C; ++c) o[c] = hb[c];
        break;
      case Pooling::kMean:
        for (int c = 0; c < C; ++c) o[c] = 0.0f;
        for (int t = 0; t < len; ++t)
          for (int c = 0; c < C; ++c) o[c] += hb[std::int64_t(t) * C + c];
        for (int c = 0; c < C; ++c) o[c] /= static_cast<float>(len);
        break;
      case Pooling::kMax:
        for (int c = 0; c < C; ++c) {
          int best = 0;
          for (int t = 1; t < len; ++t)
            if (hb[std::int64_t(t) * C + c] > hb[std::int64_t(best) * C + c]) best = t;
          o[c] = hb[std::int64_t(best) * C + c];
          if (argmax) argmax[std::int64_t(b) * C + c] = best;
        }
        break;
    }
  }
}

void l2_normalize_forward(float* out, const float* in, float* norms, int B, int C) {
  for (int b = 0; b < B; ++b) {
    const float* x = in + std::int64_t(b) * C;
    double sq = 0.0;
    for (int c = 0; c < C; ++c) sq += double(x[c]) * x[c];
    const float norm = std::fmax(static_cast<float>(std::sqrt(sq)), kL2NormEps);
    if (norms) norms[b] = norm;
    float* y = out + std::int64_t(b) * C;
    for (int c = 0; c < C; ++c) y[c] = x[c] / norm;
  }
}

}  // namespace sentemb::nn
