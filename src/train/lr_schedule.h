// Learning-rate schedule: linear warm-up, then constant, linear or cosine decay.
//
// Steps are 0-based (step s is the (s+1)-th optimiser update). With peak lr P,
// W warm-up steps, T total steps and floor F = min_ratio * P:
//   s <  W:      lr = P * (s + 1) / W              (llm.c: the first step is not wasted at 0)
//   W <= s < T:  progress q = (s - W) / (T - W) in [0, 1)
//                constant: P
//                linear:   F + (P - F) * (1 - q)
//                cosine:   F + (P - F) * (1 + cos(pi q)) / 2
//   s >= T:      F (constant: P)
#pragma once

#include <cstdint>
#include <string>

namespace sentemb {

enum class LrDecay { kConstant, kLinear, kCosine };

LrDecay lr_decay_from_string(
    const std::string& name);  // "constant", "linear", "cosine"; UsageError
std::string to_string(LrDecay decay);

struct LrScheduleOptions {
  float peak_lr = 5e-5f;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  LrDecay decay = LrDecay::kLinear;
  float min_ratio = 0.0f;  // floor of the decay as a fraction of peak_lr, in [0, 1]
};

class LrSchedule {
 public:
  // Throws UsageError naming the option: peak_lr must be finite and > 0,
  // total_steps >= 1, 0 <= warmup_steps <= total_steps, min_ratio in [0, 1].
  explicit LrSchedule(LrScheduleOptions options);
  float lr_at(std::int64_t step) const;
  const LrScheduleOptions& options() const { return options_; }

 private:
  LrScheduleOptions options_;
};

}  // namespace sentemb
