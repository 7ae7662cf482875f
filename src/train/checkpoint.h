// A training checkpoint: everything needed to continue a run exactly where it
// stopped — the model, AdamW's moments and step, the batcher's position, the
// step and schedule length, the best evaluation so far. One tensor file
// (tensor_file.h) with header kind "checkpoint", written atomically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sentemb/model.h"

namespace sentemb::train {

struct Checkpoint {
  Model model;
  std::int64_t step = 0;         // optimiser steps done
  std::int64_t total_steps = 0;  // the schedule's length
  std::int64_t adam_step = 0;
  std::vector<float> adam_m, adam_v;  // (parameter_count)
  std::vector<float> ema;             // (parameter_count) averaged weights, or empty
  std::string batcher_state;
  std::optional<double> best_spearman;
  double elapsed_seconds = 0;
  std::string run_fingerprint;  // options that must not change across a resume
};

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
Checkpoint load_checkpoint(const std::string& path);  // ModelFileError / IoError

}  // namespace sentemb::train
