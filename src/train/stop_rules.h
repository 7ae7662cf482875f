// When a run stops, and the clock it is measured by.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "train/train_run.h"

namespace sentemb::train {

// Training time: from the first step of this session, plus the sessions before a
// resume. Set-up (tokenizer training, data loading) is not counted: --max-minutes and
// the schedule that follows it measure training alone.
class TrainingClock {
 public:
  explicit TrainingClock(double seconds_before) : before_(seconds_before) {}
  double seconds() const {
    return before_ +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  double before_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// The stopping rules, checked before each step. Reasons: "interrupted" (SIGINT /
// SIGTERM), "paused" (--pause-after), "max-minutes", "max-steps", "epochs".
class StopRules {
 public:
  explicit StopRules(const TrainRun& run) : first_step_(run.step) {}
  // interrupted: a stop was requested (in a data-parallel run: by any process).
  std::optional<std::string> before_step(const TrainRun& run, double training_seconds,
                                         bool interrupted) const;

 private:
  std::int64_t first_step_;  // of this session
};

}  // namespace sentemb::train
