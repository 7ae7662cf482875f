// `sentemb encode`: one vector per input line, streamed a window at a time so
// memory stays flat however long the input is.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/vector_io.h"

namespace sentemb::cli {
namespace {

struct EncodeArgs {
  EncoderFlags encoder;
  std::string input = "-";
  std::string output = "-";
  std::string format;  // empty: from the output suffix
};

VectorFormat output_format(const EncodeArgs& args) {
  if (!args.format.empty()) return vector_format_from_string(args.format);
  if (args.output == "-") return VectorFormat::kTsv;
  if (auto guessed = vector_format_from_path(args.output)) return *guessed;
  throw UsageError(fmt::format(
      "cannot tell the vector format of '{}' from its suffix; name it with --format ({})",
      args.output, vector_format_names()));
}

void run_encode(const EncodeArgs& args) {
  const VectorFormat format = output_format(args);
  Encoder encoder = args.encoder.load();
  const int dim = encoder.dim();

  // Reader first: a missing input fails before an output file is created. A line
  // keeps only a little more than the tokenizer reads of it, so a huge line costs
  // no more memory than a long sentence; jsonl writes each line's text, so keeps it.
  ReaderOptions reader_options;
  if (format != VectorFormat::kJsonl)
    reader_options.max_text_bytes = Tokenizer::max_input_bytes(encoder.config().max_len) + 4;
  CorpusReader reader(args.input, CorpusFormat::kText, reader_options);
  std::unique_ptr<VectorWriter> writer = VectorWriter::open(args.output, format, dim);

  Progress progress("encode", 0, "lines");
  if (progress.enabled()) progress.set_total(count_lines(args.input).value_or(0));

  const std::vector<std::string> no_texts;
  encode_stream(encoder, reader, [&](const auto& texts, const float* vectors) {
    writer->write(vectors, texts.size(), format == VectorFormat::kJsonl ? texts : no_texts);
    progress.advance(texts.size());
  });
  writer->close();
  progress.finish();
  fmt::print(stderr, "encoded {} lines of {} into {} ({}, {} x {})\n", writer->rows_written(),
             args.input == "-" ? "<stdin>" : args.input, writer->path(), to_string(format),
             writer->rows_written(), dim);
}

}  // namespace

void add_encode_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "encode",
      "Encode text to vectors: one vector per input line, in input order. An empty line\n"
      "gets the vector of BOS alone; lines longer than the model's max_len tokens (BOS\n"
      "included, see `sentemb info`) are truncated; invalid UTF-8 is an error naming the line.");
  auto args = std::make_shared<EncodeArgs>();
  args->encoder.add_to(cmd, /*with_normalize=*/true);
  cmd->add_option("--input,-i", args->input, "Text file, one sentence per line ('-': stdin)");
  cmd->add_option("--output,-o", args->output, "Vector file to write ('-': stdout)");
  cmd->add_option("--format,-f", args->format,
                  "Output format: npy (float32 (N, D) NumPy array), fvecs (int32 D + D float32 "
                  "per vector), tsv (a line of tab-separated floats per vector) or jsonl "
                  "({\"text\", \"embedding\"} per line). Default: from the output suffix "
                  "(.npy .fvecs .tsv/.txt .jsonl/.json), tsv for stdout")
      ->check(CLI::IsMember({"npy", "fvecs", "tsv", "jsonl"}));
  cmd->callback([args] { run_encode(*args); });
}

}  // namespace sentemb::cli
