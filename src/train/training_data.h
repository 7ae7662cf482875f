// The training corpus in memory, tokenized once: every source file's examples
// as token ids, with the keys the batcher needs (text hashes, group ids).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sentemb/tokenizer.h"
#include "sentemb/train/trainer.h"
#include "train/batcher.h"

namespace sentemb::train {

struct Example {
  // Token ids, BOS first. Plain text (SimCSE): positive is empty, the anchor stands for
  // it (its second view differs by dropout and augmentation). Negative: triplets only.
  std::vector<int> anchor, positive, negative;
  float label = 0;  // labeled pairs: 1 similar, 0 dissimilar
  std::int64_t group = -1;
};

struct SourceData {
  TrainSource source;
  std::vector<Example> examples;
  std::vector<BatchItemKey> keys;  // (examples) for the batcher
};

using WarningSink = std::function<void(const std::string&)>;

// Every text of the sources, for training a tokenizer (skipped lines are reported
// when the data is loaded, not here).
std::vector<std::string> read_training_text(const TrainOptions& options);

// Reads, validates and tokenizes every source (max_len truncation), and assigns
// group ids from the group files. Skipped lines' summaries go to on_warning.
std::vector<SourceData> load_training_data(const TrainOptions& options, const Tokenizer& tokenizer,
                                           int max_len, int threads, const WarningSink& on_warning);

}  // namespace sentemb::train
