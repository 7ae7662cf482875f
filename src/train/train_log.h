// The run's JSON-lines log (--log): one record per --log-every steps and one per
// evaluation; appended to on --resume. Also measures throughput for progress reports.
#pragma once

#include <chrono>
#include <fstream>
#include <string>

#include "train/sts_evaluator.h"
#include "train/train_step.h"

namespace sentemb::train {

class TrainLog {
 public:
  // path empty: no log. Throws IoError if it cannot be opened.
  TrainLog(const std::string& path, bool append, std::int64_t every);

  void step(const TrainRun& run, const StepStats& stats, double pairs_per_second, double seconds);
  void evaluation(std::int64_t step, const StsEvaluator::Scores& scores, bool best, double seconds);

 private:
  std::ofstream out_;
  std::int64_t every_;
};

// Pairs per second over a window of about 10 s of steps.
class Throughput {
 public:
  double add_step(int batch);  // the current rate

 private:
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  std::int64_t window_steps_ = 0;
  double rate_ = 0;
};

}  // namespace sentemb::train
