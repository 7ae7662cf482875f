#include "train/lr_schedule.h"

#include <fmt/format.h>

#include <cmath>

#include "sentemb/errors.h"

namespace sentemb {
namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

LrDecay lr_decay_from_string(const std::string& name) {
  if (name == "constant") return LrDecay::kConstant;
  if (name == "linear") return LrDecay::kLinear;
  if (name == "cosine") return LrDecay::kCosine;
  throw UsageError(
      fmt::format("unknown learning-rate decay '{}' (expected constant, linear or cosine)", name));
}

std::string to_string(LrDecay decay) {
  switch (decay) {
    case LrDecay::kConstant:
      return "constant";
    case LrDecay::kLinear:
      return "linear";
    case LrDecay::kCosine:
      return "cosine";
  }
  return "?";
}

LrSchedule::LrSchedule(LrScheduleOptions options) : options_(options) {
  if (!(options.peak_lr > 0) || !std::isfinite(options.peak_lr))
    throw UsageError(fmt::format("learning rate must be finite and > 0, got {}", options.peak_lr));
  if (options.total_steps < 1)
    throw UsageError(fmt::format("total steps must be >= 1, got {}", options.total_steps));
  if (options.warmup_steps < 0 || options.warmup_steps > options.total_steps)
    throw UsageError(fmt::format("warm-up steps must be in [0, total steps = {}], got {}",
                                 options.total_steps, options.warmup_steps));
  if (!(options.min_ratio >= 0 && options.min_ratio <= 1))
    throw UsageError(fmt::format("minimum lr ratio must be in [0, 1], got {}", options.min_ratio));
}

float LrSchedule::lr_at(std::int64_t step) const {
  const double peak = options_.peak_lr;
  const std::int64_t warmup = options_.warmup_steps, total = options_.total_steps;
  if (step < 0) step = 0;
  if (step < warmup) return static_cast<float>(peak * double(step + 1) / double(warmup));
  if (options_.decay == LrDecay::kConstant) return static_cast<float>(peak);
  const double floor = peak * options_.min_ratio;
  if (step >= total) return static_cast<float>(floor);
  const double progress = double(step - warmup) / double(total - warmup);  // [0, 1)
  const double shape =
      options_.decay == LrDecay::kLinear ? 1.0 - progress : 0.5 * (1.0 + std::cos(kPi * progress));
  return static_cast<float>(floor + (peak - floor) * shape);
}

}  // namespace sentemb
