// Token + position embedding: x[b,t,:] = tok_emb[ids[b,t], :] + pos_emb[t, :].
// A gather, which oneDNN has no primitive for: a plain loop.
#pragma once

namespace sentemb::nn {

// x: (B, T, C); ids: (B, T) (padding id 0 past each sentence's length);
// tok_emb: (V, C); pos_emb: (Tmax, C) with T <= Tmax.
void embedding_forward(float* x, const int* ids, const float* tok_emb, const float* pos_emb, int B,
                       int T, int C);

// The same for packed rows: x[r,:] = tok_emb[ids[r], :] + pos_emb[positions[r], :], x: (N, C).
void embedding_forward_rows(float* x, const int* ids, const int* positions, const float* tok_emb,
                            const float* pos_emb, int N, int C);

}  // namespace sentemb::nn
