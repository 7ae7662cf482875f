// `sentemb info`: what a model file holds.
#include <fmt/format.h>

#include "cli/commands.h"
#include "sentemb/model_file.h"
#include "sentemb/model_info.h"
#include "sentemb/tokenizer.h"

namespace sentemb::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a model file's configuration and size");
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--model,-m", args->model, "Model file (.semb)")->required();
  cmd->add_flag("--json", args->json, "Print the information as one JSON object");
  cmd->callback([args] {
    const Model model = load_model(args->model);
    const Tokenizer tokenizer = Tokenizer::from_bytes(model.tokenizer_model);
    const auto& c = model.config;
    if (args->json) {
      fmt::print("{}\n", model_info_json(c, tokenizer));
      return;
    }
    fmt::print("model file      {}\n", args->model);
    fmt::print("format version  {}\n", kModelFileVersion);
    fmt::print("parameters      {} ({:.2f}M)\n", c.parameter_count(), c.parameter_count() / 1e6);
    fmt::print("tokenizer       SentencePiece, {} pieces ({} bytes)\n", tokenizer.vocab_size(),
               model.tokenizer_model.size());
    fmt::print("layers          {}\n", c.layers);
    fmt::print("width           {}\n", c.dim);
    fmt::print("heads           {} (head width {})\n", c.heads, c.head_dim());
    fmt::print("ffn width       {}\n", c.ffn_dim);
    fmt::print("max length      {} tokens\n", c.max_len);
    fmt::print("pooling         {}\n", to_string(c.pooling));
    fmt::print("normalize       {}\n", c.normalize ? "yes (L2)" : "no");
    if (!c.matryoshka_dims.empty())
      fmt::print("matryoshka dims {} (a vector's first K values, renormalised: --dim K)\n",
                 fmt::join(c.matryoshka_dims, ", "));
  });
}

}  // namespace sentemb::cli
