// Training a sentence encoder from paired text: the public entry point. The run is a
// pipeline of small units in src/train/ (set-up, the step, evaluation, checkpoints,
// logging, stopping rules; docs/architecture.md draws it). The CLI's `sentemb train`
// is a thin layer over run_training().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/model_config.h"
#include "sentemb/parameters.h"

namespace sentemb {

inline constexpr int kDefaultTrainVocabSize = 8000;  // a tokenizer trained by run_training
inline constexpr int kMaxTrainBatch = 1 << 20;       // examples per batch

struct TrainSource {
  std::string path;
  // kPairs, kTriplets, kLabeled, or kText: one sentence per line, its own positive
  // under another dropout mask (unsupervised SimCSE) with in-batch negatives.
  CorpusFormat format = CorpusFormat::kPairs;
  double weight = 0;  // 0: in proportion to the file's size
};

struct TrainOptions {
  std::vector<TrainSource> sources;
  std::vector<std::string>
      group_files;  // `group<TAB>sentence`: same-group texts are never negatives
  OnBadLine on_bad_line = OnBadLine::kFail;

  // A model to fine-tune (.semb): its tokenizer, configuration and weights, with a fresh
  // optimiser and schedule. Excludes `tokenizer`, `vocab_size`, `lowercase` (UsageError);
  // `model` and `token_embedding_std` are then unused.
  std::string init;
  std::string tokenizer;  // a .model file; empty: train one on the training text
  // For a tokenizer trained here (an error with `tokenizer`): its size (unset: 8000)
  // and whether it case-folds (SentencePiece nmt_nfkc_cf).
  std::optional<int> vocab_size;
  bool lowercase = false;
  ModelConfig model;  // size; vocab_size comes from the tokenizer
  float token_embedding_std = kDefaultTokenEmbeddingStd;  // initialisation (parameters.h)

  // Loss options. Each belongs to one loss; setting one whose loss is not used is a
  // UsageError naming it (unset: the loss's default).
  std::string loss = "infonce";             // pair/triplet batches; labeled batches: contrastive
  std::optional<float> temperature;         // InfoNCE (unset: 0.05)
  bool symmetric = false;                   // InfoNCE
  std::optional<float> margin;              // triplet (unset: 0.5 cosine, 5 euclidean)
  std::optional<std::string> distance;      // triplet: "cosine" (unset) or "euclidean"
  bool batch_hard = false;                  // triplet
  std::optional<float> contrastive_margin;  // labeled pairs' contrastive loss (unset: 0.5)
  // Matryoshka: every loss summed over these prefix widths of each embedding (each
  // renormalised), decreasing, each <= the model's width; recorded in the model file.
  std::vector<int> matryoshka_dims;

  int batch = 128;
  // > 0: gradient caching (GradCache): the batch's loss sees every in-batch negative, but
  // activations are kept for this many examples at a time (one more forward per step).
  int mini_batch = 0;
  float lr = 5e-4f;
  float warmup = 0.1f;  // < 1: a fraction of the total steps; >= 1: steps
  std::string decay = "linear";
  float weight_decay = 0.01f;
  float dropout = 0.1f;
  // Augmentation of every text of a batch, e.g. "delete:0.1,crop:0.2" (empty: none):
  // token deletion and span cropping, seeded per (seed, step, row) like dropout.
  std::string augment;
  float clip = 1.0f;  // global gradient-norm clip; <= 0: off
  float ema = 0.0f;   // > 0: keep an exponential moving average of the weights with this
                      // decay; evaluation and the written model use the averaged weights
  bool bf16 = false;  // mixed precision: bf16 matmuls, fp32 master weights and optimiser
  std::uint64_t seed = 42;
  int threads = 0;  // 0: all cores; for this call only (the caller's OpenMP setting is kept)

  int epochs = 1;
  std::int64_t max_steps = -1;  // -1: no limit; 0: write the initialised model
  // 0: no limit. Else training stops after this many minutes of training, counted from
  // the first step (set-up, i.e. tokenizer training and data loading, is not counted),
  // and the LR schedule follows that time or the steps, whichever is further along.
  double max_minutes = 0;

  std::string eval_sts;  // STS file scored every eval_every steps and at the end
  std::int64_t eval_every = 500;

  std::string out;             // the model (best by eval, else the last)
  std::string checkpoint_dir;  // checkpoint.semb written here every checkpoint_every steps
  std::int64_t checkpoint_every = 500;
  bool resume = false;
  std::int64_t pause_after = 0;  // > 0: stop after this many steps of this session, with a
                                 // checkpoint, to be continued with resume
  std::string log;               // JSON-lines log
  std::int64_t log_every = 50;
};

// What the loop reports to its caller after every step and evaluation.
struct TrainProgress {
  std::int64_t step = 0, total_steps = 0;
  double loss = 0;  // this step's
  double pairs_per_second = 0;
  double elapsed_seconds = 0;  // of training, from the first step (earlier sessions included)
  std::optional<double> eval_spearman;  // set on evaluation steps
};

struct TrainResult {
  std::int64_t steps = 0;
  double final_loss = 0;
  std::optional<double> best_spearman;
  bool interrupted = false;  // by SIGINT / SIGTERM: a checkpoint was written
  std::string stop_reason;   // "epochs", "max-steps", "max-minutes", "interrupted", "paused"
};

// What run_training tells its caller while it runs. Library code prints nothing.
struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_progress;  // after every step and evaluation
  std::function<void(const std::string&)> on_warning;     // e.g. skipped bad lines
};

// Throws InputError (bad corpus line), UsageError (bad options), IoError (an
// unwritable output, checked before training starts), NumericError (the loss
// became NaN/Inf: the last good checkpoint is kept).
TrainResult run_training(const TrainOptions& options, const TrainCallbacks& callbacks = {});
TrainResult run_training(const TrainOptions& options,
                         const std::function<void(const TrainProgress&)>& on_progress);

// The sources of `sentemb train --pairs ... --triplets ... --labeled ... --text ...`, in
// that order, with `weights` in the same order (empty: each in proportion to its file's
// size). Throws UsageError when weights is neither empty nor one per file.
std::vector<TrainSource> train_sources(const std::vector<std::string>& pairs,
                                       const std::vector<std::string>& triplets,
                                       const std::vector<std::string>& labeled,
                                       const std::vector<std::string>& text,
                                       const std::vector<double>& weights);

// The options `--resume` lets differ from the checkpointed run (every other option must
// equal the checkpoint's: run_training refuses a difference, naming the option).
const std::vector<std::string>& options_free_on_resume();

// From here on, SIGINT or SIGTERM stops run_training() after the current step, with a
// checkpoint; a second one quits at once (exit status 130). Call it before starting any
// thread: it blocks both signals in the caller, whose threads inherit that, and takes them
// in a watcher thread of its own.
void watch_stop_signals();

}  // namespace sentemb
