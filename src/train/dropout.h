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
// dx = dy · mask (dx may alias dy).
void dropout_backward(const float* dy, float* dx, const float* mask, std::int64_t n);

}  // namespace sentemb::train
