// The training corpus in memory, tokenized once: every source file's examples
// as token ids, with the keys the batcher needs (text hashes, group ids).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sentemb/tokenizer.h"
#include "sentemb/train/trainer.h"
#include "train/batcher.h"

namespace sentemb::train {

struct Example {
  std::vector<int> anchor, positive, negative;  // token ids, BOS first; negative may be empty
  float label = 0;                              // labeled pairs: 1 similar, 0 dissimilar
  std::int64_t group = -1;
};

struct SourceData {
  TrainSource source;
  std::vector<Example> examples;
  std::vector<BatchItemKey> keys;  // (examples) for the batcher
};

// Every text of the sources, for training a tokenizer.
std::vector<std::string> read_training_text(const TrainOptions& options);

// Reads, validates and tokenizes every source (max_len truncation), and assigns
// group ids from the group files. Prints skip summaries to stderr.
std::vector<SourceData> load_training_data(const TrainOptions& options, const Tokenizer& tokenizer,
                                           int max_len, int threads);

}  // namespace sentemb::train
