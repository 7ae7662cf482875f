#include "sentemb/train/trainer.h"

#include <fmt/format.h>
#include <omp.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "encoder_forward.h"
#include "sentemb/errors.h"
#include "sentemb/model_file.h"
#include "sentemb/parameters.h"
#include "sentemb/similarity.h"
#include "sentemb/train/tokenizer_trainer.h"
#include "train/adamw.h"
#include "train/batcher.h"
#include "train/checkpoint.h"
#include "train/losses.h"
#include "train/lr_schedule.h"
#include "train/training_data.h"
#include "train/training_encoder.h"

namespace sentemb {

namespace {

std::atomic<bool> stop_requested{false};

void validate(const TrainOptions& o) {
  if (o.sources.empty())
    throw UsageError("no training data: give --pairs, --triplets or --labeled");
  if (o.out.empty()) throw UsageError("--out is required");
  if (o.batch < 2) throw UsageError(fmt::format("--batch must be >= 2, got {}", o.batch));
  if (!(o.lr > 0)) throw UsageError(fmt::format("--lr must be > 0, got {}", o.lr));
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw UsageError(fmt::format("--dropout must be in [0, 1), got {}", o.dropout));
  if (o.epochs < 1) throw UsageError(fmt::format("--epochs must be >= 1, got {}", o.epochs));
  if (o.eval_every < 1 || o.checkpoint_every < 1 || o.log_every < 1)
    throw UsageError("--eval-every, --checkpoint-every and --log-every must be >= 1");
  if (o.resume && o.checkpoint_dir.empty()) throw UsageError("--resume needs --checkpoint-dir");
}

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

// The options a resumed run must share with the run it continues.
std::string run_fingerprint(const TrainOptions& o) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : o.sources) sources.push_back({s.path, to_string(s.format), s.weight});
  nlohmann::json f{{"sources", sources},       {"groups", o.group_files},
                   {"loss", o.loss},           {"batch", o.batch},
                   {"seed", o.seed},           {"lr", o.lr},
                   {"epochs", o.epochs},       {"max_steps", o.max_steps},
                   {"dropout", o.dropout},     {"temperature", o.temperature},
                   {"symmetric", o.symmetric}, {"ema", o.ema}};
  if (o.bf16) f["bf16"] = true;  // only when set: fp32 checkpoints of older builds still resume
  return f.dump();
}

// STS evaluation: Spearman of cosine similarity against gold scores.
class StsEvaluator {
 public:
  StsEvaluator(const std::string& path, const Tokenizer& tokenizer, const ModelConfig& config,
               const float* parameters, int threads)
      : forward_(config, bind_parameters(config, const_cast<float*>(parameters)), Precision::kFp32,
                 kBatch, EncoderForward::Weights::kLive),
        dim_(config.dim) {
    CorpusReader reader(path, CorpusFormat::kSts);
    Record r;
    std::vector<std::string> texts;
    while (reader.next(r)) {
      texts.push_back(r.a);
      texts.push_back(r.b);
      gold_.push_back(r.score);
    }
    if (gold_.size() < 2) throw InputError(path, 0, "an STS file needs at least 2 pairs");
    ids_ = tokenizer.encode_batch(texts, config.max_len, threads);
  }

  std::pair<double, double> evaluate() {  // (spearman, pearson)
    std::vector<float> vectors(ids_.size() * dim_);
    std::vector<const std::vector<int>*> batch;
    for (std::size_t start = 0; start < ids_.size(); start += kBatch) {
      batch.clear();
      for (std::size_t i = start; i < std::min(ids_.size(), start + kBatch); ++i)
        batch.push_back(&ids_[i]);
      forward_.forward(batch, vectors.data() + start * dim_, false);
    }
    std::vector<double> predicted(gold_.size());
    for (std::size_t i = 0; i < gold_.size(); ++i)
      predicted[i] =
          cosine(vectors.data() + 2 * i * dim_, vectors.data() + (2 * i + 1) * dim_, dim_);
    return {spearman(predicted, gold_), pearson(predicted, gold_)};
  }

 private:
  static constexpr std::size_t kBatch = 128;
  EncoderForward forward_;
  std::size_t dim_;
  std::vector<std::vector<int>> ids_;
  std::vector<double> gold_;
};

std::vector<ParamRange> decay_ranges(const ModelConfig& config) {
  std::vector<ParamRange> ranges;
  for (const auto& spec : parameter_specs(config))
    if (spec.weight_decay)
      ranges.push_back(
          {static_cast<std::size_t>(spec.offset), static_cast<std::size_t>(spec.size)});
  return ranges;
}

}  // namespace

