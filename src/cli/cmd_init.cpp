// `sentemb init`: a randomly initialised model from a tokenizer and size flags,
// for tests and benchmarks that need no trained model.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/model_size_options.h"
#include "sentemb/model_file.h"
#include "sentemb/tokenizer.h"

namespace sentemb::cli {

void add_init_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("init", "Write a randomly initialised model");
  struct Args {
    std::string tokenizer, out;
    std::uint64_t seed = 42;
    ModelSizeOptions size;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--tokenizer", args->tokenizer, "SentencePiece .model file")->required();
  cmd->add_option("--out,-o", args->out, "Output model file")->required();
  cmd->add_option("--seed", args->seed, "Random seed of the initialisation");
  args->size.add_to(cmd);
  cmd->callback([args] {
    const Tokenizer tokenizer = Tokenizer::from_file(args->tokenizer);
    const ModelConfig config = args->size.resolve(tokenizer.vocab_size());
    const Model model =
        Model::create(config, tokenizer.serialized(), args->seed, args->size.token_embedding_std);
    save_model(model, args->out);
    fmt::print(stderr, "wrote {} ({} parameters)\n", args->out, config.parameter_count());
  });
}

}  // namespace sentemb::cli
