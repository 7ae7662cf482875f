// Options shared by the commands that run a model (encode, score, eval,
// search): which model, and how to run it.
//
//   auto flags = std::make_shared<EncoderFlags>();
//   flags->add_to(cmd);                    // --model --threads --precision --batch --dim
//   cmd->callback([flags] { Encoder encoder = flags->load(); ... });
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>

#include "sentemb/encoder.h"

namespace sentemb::cli {

struct EncoderFlags {
  std::string model;
  int threads = 0;
  std::string precision = "fp32";
  int batch = 64;
  bool no_normalize = false;
  int dim = 0;

  // --model (required), --threads, --precision, --batch; --no-normalize too
  // when `with_normalize` (only where raw vectors are written: cosine-based
  // commands do not depend on it).
  void add_to(CLI::App* cmd, bool with_normalize = false) {
    cmd->add_option("--model,-m", model, "Model file (.semb) to encode with")->required();
    cmd->add_option("--threads", threads, "CPU threads for the encoder (0: all cores)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--precision", precision,
                    "Weight precision at inference: fp32, bf16 or int8 (converted at load)")
        ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
    cmd->add_option("--batch", batch, "Sentences per forward pass (sorted by length first)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--dim", dim,
                    "Use each vector's first K values, renormalised (a Matryoshka model's "
                    "smaller embedding; 0: the model's width)")
        ->check(CLI::NonNegativeNumber);
    if (with_normalize)
      cmd->add_flag("--no-normalize", no_normalize,
                    "Write raw pooled vectors, without the model's L2 normalisation");
  }

  EncoderOptions options() const {
    EncoderOptions o;
    o.precision = precision_from_string(precision);
    o.threads = threads;
    o.batch_size = batch;
    if (no_normalize) o.normalize = false;
    o.dim = dim;
    return o;
  }

  // The encoder, with a warning on stderr for a --dim the model was not trained for.
  Encoder load() const {
    Encoder encoder = Encoder::load(model, options());
    if (const std::string w = matryoshka_warning(encoder.config(), dim); !w.empty())
      fmt::print(stderr, "warning: --dim {}: {}\n", dim, w);
    return encoder;
  }
};

}  // namespace sentemb::cli
