// Inverted dropout: y = x · m, m = 0 with probability p, else 1 / (1 − p); the
// backward is dx = dy · m with the same mask. The mask comes from a counter-based
// hash of (seed, element), so it is the same whatever the thread count, and a
// resumed run draws exactly the masks the uninterrupted one would.
#pragma once

#include <cstdint>

namespace sentemb::train {

// Fills mask (n) with 0 or 1/(1-p) and sets y = x · mask (y may alias x).
void dropout_forward(const float* x, float* y, float* mask, std::int64_t n, float p,
                     std::uint64_t seed);
// The residual add after a dropped-out branch, in one pass: y = residual + x · mask,
// with the mask dropout_forward would draw (y may alias x or residual).
void dropout_add(const float* residual, const float* x, float* y, float* mask, std::int64_t n,
                 float p, std::uint64_t seed);
// Per-sentence masks, so that a sentence's mask does not depend on which batch, chunk
// or process encodes it (gradient caching and data-parallel runs re-encode or split a
// batch): sentence b's packed rows [offsets[b], offsets[b] + lengths[b]) of width W draw
// from the stream of (seed, keys[b]), its element (t, w) at index t·W + w.
// residual null: y = x · mask; else y = residual + x · mask (y may alias x or residual).
void dropout_sentences(const float* residual, const float* x, float* y, float* mask, int B,
                       const int* offsets, const int* lengths, int W, float p, std::uint64_t seed,
                       const std::uint64_t* keys);
// The same for attention probabilities (B, NH, T, T) padded to T: element (b, h, i, j)
// at index (h·L + i)·L + j of sentence b's stream, L the model's max length (≥ T).
void dropout_attention(const float* x, float* y, float* mask, int B, int NH, int T, int L, float p,
                       std::uint64_t seed, const std::uint64_t* keys);
// dx = dy · mask (dx may alias dy).
void dropout_backward(const float* dy, float* dx, const float* mask, std::int64_t n);

}  // namespace sentemb::train
