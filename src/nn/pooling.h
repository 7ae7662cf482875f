// Sentence vector from token states: pooling over each sentence's real
// positions, then optional L2 normalisation. Plain loops: they touch B·T·C
// floats once, negligible beside the matmuls.
#pragma once

#include "sentemb/model_config.h"

namespace sentemb::nn {

// h: (B, T, C) token states; lengths: (B) real positions per sentence (>= 1);
// out: (B, C). mean: average of positions < len; cls: position 0; max: elementwise
// max, recording the winning position in argmax (B, C) when it is non-null.
void pooling_forward(Pooling pooling, float* out, const float* h, const int* lengths, int B, int T,
                     int C, int* argmax = nullptr);

// out[b] = in[b] / max(||in[b]||, eps); norms (B) saved when non-null. In place allowed.
void l2_normalize_forward(float* out, const float* in, float* norms, int B, int C);

constexpr float kL2NormEps = 1e-12f;

}  // namespace sentemb::nn
