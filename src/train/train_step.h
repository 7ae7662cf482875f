// One optimiser step of a run: batch → forward → loss → backward → clip → AdamW →
// weight average, at the learning rate the schedule gives. Its parts are separate
// methods so that a variant replaces one: a gradient-caching step replaces
// compute_gradients, a data-parallel run reduces the gradients between the two.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/augment.h"
#include "train/batch_gradients.h"
#include "train/batcher.h"
#include "train/losses.h"
#include "train/train_run.h"
#include "train/training_encoder.h"

namespace sentemb::train {

struct StepStats {
  float loss = 0;
  std::vector<std::pair<std::string, float>> terms;  // each loss's own value
  double grad_norm = 0;                              // before clipping
  float lr = 0;
  std::int64_t epoch = 0;
  std::size_t source = 0;  // index into run.data
};

class TrainStep {
 public:
  // Builds the losses (UsageError if a pair source meets a loss that needs triplets)
  // and the training encoder for the run's model.
  explicit TrainStep(const TrainRun& run);

  // Advances run by one step. training_seconds: time trained so far, which moves the
  // schedule with --max-minutes. Throws NumericError if the loss or gradient is not finite.
  StepStats run(TrainRun& run, double training_seconds);

 private:
  // The batch's sequences: anchors (B), positives (B), negatives (B, triplets only),
  // augmented with --augment.
  void gather(const TrainRun& run, const Batcher::Batch& batch);
  // Forward, loss and backward, whole or in --mini-batch chunks: the gradient of the
  // batch's loss into grads_.
  float compute_gradients(const TrainRun& run, const Batcher::Batch& batch, Loss& loss);
  float scheduled_lr(const TrainRun& run, double training_seconds) const;
  void update_average(TrainRun& run) const;

  std::unique_ptr<Loss> pair_loss_, labeled_loss_;
  TrainingEncoder encoder_;
  BatchGradients batch_gradients_;
  std::vector<float> grads_;                   // (parameter_count)
  std::vector<std::uint64_t> keys_;            // (2B or 3B) each row's dropout key: its row
  std::vector<const std::vector<int>*> seqs_;  // (2B or 3B) what the encoder reads
  AugmentOptions augment_;
  std::vector<std::vector<int>> augmented_;  // (2B or 3B) with --augment: seqs_ point here
  std::vector<float> labels_;
  std::vector<std::int64_t> groups_;
};

}  // namespace sentemb::train
