// run_training: the pipeline of a training run (docs/architecture.md, "Training flow").
// Set-up (train_setup.cpp) → per step: stop rules (stop_rules.cpp), the step
// (train_step.cpp), log (train_log.cpp), evaluation and best model (best_model.cpp),
// checkpoint (checkpoint.cpp) → the end: final evaluation, model, checkpoint.
// Data-parallel (under mpirun or srun, dist/communicator.h): every process runs this
// same loop on the same global batches; the step shares the work (batch_gradients.h),
// the processes agree on the clock and on stopping, and rank 0 alone evaluates, logs
// and writes (for_this_rank, TrainRun::writes).
#include "sentemb/train/trainer.h"

#include <fmt/format.h>

#include <numeric>

#include "omp_thread_scope.h"
#include "sentemb/errors.h"
#include "sentemb/model_file.h"
#include "train/best_model.h"
#include "train/run_options.h"
#include "train/stop_rules.h"
#include "train/stop_signals.h"
#include "train/train_log.h"
#include "train/train_run.h"
#include "train/train_step.h"

namespace sentemb {

namespace {

constexpr std::int64_t kSameWeightsCheckEvery = 100;  // steps, data-parallel runs

void write_checkpoint(const train::TrainRun& run, double seconds) {
  if (run.writes() && !run.checkpoint_path.empty())
    train::save_checkpoint(train::snapshot(run, seconds), run.checkpoint_path);
}

TrainProgress progress_of(const train::TrainRun& run, double seconds) {
  TrainProgress p;
  p.step = run.step;
  p.total_steps = run.total_steps;
  p.elapsed_seconds = seconds;
  return p;
}

// Every process but rank 0 leaves out the log, the evaluation and the progress reports.
TrainOptions for_this_rank(TrainOptions o, const dist::Communicator& comm) {
  if (comm.rank() != 0) {
    o.log.clear();
    o.eval_sts.clear();
  }
  return o;
}

// The clock and the stop request every process goes by: rank 0's clock (the schedule
// follows it with --max-minutes), and a stop asked of any process.
struct Agreed {
  double seconds = 0;
  bool interrupted = false;
};

Agreed agree(const dist::Communicator& comm, const train::TrainingClock& clock) {
  double values[2] = {comm.rank() == 0 ? clock.seconds() : 0.0,
                      train::take_stop_request() ? 1.0 : 0.0};
  comm.allreduce_max(values, 2);
  return {values[0], values[1] > 0};
}

// Every process takes the same AdamW step, so the weights stay the same; a cheap sum
// checks it now and then.
void check_same_weights(const train::TrainRun& run) {
  if (run.comm->size() == 1 || run.step % kSameWeightsCheckEvery != 0) return;
  const auto& p = run.model.parameters;
  const double sum = std::accumulate(p.begin(), p.end(), 0.0);
  double range[2] = {sum, -sum};
  run.comm->allreduce_max(range, 2);
  if (range[0] != -range[1])
    throw Error(fmt::format("step {}: the weights differ between the processes ({} and {})",
                            run.step, -range[1], range[0]));
}

// The steps until a stop rule fires; returns its reason.
std::string train_until_stop(train::TrainRun& run, train::BestModelKeeper& keeper,
                             train::TrainLog& log, const train::TrainingClock& clock,
                             const TrainCallbacks& callbacks, TrainResult& result) {
  train::TrainStep step(run);
  const train::StopRules stop(run);
  train::Throughput throughput;
  for (;;) {
    const Agreed now = agree(*run.comm, clock);
    if (auto reason = stop.before_step(run, now.seconds, now.interrupted)) return *reason;
    const train::StepStats stats = step.run(run, now.seconds);
    check_same_weights(run);
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

int threads_of(const TrainOptions& options, const dist::Communicator& comm) {
  return options.threads > 0 ? options.threads : dist::default_threads(comm);
}

}  // namespace

TrainResult run_training(const TrainOptions& all_options, const TrainCallbacks& all_callbacks) {
  train::validate_options(all_options);
  const dist::Communicator& comm = dist::world();
  if (all_options.batch < comm.size())
    throw UsageError(
        fmt::format("--batch {} is smaller than the {} processes", all_options.batch, comm.size()));
  const TrainOptions options = for_this_rank(all_options, comm);
  const TrainCallbacks callbacks = comm.rank() == 0 ? all_callbacks : TrainCallbacks{};
  const OmpThreadScope threads(threads_of(options, comm));  // restored on return
  train::TrainLog log(options.log, options.resume, options.log_every);
  train::TrainRun run = train::start_run(options, threads_of(options, comm));
  TrainResult result;
  if (options.max_steps == 0) {  // the initialised model, untrained
    if (run.writes()) save_model(run.model, options.out);
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
  run.comm->barrier();  // no process ends the job before rank 0 has written
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
