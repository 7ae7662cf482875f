#include "train/train_step.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sentemb/errors.h"
#include "train/run_options.h"

namespace sentemb::train {

namespace {

std::string kept_checkpoint(const TrainRun& run) {
  return run.checkpoint_path.empty()
             ? std::string("No checkpoint was being written.")
             : fmt::format("The last good checkpoint is kept in {}.", run.checkpoint_path);
}

}  // namespace

namespace {

// The loss of a spec, summed over the Matryoshka widths when the run has them.
std::unique_ptr<Loss> build_loss(const TrainOptions& o, const std::string& spec) {
  if (o.matryoshka_dims.empty()) return make_loss(spec, loss_options(o));
  return std::make_unique<MatryoshkaLoss>(o.matryoshka_dims,
                                          [&] { return make_loss(spec, loss_options(o)); });
}

}  // namespace

TrainStep::TrainStep(const TrainRun& run)
    : pair_loss_(build_loss(run.options, run.options.loss)),
      labeled_loss_(build_loss(run.options, "contrastive")),
      encoder_(run.model.config, {run.options.dropout, run.options.dropout, run.options.dropout},
               run.options.bf16),
      batch_gradients_(*run.comm),
      grads_(run.model.parameters.size()) {
  if (!run.options.augment.empty()) augment_ = augment_options_from_string(run.options.augment);
  for (const auto& d : run.data)
    if (d.source.format != CorpusFormat::kTriplets && d.source.format != CorpusFormat::kLabeled &&
        pair_loss_->needs_negative())
      throw UsageError(
          fmt::format("loss '{}' needs triplets, but {} holds {} (use "
                      "--batch-hard or a loss without negatives)",
                      run.options.loss, d.source.path,
                      d.source.format == CorpusFormat::kText ? "plain text" : "pairs"));
}

void TrainStep::gather(const TrainRun& run, const Batcher::Batch& batch) {
  const auto& source = run.data[batch.source];
  seqs_.clear();
  labels_.clear();
  groups_.clear();
  for (auto i : batch.items) seqs_.push_back(&source.examples[i].anchor);
  const bool text = source.source.format == CorpusFormat::kText;
  for (auto i : batch.items)
    seqs_.push_back(text ? &source.examples[i].anchor : &source.examples[i].positive);
  if (source.source.format == CorpusFormat::kTriplets)
    for (auto i : batch.items) seqs_.push_back(&source.examples[i].negative);
  for (auto i : batch.items) {
    labels_.push_back(source.examples[i].label);
    groups_.push_back(source.examples[i].group);
  }
  if (!augment_.enabled()) return;
  augmented_.resize(seqs_.size());
  for (std::size_t row = 0; row < seqs_.size(); ++row) {
    augmented_[row] =
        augment(*seqs_[row], augment_,
                augment_key(run.options.seed, run.step, static_cast<std::int64_t>(row)));
    seqs_[row] = &augmented_[row];
  }
}

float TrainStep::compute_gradients(const TrainRun& run, const Batcher::Batch& batch, Loss& loss) {
  const CorpusFormat format = run.data[batch.source].source.format;
  LossBatch lb;
  lb.sequences = &seqs_;
  keys_.resize(seqs_.size());
  for (std::size_t row = 0; row < keys_.size(); ++row) keys_[row] = row;
  lb.keys = keys_.data();
  lb.batch = static_cast<int>(batch.items.size());
  lb.triplets = format == CorpusFormat::kTriplets;
  lb.labels = format == CorpusFormat::kLabeled ? labels_.data() : nullptr;
  lb.groups = groups_.data();
  const int rows_per_example = static_cast<int>(seqs_.size() / batch.items.size());
  std::fill(grads_.begin(), grads_.end(), 0.0f);
  // Dropout masks depend on (seed, step, row) only: a resumed run draws the same ones.
  const float value = batch_gradients_.compute(
      encoder_, run.model.parameters.data(), lb,
      run.options.seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(run.step), loss,
      grads_.data(), run.options.mini_batch * rows_per_example);
  if (!std::isfinite(value))
    throw NumericError(fmt::format("the loss became {} at step {}; training stopped. {}",
                                   std::isnan(value) ? "NaN" : "infinite", run.step + 1,
                                   kept_checkpoint(run)));
  return value;
}

// With a time limit, the schedule runs on whichever comes first, steps or training
// time, so a run cut by --max-minutes still finishes its decay.
float TrainStep::scheduled_lr(const TrainRun& run, double training_seconds) const {
  std::int64_t position = run.step;
  const double budget = run.options.max_minutes * 60;
  if (budget > 0)
    position = std::max<std::int64_t>(
        position, static_cast<std::int64_t>(training_seconds / budget * run.total_steps));
  return run.schedule->lr_at(std::min(position, run.total_steps - 1));
}

// Polyak / EMA weights; early on the average would be dominated by the initialisation,
// so the decay ramps up.
void TrainStep::update_average(TrainRun& run) const {
  if (run.ema.empty()) return;
  const float decay = std::min(run.options.ema, (1.0f + run.step) / (10.0f + run.step));
  const std::size_t n = run.ema.size();
  float* ema = run.ema.data();
  const float* params = run.model.parameters.data();
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) ema[i] = decay * ema[i] + (1.0f - decay) * params[i];
}

StepStats TrainStep::run(TrainRun& run, double training_seconds) {
  const Batcher::Batch batch = run.batcher->next();
  gather(run, batch);
  Loss& loss =
      run.data[batch.source].source.format == CorpusFormat::kLabeled ? *labeled_loss_ : *pair_loss_;
  StepStats stats;
  stats.loss = compute_gradients(run, batch, loss);
  run.comm->allreduce_sum(grads_.data(), grads_.size());  // every process's rows
  stats.terms = loss.terms();
  stats.grad_norm = grad_norm(grads_.data(), grads_.size());
  if (!std::isfinite(stats.grad_norm))
    throw NumericError(
        fmt::format("the gradient became non-finite at step {}; training stopped. {}", run.step + 1,
                    kept_checkpoint(run)));
  stats.lr = scheduled_lr(run, training_seconds);
  run.adam->step(run.model.parameters.data(), grads_.data(), stats.lr,
                 clip_factor(run.options.clip, stats.grad_norm));  // clipped
  update_average(run);
  ++run.step;
  stats.epoch = batch.epoch;
  stats.source = batch.source;
  return stats;
}

}  // namespace sentemb::train
