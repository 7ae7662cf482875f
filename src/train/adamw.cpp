// AdamW and gradient utilities: flat loops over the parameter arena.
#include "train/adamw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nn/simd.h"
#include "sentemb/errors.h"

namespace sentemb {

AdamW::AdamW(std::size_t n, AdamWOptions options, const std::vector<ParamRange>& decay_ranges)
    : n_(n), options_(options), m_(n, 0.0f), v_(n, 0.0f) {
  if (!(options.beta1 >= 0 && options.beta1 < 1) || !(options.beta2 >= 0 && options.beta2 < 1))
    throw UsageError(
        fmt::format("adamw: betas must be in [0, 1), got ({}, {})", options.beta1, options.beta2));
  if (!(options.eps > 0) || !std::isfinite(options.eps))
    throw UsageError(fmt::format("adamw: eps must be > 0, got {}", options.eps));
  if (!(options.weight_decay >= 0) || !std::isfinite(options.weight_decay))
    throw UsageError(fmt::format("adamw: weight decay must be >= 0, got {}", options.weight_decay));
  // Merge the decay ranges into sorted disjoint intervals, then cover [0, n) with
  // alternating no-decay / decay segments.
  std::vector<ParamRange> ranges;
  for (const ParamRange& r : decay_ranges) {
    if (r.offset > n || r.count > n - r.offset)
      throw UsageError(fmt::format("adamw: decay range [{}, {}) is outside the {} parameters",
                                   r.offset, r.offset + r.count, n));
    if (r.count > 0) ranges.push_back(r);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const ParamRange& x, const ParamRange& y) { return x.offset < y.offset; });
  std::size_t pos = 0;
  for (const ParamRange& r : ranges) {
    const std::size_t begin = std::max(pos, r.offset), end = r.offset + r.count;
    if (end <= pos) continue;  // inside the previous range
    if (begin > pos) segments_.push_back({pos, begin, false});
    if (!segments_.empty() && segments_.back().decay && segments_.back().end == begin)
      segments_.back().end = end;  // overlapping or adjacent: extend
    else
      segments_.push_back({begin, end, true});
    pos = end;
  }
  if (pos < n) segments_.push_back({pos, n, false});
}

bool AdamW::decays(std::size_t i) const {
  for (const Segment& s : segments_)
    if (i >= s.begin && i < s.end) return s.decay;
  return false;
}

namespace {

struct AdamWCoefficients {
  float beta1, beta2, eps, decay, lr, correction1, correction2, grad_scale;
};

SENTEMB_SIMD_CLONES
void adamw_range(float* params, const float* grads, float* m, float* v, std::int64_t n,
                 AdamWCoefficients k) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = grads[i] * k.grad_scale;  // exact for a scale of 1
    const float mi = k.beta1 * m[i] + (1.0f - k.beta1) * g;
    const float vi = k.beta2 * v[i] + (1.0f - k.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float m_hat = mi / k.correction1;
    const float v_hat = vi / k.correction2;
    params[i] -= k.lr * (m_hat / (std::sqrt(v_hat) + k.eps) + k.decay * params[i]);
  }
}

// Σ x², in double. The vector lanes reorder the additions within a chunk
// (omp simd reduction), so the last bits depend on the clone the CPU runs.
SENTEMB_SIMD_CLONES
double sum_squares(const float* x, std::int64_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

SENTEMB_SIMD_CLONES
void scale_range(float* x, std::int64_t n, float factor) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) x[i] *= factor;
}

}  // namespace

void AdamW::step(float* params, const float* grads, float lr, float grad_scale) {
  ++step_;
  AdamWCoefficients k{options_.beta1, options_.beta2, options_.eps, 0.0f, lr,
                      0.0f,           0.0f,           grad_scale};
  // Bias corrections 1 - beta^t, in double (beta2^t stays far from 1 for long).
  k.correction1 = static_cast<float>(1.0 - std::pow(double(k.beta1), double(step_)));
  k.correction2 = static_cast<float>(1.0 - std::pow(double(k.beta2), double(step_)));
  for (const Segment& s : segments_) {
    k.decay = s.decay ? options_.weight_decay : 0.0f;
    const auto first = static_cast<std::int64_t>(s.begin);
    nn::parallel_ranges(static_cast<std::int64_t>(s.end - s.begin), 1 << 16,
                        [&](std::int64_t begin, std::int64_t end) {
                          const std::int64_t i = first + begin;
                          adamw_range(params + i, grads + i, m_.data() + i, v_.data() + i,
                                      end - begin, k);
                        });
  }
}

void AdamW::load_state(std::int64_t step_count, const std::vector<float>& m,
                       const std::vector<float>& v) {
  if (step_count < 0)
    throw ModelFileError(fmt::format("optimizer state: step count {} is negative", step_count));
  if (m.size() != n_ || v.size() != n_)
    throw ModelFileError(
        fmt::format("optimizer state: moments have {} and {} elements, the model has {} parameters",
                    m.size(), v.size(), n_));
  step_ = step_count;
  m_ = m;
  v_ = v;
}

double grad_norm(const float* grads, std::size_t n) {
  // Fixed-size chunks summed in index order: the same result for any thread count.
  constexpr std::size_t kChunk = 1 << 14;
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(chunks, 0.0);
#pragma omp parallel for schedule(static) if (chunks > 8)
  for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(chunks); ++c) {
    const std::size_t begin = static_cast<std::size_t>(c) * kChunk;
    partial[c] =
        sum_squares(grads + begin, static_cast<std::int64_t>(std::min(n, begin + kChunk) - begin));
  }
  double total = 0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

float clip_grad_norm(float* grads, std::size_t n, float max_norm) {
  const double norm = grad_norm(grads, n);
  clip_grad_norm(grads, n, max_norm, norm);
  return static_cast<float>(norm);
}

float clip_factor(float max_norm, double norm) {
  if (!(max_norm > 0 && std::isfinite(norm) && norm > max_norm)) return 1.0f;
  return static_cast<float>(max_norm / norm);
}

void clip_grad_norm(float* grads, std::size_t n, float max_norm, double norm) {
  const float factor = clip_factor(max_norm, norm);
  if (factor == 1.0f) return;
  nn::parallel_ranges(static_cast<std::int64_t>(n), 1 << 16,
                      [&](std::int64_t begin, std::int64_t end) {
                        scale_range(grads + begin, end - begin, factor);
                      });
}

bool all_finite(const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace sentemb
