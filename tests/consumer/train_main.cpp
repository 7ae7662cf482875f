// An outside program on sentemb::train: trains a tiny model for a few steps on a pairs
// file, then loads what it wrote and encodes two sentences with it.
//   consumer_train PAIRS.tsv TOKENIZER.model OUT.semb
// Exit status 0 when training ran its steps and the model gives two different unit vectors.
#include <cstdio>
#include <string>
#include <vector>

#include "check_vectors.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/train/trainer.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PAIRS.tsv TOKENIZER.model OUT.semb\n", argv[0]);
    return 2;
  }
  try {
    sentemb::TrainOptions options;
    options.sources = {{argv[1], sentemb::CorpusFormat::kPairs, 0}};
    options.tokenizer = argv[2];
    options.model.layers = 1;
    options.model.dim = 32;
    options.model.heads = 2;
    options.model.ffn_dim = 64;
    options.model.max_len = 16;
    options.batch = 8;
    options.max_steps = 3;
    options.threads = 1;
    options.out = argv[3];
    const auto result = sentemb::run_training(options);
    std::printf("trained %lld steps, loss %.4f; ", static_cast<long long>(result.steps),
                result.final_loss);
    if (result.steps != 3) {
      std::fprintf(stderr, "expected 3 steps\n");
      return 1;
    }
    sentemb::EncoderOptions encoder_options;
    encoder_options.threads = 1;
    auto encoder = sentemb::Encoder::load(argv[3], encoder_options);
    const auto vectors = encoder.encode({"a child is sleeping", "a cat stares at a kitchen"});
    return consumer::two_distinct_unit_vectors(vectors, encoder.dim()) ? 0 : 1;
  } catch (const sentemb::Error& e) {
    std::fprintf(stderr, "sentemb error: %s\n", e.what());
    return 1;
  }
}
