// run_training: the pipeline of a training run (docs/architecture.md, "Training flow").
// Set-up (train_setup.cpp) → per step: stop rules (stop_rules.cpp), the step
// (train_step.cpp), log (train_log.cpp), evaluation and best model (best_model.cpp),
// checkpoint (checkpoint.cpp) → the end: final evaluation, model, checkpoint.
#include "sentemb/train/trainer.h"

#include "omp_thread_scope.h"
#include "sentemb/model_file.h"
#include "train/best_model.h"
#include "train/run_options.h"
#include "train/stop_rules.h"
#include "train/train_log.h"
#include "train/train_run.h"
#include "train/train_step.h"

namespace sentemb {

namespace {

void write_checkpoint(const train::TrainRun& run, double seconds) {
  if (!run.checkpoint_path.empty())
    train::save_checkpoint(train::snapshot(run, seconds), run.checkpoint_path);
}

TrainProgress progress_of(const train::TrainRun& run, double seconds) {
  TrainProgress p;
  p.step = run.step;
  p.total_steps = run.total_steps;
  p.elapsed_seconds = seconds;
  return p;
}

// The steps until a stop rule fires; returns its reason.
std::string train_until_stop(train::TrainRun& run, train::BestModelKeeper& keeper,
                             train::TrainLog& log, const train::TrainingClock& clock,
                             const TrainCallbacks& callbacks, TrainResult& result) {
  train::TrainStep step(run);
  const train::StopRules stop(run);
  train::Throughput throughput;
  for (;;) {
    if (auto reason = stop.before_step(run, clock.seconds())) return *reason;
    const train::StepStats stats = step.run(run, clock.seconds());
    result.final_loss = stats.loss;
    TrainProgress progress = progress_of(run, clock.seconds());
    progress.loss = stats.loss;
    progress.pairs_per_second = throughput.add_step(run.options.batch);
    log.step(run, stats, progress.pairs_per_second, progress.elapsed_seconds);
    if (keeper.due(run)) progress.eval_spearman = keeper.evaluate(run, log, clock.seconds());
    if (run.step % run.options.checkpoint_every == 0) write_checkpoint(run, clock.seconds());
    if (callbacks.on_progress) callbacks.on_progress(progress);
  }
}

}  // namespace

TrainResult run_training(const TrainOptions& options, const TrainCallbacks& callbacks) {
  train::validate_options(options);
  const OmpThreadScope threads(resolve_thread_count(options.threads));  // restored on return
  train::TrainLog log(options.log, options.resume, options.log_every);
  train::TrainRun run = train::start_run(options, resolve_thread_count(options.threads));
  TrainResult result;
  if (options.max_steps == 0) {  // the initialised model, untrained
    save_model(run.model, options.out);
    result.stop_reason = "max-steps";
    return result;
  }
  train::load_run_data(run, callbacks.on_warning);
  train::BestModelKeeper keeper(run);

  const train::TrainingClock clock(run.seconds_before);  // from the first step
  result.stop_reason = train_until_stop(run, keeper, log, clock, callbacks, result);
  result.interrupted = result.stop_reason == "interrupted";

  const bool paused = result.interrupted || result.stop_reason == "paused";
  TrainProgress final_progress = progress_of(run, clock.seconds());
  final_progress.eval_spearman = keeper.finish(run, log, clock.seconds(), paused);
  if (callbacks.on_progress && final_progress.eval_spearman) callbacks.on_progress(final_progress);
  write_checkpoint(run, clock.seconds());
  result.steps = run.step;
  result.best_spearman = run.best_spearman;
  return result;
}

TrainResult run_training(const TrainOptions& options,
                         const std::function<void(const TrainProgress&)>& on_progress) {
  TrainCallbacks callbacks;
  callbacks.on_progress = on_progress;
  return run_training(options, callbacks);
}

}  // namespace sentemb
