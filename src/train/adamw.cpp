// AdamW and gradient utilities: flat loops over the parameter arena.
#include "sentemb/train/adamw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

void AdamW::step(float* params, const float* grads, float lr) {
  ++step_;
  const float beta1 = options_.beta1, beta2 = options_.beta2, eps = options_.eps;
  // Bias corrections 1 - beta^t, in double (beta2^t stays far from 1 for long).
  const float correction1 = static_cast<float>(1.0 - std::pow(double(beta1), double(step_)));
  const float correction2 = static_cast<float>(1.0 - std::pow(double(beta2), double(step_)));
  float* m = m_.data();
  float* v = v_.data();
  for (const Segment& s : segments_) {
    const float decay = s.decay ? options_.weight_decay : 0.0f;
    const std::ptrdiff_t begin = static_cast<std::ptrdiff_t>(s.begin);
    const std::ptrdiff_t end = static_cast<std::ptrdiff_t>(s.end);
#pragma omp parallel for schedule(static) if (end - begin > (1 << 16))
    for (std::ptrdiff_t i = begin; i < end; ++i) {
      const float g = grads[i];
      const float mi = beta1 * m[i] + (1.0f - beta1) * g;
      const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      const float m_hat = mi / correction1;
      const float v_hat = vi / correction2;
      params[i] -= lr * (m_hat / (std::sqrt(v_hat) + eps) + decay * params[i]);
    }
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
    const std::size_t end = std::min(n, begin + kChunk);
    double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += static_cast<double>(grads[i]) * grads[i];
    partial[c] = sum;
  }
  double total = 0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

float clip_grad_norm(float* grads, std::size_t n, float max_norm) {
  const double norm = grad_norm(grads, n);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const float factor = static_cast<float>(max_norm / norm);
    for (std::size_t i = 0; i < n; ++i) grads[i] *= factor;
  }
  return static_cast<float>(norm);
}

bool all_finite(const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace sentemb
