// `sentemb export`: a model for other runtimes, ONNX or safetensors, with its tokenizer.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "sentemb/export.h"
#include "sentemb/model_file.h"

namespace sentemb::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export",
      "Write a model for other runtimes: the encoder as ONNX (opset 17) or its weights as "
      "safetensors, with tokenizer.model and sentemb_tokenizer.json beside it");
  struct Args {
    std::string model, format = "onnx", out;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--model,-m", args->model, "Model file (.semb)")->required();
  cmd->add_option("--format,-f", args->format,
                  "onnx (model.onnx: inputs input_ids, attention_mask; outputs "
                  "sentence_embedding, token_embeddings) or safetensors (model.safetensors)");
  cmd->add_option("--out,-o", args->out, "Output directory (created when missing)")->required();
  cmd->callback([args] {
    const ExportFormat format = export_format_from_string(args->format);
    const auto start = std::chrono::steady_clock::now();
    const Model model = load_model(args->model);
    const auto files = export_model(model, format, args->out);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "exported {} ({} parameters) as {} in {:.2f} s: {}\n", args->model,
               model.config.parameter_count(), to_string(format), seconds, fmt::join(files, ", "));
  });
}

}  // namespace sentemb::cli
