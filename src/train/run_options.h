// The checks on a run's options before anything is read or trained, and the
// fingerprint that a resumed run must share with the run it continues.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sentemb/model_config.h"
#include "sentemb/train/trainer.h"
#include "train/losses.h"

namespace sentemb::train {

// Throws UsageError naming the option: out-of-range values, and options that would do
// nothing (a loss option whose loss is not used, --vocab-size or --lowercase with a
// given --tokenizer), so that nothing a user sets is silently ignored.
void validate_options(const TrainOptions& options);

// The model's size must let a batch's token count (anchors, positives, negatives)
// fit an int: throws UsageError naming --batch and --max-len otherwise.
void validate_batch_size(const TrainOptions& options, const ModelConfig& config);

// The losses' options from the run's options, defaults filled in.
LossOptions loss_options(const TrainOptions& options);

// Every option that changes what a run computes, by option name ("--warmup": 0.1).
// The model's size is the one the run trains (`config`); a new run takes it from the
// options, so the CLI's size flags, given again on --resume, are checked against it.
nlohmann::json run_fingerprint(const TrainOptions& options);

// Throws UsageError naming the first option whose value differs between the stored
// fingerprint (of the checkpoint at `path`) and this run's. A fingerprint written by
// an older sentemb lacks some options: those are not compared.
void check_resume_fingerprint(const std::string& stored, const nlohmann::json& current,
                              const std::string& path);

}  // namespace sentemb::train
