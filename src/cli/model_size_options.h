// The model-size flags shared by `init` and `train`, and the initialisation's one knob.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "sentemb/model_config.h"
#include "sentemb/parameters.h"

namespace sentemb::cli {

struct ModelSizeOptions {
  ModelConfig config;  // vocab_size comes from the tokenizer
  std::string pooling = "mean";
  bool no_normalize = false;
  float token_embedding_std = kDefaultTokenEmbeddingStd;  // init_parameters

  void add_to(CLI::App* cmd) {
    cmd->add_option("--layers", config.layers, "Transformer blocks")->check(CLI::Range(1, 64));
    cmd->add_option("--dim", config.dim, "Model width")->check(CLI::Range(2, 8192));
    cmd->add_option("--heads", config.heads, "Attention heads (must divide --dim)")
        ->check(CLI::Range(1, 1024));
    cmd->add_option("--ffn-dim", config.ffn_dim, "Feed-forward hidden width")
        ->check(CLI::Range(1, 65536));
    cmd->add_option("--max-len", config.max_len,
                    "Max tokens per sentence, BOS included; longer input is truncated")
        ->check(CLI::Range(2, 4096));
    cmd->add_option("--pooling", pooling, "Sentence pooling: mean, cls or max")
        ->check(CLI::IsMember({"mean", "cls", "max"}));
    cmd->add_flag("--no-normalize", no_normalize, "Do not L2-normalise sentence vectors");
    cmd->add_option("--init-token-std", token_embedding_std,
                    "Std of a new model's random token embeddings (matrices and positions: 0.02)")
        ->check(CLI::PositiveNumber);
  }
  // The first size flag given on `cmd`'s command line, if any.
  std::optional<std::string> first_given(const CLI::App& cmd) const {
    for (const char* flag : {"--layers", "--dim", "--heads", "--ffn-dim", "--max-len", "--pooling",
                             "--no-normalize", "--init-token-std"})
      if (cmd.count(flag) > 0) return std::string(flag);
    return std::nullopt;
  }
  // The configuration for a tokenizer of `vocab_size` pieces; validated.
  ModelConfig resolve(int vocab_size) const {
    ModelConfig c = config;
    c.vocab_size = vocab_size;
    c.pooling = pooling_from_string(pooling);
    c.normalize = !no_normalize;
    c.validate();
    return c;
  }
};

}  // namespace sentemb::cli
