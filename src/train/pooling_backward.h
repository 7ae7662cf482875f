// Backwards of the plain-loop layers at both ends of the encoder
// (src/nn/embedding.h, src/nn/pooling.h). All ADD into their gradients.
#pragma once

#include "sentemb/model_config.h"

namespace sentemb::train {

// y = x / ||x||:  dx += (dy − y (y·dy)) / ||x||.  y, dy: (B, C); norms: (B).
void l2_normalize_backward(const float* y, const float* norms, const float* dy, float* dx, int B,
                           int C);

// dh (B, T, C) += the gradient of pooling; dout: (B, C); argmax (B, C) for max pooling.
void pooling_backward(Pooling pooling, const float* dout, const int* lengths, const int* argmax,
                      float* dh, int B, int T, int C);

// dtok_emb[ids[r]] += dx[r]; dpos_emb[positions[r]] += dx[r] for packed rows dx: (N, C).
void embedding_backward_rows(const float* dx, const int* ids, const int* positions, float* dtok_emb,
                             float* dpos_emb, int N, int C);

}  // namespace sentemb::train
