// STS evaluation during training: Spearman and Pearson of cosine similarity against
// gold scores, on the live weights (no copy: it reads the arena the optimiser writes).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "encoder_forward.h"
#include "sentemb/model_config.h"
#include "sentemb/tokenizer.h"

namespace sentemb::train {

class StsEvaluator {
 public:
  // Reads and tokenizes `path` (score<TAB>s1<TAB>s2) once. parameters: the arena to
  // evaluate, read at every evaluate() call.
  StsEvaluator(const std::string& path, const Tokenizer& tokenizer, const ModelConfig& config,
               const float* parameters, int threads);

  struct Scores {
    double spearman = 0, pearson = 0;
  };
  Scores evaluate();

 private:
  static constexpr std::size_t kBatch = 128;
  EncoderForward forward_;
  std::size_t dim_;
  std::vector<std::vector<int>> ids_;  // s1, s2 of each pair, interleaved
  std::vector<double> gold_;
};

}  // namespace sentemb::train