// Why a watcher thread and not a signal handler: oneDNN 2.x's JIT GEMM kernels point rsp
// into a heap buffer while they run (oneDNN issue #4845, fixed in 3.x), so a signal delivered
// to a computing thread pushes its frame onto the heap and corrupts it. Blocking SIGINT and
// SIGTERM here, before any worker thread exists, keeps them blocked in every thread created
// later (threads inherit the mask); only the watcher takes them, with sigwait.
void watch_stop_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread([signals] {
      for (;;) {
        int signal = 0;
        if (sigwait(&signals, &signal) != 0) continue;
        if (!stop_requested.exchange(true)) continue;
        // A second signal before the run stopped: the user will not wait for the step (or
        // the data loading) to end.
        // Checkpoints are written atomically, so the last one stays whole.
        static constexpr char kMessage[] = "\nquit at once: a second signal; no new checkpoint\n";
        [[maybe_unused]] auto written = ::write(2, kMessage, sizeof kMessage - 1);
        std::_Exit(130);
      }
    }).detach();
  });
}

TrainResult run_training(const TrainOptions& o,
                         const std::function<void(const TrainProgress&)>& on_progress) {
  validate(o);
  const auto started = std::chrono::steady_clock::now();
  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  omp_set_num_threads(threads);
  check_writable(o.out);
  const std::string checkpoint_path =
      o.checkpoint_dir.empty()
          ? ""
          : (std::filesystem::path(o.checkpoint_dir) / "checkpoint.semb").string();
  if (!checkpoint_path.empty() && !o.resume) check_writable(checkpoint_path);
  std::ofstream log;
  if (!o.log.empty()) {
    log.open(o.log, o.resume ? std::ios::app : std::ios::trunc);
    if (!log) throw IoError(fmt::format("{}: cannot write the log", o.log));
  }

  // The model: from the checkpoint, or new from a tokenizer (given or trained here).
  std::optional<train::Checkpoint> resumed;
  if (o.resume) {
    if (!std::filesystem::exists(checkpoint_path))
      throw UsageError(fmt::format("--resume: no checkpoint at {}", checkpoint_path));
    resumed = train::load_checkpoint(checkpoint_path);
    if (resumed->run_fingerprint != run_fingerprint(o))
      throw UsageError(fmt::format(
          "--resume: the options differ from those of the run in {} (data, loss, batch, seed, "
          "lr, epochs, max-steps, dropout must be the same)",
          checkpoint_path));
  }
  Model model;
  if (resumed) {
    model = resumed->model;
  } else {
    std::string tokenizer_bytes;
    if (!o.tokenizer.empty()) {
      tokenizer_bytes = Tokenizer::from_file(o.tokenizer).serialized();
    } else {
      TokenizerTrainOptions to;
      to.vocab_size = o.vocab_size;
      to.lowercase = o.lowercase;
      to.threads = threads;
      tokenizer_bytes = train_tokenizer(train::read_training_text(o), to);
    }
    ModelConfig config = o.model;
    config.vocab_size = Tokenizer::from_bytes(tokenizer_bytes).vocab_size();
    model = Model::create(config, tokenizer_bytes, o.seed, o.token_embedding_std);
  }
  const ModelConfig& config = model.config;
  const Tokenizer tokenizer = Tokenizer::from_bytes(model.tokenizer_model);
  TrainResult result;
  if (o.max_steps == 0) {
    save_model(model, o.out);
    result.stop_reason = "max-steps";
    return result;
  }

  // Data, losses, batcher, schedule, optimiser.
  auto data = train::load_training_data(o, tokenizer, config.max_len, threads);
  LossOptions lo;
  lo.infonce = {o.temperature, o.symmetric};
  lo.triplet.distance = triplet_distance_from_string(o.distance);
  lo.triplet.margin = o.margin;
  lo.triplet.batch_hard = o.batch_hard;
  if (o.margin >= 0) lo.contrastive.margin = o.margin;
  auto pair_loss = make_loss(o.loss, lo);
  auto labeled_loss = make_loss("contrastive", lo);
  std::vector<std::vector<BatchItemKey>> keys;
  std::vector<double> weights;
  bool any_weight = false;
  for (const auto& d : data) {
    if (d.source.format == CorpusFormat::kPairs && pair_loss->needs_negative())
      throw UsageError(
          fmt::format("loss '{}' needs triplets, but {} holds pairs (use "
                      "--batch-hard or a loss without negatives)",
                      o.loss, d.source.path));
    keys.push_back(d.keys);
    weights.push_back(d.source.weight > 0 ? d.source.weight : double(d.examples.size()));
    any_weight |= d.source.weight > 0;
  }
  Batcher batcher(std::move(keys), any_weight ? weights : std::vector<double>{}, o.batch, o.seed);
  std::int64_t total_steps = o.epochs * static_cast<std::int64_t>(batcher.batches_per_epoch());
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);
  const std::size_t n = model.parameters.size();
  AdamW adam(n, AdamWOptions{0.9f, 0.999f, 1e-8f, o.weight_decay}, decay_ranges(config));
  std::int64_t step = 0;
  double elapsed_before = 0;
  std::optional<double> best = std::nullopt;
  if (resumed) {
    total_steps = resumed->total_steps;
    batcher.load_state(resumed->batcher_state);
    adam.load_state(resumed->adam_step, resumed->adam_m, resumed->adam_v);
    step = resumed->step;
    elapsed_before = resumed->elapsed_seconds;
    best = resumed->best_spearman;
  }
  // Averaged weights (Polyak / EMA): what gets evaluated and written when --ema is on.
  std::vector<float> ema;
  if (o.ema > 0) ema = resumed && !resumed->ema.empty() ? resumed->ema : model.parameters;
  auto output_model = [&] {
    if (ema.empty()) return model;
    Model averaged = model;
    averaged.parameters = ema;
    return averaged;
  };
  LrScheduleOptions so;
  so.peak_lr = o.lr;
  so.total_steps = total_steps;
  so.warmup_steps = o.warmup < 1 ? static_cast<std::int64_t>(std::llround(o.warmup * total_steps))
                                 : static_cast<std::int64_t>(o.warmup);
  so.decay = lr_decay_from_string(o.decay);
  const LrSchedule schedule(so);

  train::TrainingEncoder encoder(config, {o.dropout, o.dropout, o.dropout}, o.bf16);
  std::optional<StsEvaluator> evaluator;
  if (!o.eval_sts.empty())
    evaluator.emplace(o.eval_sts, tokenizer, config,
                      ema.empty() ? model.parameters.data() : ema.data(), threads);

  auto elapsed = [&] {
    return elapsed_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto write_checkpoint = [&] {
    if (checkpoint_path.empty()) return;
    train::Checkpoint c{model,
                        step,
                        total_steps,
                        adam.step_count(),
                        adam.m(),
                        adam.v(),
                        ema,
                        batcher.save_state(),
                        best,
                        elapsed(),
                        run_fingerprint(o)};
    train::save_checkpoint(c, checkpoint_path);
  };
  auto evaluate = [&](TrainProgress& progress) {
    if (!evaluator) return;
    const auto [rho, r] = evaluator->evaluate();
    progress.eval_spearman = rho;
    const bool improved = !best || rho > *best;
    if (improved) {
      best = rho;
      save_model(output_model(), o.out);
    }
    if (log)
      log << nlohmann::json{{"step", step},
                            {"eval_spearman", rho},
                            {"eval_pearson", r},
                            {"best", improved},
                            {"elapsed_s", elapsed()}}
                 .dump()
          << std::endl;
  };

  std::vector<float> grads(n), emb, demb;
  std::vector<const std::vector<int>*> seqs;
  std::vector<float> labels;
  std::vector<std::int64_t> groups;
  result.stop_reason = "epochs";
  const std::int64_t first_step = step;
  auto window_start = std::chrono::steady_clock::now();
  std::int64_t window_steps = 0;
  double pairs_per_second = 0;
  while (step < total_steps) {
    if (stop_requested.exchange(false)) {  // consumed: a later run starts afresh
      result.interrupted = true;
      result.stop_reason = "interrupted";
      break;
    }
    if (o.pause_after > 0 && step - first_step >= o.pause_after) {
      result.stop_reason = "paused";
      break;
    }
    if (o.max_minutes > 0 && elapsed() >= o.max_minutes * 60) {
      result.stop_reason = "max-minutes";
      break;
    }
    const Batcher::Batch b = batcher.next();
    const auto& source = data[b.source];
    const bool triplets = source.source.format == CorpusFormat::kTriplets;
    const bool labeled = source.source.format == CorpusFormat::kLabeled;
    const int B = static_cast<int>(b.items.size()), C = config.dim;
    seqs.clear();
    labels.clear();
    groups.clear();
    for (auto i : b.items) seqs.push_back(&source.examples[i].anchor);
    for (auto i : b.items) seqs.push_back(&source.examples[i].positive);
    if (triplets)
      for (auto i : b.items) seqs.push_back(&source.examples[i].negative);
    for (auto i : b.items) {
      labels.push_back(source.examples[i].label);
      groups.push_back(source.examples[i].group);
    }
    emb.assign(seqs.size() * C, 0.0f);
    demb.assign(seqs.size() * C, 0.0f);
    // Dropout masks depend on (seed, step) only: a resumed run draws the same ones.
    encoder.forward(model.parameters.data(), seqs, emb.data(),
                    o.seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(step));
    Loss& loss = labeled ? *labeled_loss : *pair_loss;
    EmbeddingBatch eb;
    eb.anchor = emb.data();
    eb.positive = emb.data() + B * C;
    eb.negative = triplets ? emb.data() + 2 * B * C : nullptr;
    eb.label = labeled ? labels.data() : nullptr;
    eb.group = groups.data();
    eb.batch = B;
    eb.dim = C;
    const float value = loss.forward(eb);
    if (!std::isfinite(value))
      throw NumericError(fmt::format(
          "the loss became {} at step {}; training stopped. {}",
          std::isnan(value) ? "NaN" : "infinite", step + 1,
          checkpoint_path.empty()
              ? std::string("No checkpoint was being written.")
              : fmt::format("The last good checkpoint is kept in {}.", checkpoint_path)));
    EmbeddingGrads eg{demb.data(), demb.data() + B * C,
                      triplets ? demb.data() + 2 * B * C : nullptr};
    loss.backward(1.0f, eg);
    std::fill(grads.begin(), grads.end(), 0.0f);
    encoder.backward(model.parameters.data(), demb.data(), grads.data());
    const double norm = grad_norm(grads.data(), n);
    if (!std::isfinite(norm))
      throw NumericError(
          fmt::format("the gradient became non-finite at step {}; training "
                      "stopped. The last good checkpoint is kept in {}.",
                      step + 1, checkpoint_path.empty() ? "(none)" : checkpoint_path));
    // With a time limit, the schedule runs on whichever comes first: steps or time,
    // so a run cut by --max-minutes still finishes its decay.
    std::int64_t schedule_step = step;
    if (o.max_minutes > 0)
      schedule_step = std::max<std::int64_t>(
          step, static_cast<std::int64_t>(elapsed() / (o.max_minutes * 60) * total_steps));
    const float lr = schedule.lr_at(std::min(schedule_step, total_steps - 1));
    adam.step(model.parameters.data(), grads.data(), lr, clip_factor(o.clip, norm));  // clipped
    if (!ema.empty()) {
      // Early on the average would be dominated by the initialisation: ramp the decay up.
      const float decay = std::min(o.ema, (1.0f + step) / (10.0f + step));
#pragma omp parallel for schedule(static)
      for (std::size_t i = 0; i < n; ++i)
        ema[i] = decay * ema[i] + (1.0f - decay) * model.parameters[i];
    }
    ++step;
    ++window_steps;
    result.final_loss = value;

    TrainProgress progress;
    progress.step = step;
    progress.total_steps = total_steps;
    progress.loss = value;
    const double window =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
    if (window > 0) pairs_per_second = window_steps * double(o.batch) / window;
    if (window > 10) {
      window_start = std::chrono::steady_clock::now();
      window_steps = 0;
    }
    progress.pairs_per_second = pairs_per_second;
    progress.elapsed_seconds = elapsed();
    if (log && (step % o.log_every == 0 || step == 1)) {
      nlohmann::json terms;
      for (const auto& [name, v] : loss.terms()) terms[name] = v;
      log << nlohmann::json{{"step", step},
                            {"epoch", b.epoch},
                            {"loss", value},
                            {"terms", terms},
                            {"lr", lr},
                            {"grad_norm", norm},
                            {"pairs_per_s", pairs_per_second},
                            {"elapsed_s", progress.elapsed_seconds},
                            {"source", source.source.path}}
                 .dump()
          << std::endl;
    }
    if (evaluator && step % o.eval_every == 0 && step < total_steps) evaluate(progress);
    if (step % o.checkpoint_every == 0) write_checkpoint();
    if (on_progress) on_progress(progress);
  }
  if (step >= total_steps && o.max_steps > 0 && total_steps == o.max_steps)
    result.stop_reason = "max-steps";

  const bool paused = result.interrupted || result.stop_reason == "paused";
  if (!paused) {
    TrainProgress final_progress;
    final_progress.step = step;
    final_progress.total_steps = total_steps;
    final_progress.elapsed_seconds = elapsed();
    evaluate(final_progress);
    if (!evaluator) save_model(output_model(), o.out);
    if (on_progress && final_progress.eval_spearman) on_progress(final_progress);
  } else if (!evaluator) {
    save_model(output_model(), o.out);  // without evaluation, the last weights are the model
  }
  write_checkpoint();
  result.steps = step;
  result.best_spearman = best;
  return result;
}

}  // namespace sentemb
