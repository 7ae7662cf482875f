// The state of one training run, shared by the units of the loop (docs/architecture.md,
// "Training flow"): set-up builds it, the step advances it, evaluation, checkpoints and
// logging read it. A checkpoint is a snapshot of it; --resume restores one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "sentemb/model.h"
#include "sentemb/tokenizer.h"
#include "sentemb/train/trainer.h"
#include "train/adamw.h"
#include "train/batcher.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/training_data.h"

namespace sentemb::train {

struct TrainRun {
  TrainOptions options;
  // The processes of a data-parallel run (one alone without an MPI launcher). Each
  // process embeds its share of every global batch; rank 0 alone evaluates, logs and
  // writes the model and checkpoints (writes()).
  const dist::Communicator* comm = &dist::world();
  bool writes() const { return comm->rank() == 0; }
  int threads = 1;              // OpenMP threads of this run
  std::string checkpoint_path;  // empty: no checkpoints
  std::optional<Checkpoint> resumed;

  // Set-up, stage 1: the model (from the checkpoint, a tokenizer, or new).
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;

  // Set-up, stage 2: data, optimiser, schedule; restored from `resumed`.
  std::vector<SourceData> data;
  std::unique_ptr<Batcher> batcher;
  std::unique_ptr<AdamW> adam;
  std::unique_ptr<LrSchedule> schedule;
  std::vector<float> ema;  // (parameter_count) averaged weights; empty without --ema
  std::int64_t step = 0;   // optimiser steps done
  std::int64_t total_steps = 0;
  std::optional<double> best_spearman;
  double seconds_before = 0;  // training time of the sessions before a resume

  // The weights evaluated and written: the averaged ones with --ema.
  const std::vector<float>& output_parameters() const {
    return ema.empty() ? model.parameters : ema;
  }
  Model output_model() const;
};

// Stage 1. Checks that the outputs can be written, loads and checks the checkpoint
// with --resume (UsageError naming an option that differs), and builds the model.
TrainRun start_run(const TrainOptions& options, int threads);

// Stage 2. Reads and tokenizes the data (warnings, e.g. skipped lines, go to
// on_warning), builds the optimiser and schedule, and restores a resumed state.
void load_run_data(TrainRun& run, const std::function<void(const std::string&)>& on_warning);

// A snapshot of the run for --resume; seconds: training time so far, all sessions.
Checkpoint snapshot(const TrainRun& run, double seconds);

}  // namespace sentemb::train
