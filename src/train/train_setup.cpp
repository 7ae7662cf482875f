// Set-up of a training run: outputs checked, checkpoint or model, data, optimiser,
// schedule (train_run.h).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sentemb/errors.h"
#include "sentemb/model_file.h"
#include "sentemb/parameters.h"
#include "sentemb/train/tokenizer_trainer.h"
#include "train/run_options.h"
#include "train/train_run.h"

namespace sentemb::train {

namespace {

// Fails before any training if a file cannot be written there.
void check_writable(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  const std::string probe = path + ".write-test";
  std::ofstream out(probe, std::ios::binary);
  if (!out) throw IoError(fmt::format("{}: cannot write here", path));
  out.close();
  std::filesystem::remove(probe, ec);
}

Checkpoint load_for_resume(const TrainOptions& o, const std::string& path) {
  if (!std::filesystem::exists(path))
    throw UsageError(fmt::format("--resume: no checkpoint at {}", path));
  Checkpoint checkpoint = load_checkpoint(path);
  check_resume_fingerprint(checkpoint.run_fingerprint, run_fingerprint(o), path);
  return checkpoint;
}

// A new model: the tokenizer given, or one trained on the training text.
Model new_model(const TrainOptions& o, int threads, const dist::Communicator& comm) {
  std::string tokenizer_bytes;
  if (!o.tokenizer.empty()) {
    tokenizer_bytes = Tokenizer::from_file(o.tokenizer).serialized();
  } else {
    TokenizerTrainOptions to;
    to.vocab_size = o.vocab_size.value_or(kDefaultTrainVocabSize);
    to.lowercase = o.lowercase;
    to.threads = threads;
    // Trained once, by rank 0, so that every process of a run has the same tokenizer.
    if (comm.rank() == 0) tokenizer_bytes = train_tokenizer(read_training_text(o), to);
    dist::broadcast(comm, tokenizer_bytes, 0);
  }
  ModelConfig config = o.model;
  config.vocab_size = Tokenizer::from_bytes(tokenizer_bytes).vocab_size();
  return Model::create(config, tokenizer_bytes, o.seed, o.token_embedding_std);
}

std::vector<ParamRange> decay_ranges(const ModelConfig& config) {
  std::vector<ParamRange> ranges;
  for (const auto& spec : parameter_specs(config))
    if (spec.weight_decay)
      ranges.push_back(
          {static_cast<std::size_t>(spec.offset), static_cast<std::size_t>(spec.size)});
  return ranges;
}

// Each batch comes from one source; sources mix by --weights, else by size.
std::unique_ptr<Batcher> make_batcher(const TrainOptions& o, const std::vector<SourceData>& data) {
  std::vector<std::vector<BatchItemKey>> keys;
  std::vector<double> weights;
  bool any_weight = false;
  for (const auto& d : data) {
    keys.push_back(d.keys);
    weights.push_back(d.source.weight > 0 ? d.source.weight : double(d.examples.size()));
    any_weight |= d.source.weight > 0;
  }
  return std::make_unique<Batcher>(std::move(keys), any_weight ? weights : std::vector<double>{},
                                   o.batch, o.seed);
}

std::unique_ptr<LrSchedule> make_schedule(const TrainOptions& o, std::int64_t total_steps) {
  LrScheduleOptions so;
  so.peak_lr = o.lr;
  so.total_steps = total_steps;
  so.warmup_steps = o.warmup < 1 ? static_cast<std::int64_t>(std::llround(o.warmup * total_steps))
                                 : static_cast<std::int64_t>(o.warmup);
  so.decay = lr_decay_from_string(o.decay);
  return std::make_unique<LrSchedule>(so);
}

void restore(TrainRun& run, const Checkpoint& c) {
  run.total_steps = c.total_steps;
  run.batcher->load_state(c.batcher_state);
  run.adam->load_state(c.adam_step, c.adam_m, c.adam_v);
  run.step = c.step;
  run.seconds_before = c.elapsed_seconds;
  run.best_spearman = c.best_spearman;
  if (!c.ema.empty()) run.ema = c.ema;
}

}  // namespace

Model TrainRun::output_model() const {
  if (ema.empty()) return model;
  Model averaged = model;
  averaged.parameters = ema;
  return averaged;
}

TrainRun start_run(const TrainOptions& o, int threads) {
  TrainRun run;
  run.options = o;
  run.threads = threads;
  check_writable(o.out);
  if (!o.checkpoint_dir.empty())
    run.checkpoint_path = (std::filesystem::path(o.checkpoint_dir) / "checkpoint.semb").string();
  if (!run.checkpoint_path.empty() && !o.resume) check_writable(run.checkpoint_path);
  if (o.resume) run.resumed = load_for_resume(o, run.checkpoint_path);
  if (run.resumed)
    run.model = run.resumed->model;
  else if (!o.init.empty())
    run.model = load_model(o.init);  // fine-tuning: weights, tokenizer and configuration
  else
    run.model = new_model(o, threads, *run.comm);
  if (!o.matryoshka_dims.empty() && !run.resumed) {
    run.model.config.matryoshka_dims = o.matryoshka_dims;  // what --dim may truncate to
    try {
      run.model.config.validate();
    } catch (const UsageError& e) {
      throw UsageError(fmt::format("--matryoshka-dims: {}", e.what()));
    }
  }
  validate_batch_size(o, run.model.config);
  run.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_bytes(run.model.tokenizer_model));
  return run;
}

void load_run_data(TrainRun& run, const std::function<void(const std::string&)>& on_warning) {
  const TrainOptions& o = run.options;
  run.data =
      load_training_data(o, *run.tokenizer, run.model.config.max_len, run.threads, on_warning);
  run.batcher = make_batcher(o, run.data);
  run.total_steps = o.epochs * static_cast<std::int64_t>(run.batcher->batches_per_epoch());
  if (o.max_steps > 0) run.total_steps = std::min(run.total_steps, o.max_steps);
  run.adam = std::make_unique<AdamW>(run.model.parameters.size(),
                                     AdamWOptions{0.9f, 0.999f, 1e-8f, o.weight_decay},
                                     decay_ranges(run.model.config));
  if (o.ema > 0) run.ema = run.model.parameters;
  if (run.resumed) restore(run, *run.resumed);
  run.resumed.reset();  // its copies of the weights and moments are not needed any more
  run.schedule = make_schedule(o, run.total_steps);
}

Checkpoint snapshot(const TrainRun& run, double seconds) {
  return Checkpoint{run.model,
                    run.step,
                    run.total_steps,
                    run.adam->step_count(),
                    run.adam->m(),
                    run.adam->v(),
                    run.ema,
                    run.batcher->save_state(),
                    run.best_spearman,
                    seconds,
                    run_fingerprint(run.options).dump()};
}

}  // namespace sentemb::train
