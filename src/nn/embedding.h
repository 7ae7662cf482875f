// Token + position embedding: x[b,t,:] = tok_emb[ids[b,t], :] + pos_emb[t, :].
// A gather, which oneDNN has no primitive for: a plain loop.
#pragma once

namespace sentemb::nn {

// x: (B, T, C); ids: (B, T) (padding id 0 past each sentence's length);
// tok_emb: (V, C); pos_emb: (Tmax, C) with T <= Tmax.
void embedding_forward(float* x, const int* ids, const float* tok_emb, const float* pos_emb, int B,
                       int T, int C);

}  // namespace sentemb::nn
