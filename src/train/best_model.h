// Evaluation during training and best-model keeping: with --eval-sts, the model
// written to --out is the best-scoring evaluation's; without, the last weights.
#pragma once

#include <optional>

#include "train/sts_evaluator.h"
#include "train/train_log.h"
#include "train/train_run.h"

namespace sentemb::train {

class BestModelKeeper {
 public:
  explicit BestModelKeeper(const TrainRun& run);  // call after load_run_data
  bool evaluates() const { return evaluator_.has_value(); }

  // Scores the run's output weights; if they beat every earlier evaluation (of this run
  // and of the sessions before a resume), writes them to --out. Logs the scores.
  std::optional<double> evaluate(TrainRun& run, TrainLog& log, double seconds);
  // Whether it is time to evaluate after the step just done (not after the last one:
  // the final evaluation follows the loop).
  bool due(const TrainRun& run) const;
  // At the end of a run: the final evaluation, or without one the last weights written.
  // paused: a paused or interrupted run is not at its end, so it is not evaluated.
  std::optional<double> finish(TrainRun& run, TrainLog& log, double seconds, bool paused);

 private:
  std::optional<StsEvaluator> evaluator_;
};

}  // namespace sentemb::train
