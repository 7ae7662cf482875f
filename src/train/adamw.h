// AdamW with decoupled weight decay over one contiguous parameter arena, plus the
// gradient utilities a training step needs (global-norm clipping, finiteness).
//
// All parameters of the model live in ONE float array of n elements (and so do the
// gradients); the optimiser keeps its moments m and v as two more arrays of n. Each
// update is a flat loop over the arena (elementwise, so results do not depend on the
// number of threads).
//
// Update at step t (1-based, counted by the optimiser), per element, as PyTorch's
// AdamW and llm.c:
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
//   p = p - lr * ( m_hat / (sqrt(v_hat) + eps) + weight_decay * p )
// where the weight-decay term is applied only to elements inside a decay range (the
// caller decides which: typically matrices decay, biases, LayerNorm and embeddings
// do not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sentemb {

struct AdamWOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;  // PyTorch's default
  float weight_decay = 0.01f;
};

// [offset, offset + count) of the parameter arena.
struct ParamRange {
  std::size_t offset = 0;
  std::size_t count = 0;
};

class AdamW {
 public:
  // n: arena size. decay_ranges: the elements that get weight decay (may overlap or
  // be empty; everything else gets none). Throws UsageError for a range past n or
  // an option out of range (betas in [0, 1), eps > 0, weight_decay >= 0).
  AdamW(std::size_t n, AdamWOptions options, const std::vector<ParamRange>& decay_ranges);

  // One update of params (n) with gradients grads (n) at learning rate lr; increments
  // the step count first (the first update is t = 1).
  // grad_scale multiplies the gradients as they are read: clip_factor() folds global-norm
  // clipping into the update, bitwise as clip_grad_norm() then step() but without the
  // extra pass over the gradients.
  void step(float* params, const float* grads, float lr, float grad_scale = 1.0f);

  std::size_t size() const { return n_; }
  const AdamWOptions& options() const { return options_; }
  bool decays(std::size_t i) const;  // whether element i gets weight decay

  // Checkpoint state: the number of updates done and the two moment arrays (n each).
  std::int64_t step_count() const { return step_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }
  // Restores a checkpointed state; m and v must have n elements each. Throws
  // ModelFileError if the sizes differ or step_count < 0.
  void load_state(std::int64_t step_count, const std::vector<float>& m,
                  const std::vector<float>& v);

 private:
  struct Segment {  // a maximal run of elements with one decay setting
    std::size_t begin, end;
    bool decay;
  };
  std::size_t n_;
  AdamWOptions options_;
  std::vector<Segment> segments_;  // sorted, covering [0, n) exactly
  std::int64_t step_ = 0;
  std::vector<float> m_, v_;  // (n) first and second moments
};

// Global L2 norm of grads (n), accumulated in double in a fixed order whatever the thread
// count (deterministic on a given CPU; the vectorized sums may differ in the last bits
// between CPUs with and without AVX-512).
double grad_norm(const float* grads, std::size_t n);

// Returns the global L2 norm before clipping. If it is above max_norm (and finite),
// scales grads in place by max_norm / norm so the norm becomes max_norm. max_norm <= 0
// disables clipping (the norm is still returned). A non-finite norm leaves grads
// unchanged: check it (or all_finite) and skip the step.
float clip_grad_norm(float* grads, std::size_t n, float max_norm);
// The same with the norm already known (from grad_norm): no second pass to measure it.
void clip_grad_norm(float* grads, std::size_t n, float max_norm, double norm);
// The factor clip_grad_norm scales by: max_norm / norm above the limit, else 1.
float clip_factor(float max_norm, double norm);

// True when no element of x (n) is NaN or infinite.
bool all_finite(const float* x, std::size_t n);

}  // namespace sentemb
