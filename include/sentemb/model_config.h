// The encoder's configuration. The model file carries it, so a model file is all
// that is needed to rebuild the network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sentemb {

enum class Pooling { kMean, kCls, kMax };

std::string to_string(Pooling pooling);
Pooling pooling_from_string(const std::string& name);  // "mean", "cls", "max"; throws UsageError

struct ModelConfig {
  int vocab_size = 8000;  // V: SentencePiece vocabulary size
  int max_len = 64;       // Tmax: tokens per sentence, BOS included; longer input is truncated
  int layers = 4;         // L: transformer blocks
  int dim = 256;          // C: model width
  int heads = 4;          // NH: attention heads; head width C / NH
  int ffn_dim = 1024;     // F: hidden width of the feed-forward block
  Pooling pooling = Pooling::kMean;
  bool normalize = true;  // L2-normalise the pooled vector
  float layernorm_eps = 1e-5f;
  // The prefix widths a Matryoshka-trained model's vectors are usable at, decreasing,
  // each <= dim (train --matryoshka-dims); empty: trained at full width only.
  std::vector<int> matryoshka_dims;

  int head_dim() const { return dim / heads; }
  // Throws UsageError naming the offending field.
  void validate() const;
  // Number of float parameters (all tensors of parameters.h).
  std::int64_t parameter_count() const;

  std::string to_json() const;
  static ModelConfig from_json(const std::string& json);  // throws ModelFileError
};

}  // namespace sentemb
