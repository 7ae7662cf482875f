// `sentemb encode`: one vector per input line, streamed a window at a time so
// memory stays flat however long the input is.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "dist/communicator.h"
#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/vector_io.h"
#include "sentemb/vector_parts.h"

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

// Reads first: a missing input fails before an output file is created. A line keeps
// only a little more than the tokenizer reads of it, so a huge line costs no more
// memory than a long sentence; jsonl writes each line's text, so keeps it.
ReaderOptions reader_options(const Encoder& encoder, VectorFormat format) {
  ReaderOptions options;
  if (format != VectorFormat::kJsonl)
    options.max_text_bytes = Tokenizer::max_input_bytes(encoder.config().max_len) + 4;
  return options;
}

// Encodes every line of reader into writer.
void encode_into(Encoder& encoder, CorpusReader& reader, VectorWriter& writer, Progress& progress) {
  const std::vector<std::string> no_texts;
  const bool jsonl = writer.format() == VectorFormat::kJsonl;
  encode_stream(encoder, reader, [&](const auto& texts, const float* vectors) {
    writer.write(vectors, texts.size(), jsonl ? texts : no_texts);
    progress.advance(texts.size());
  });
  writer.close();
  progress.finish();
}

void report(const EncodeArgs& args, std::size_t rows, const std::string& path, VectorFormat format,
            int dim) {
  fmt::print(stderr, "encoded {} lines of {} into {} ({}, {} x {})\n", rows,
             args.input == "-" ? "<stdin>" : args.input, path, to_string(format), rows, dim);
}

// One process: the whole input.
void encode_alone(const EncodeArgs& args, Encoder& encoder, VectorFormat format) {
  CorpusReader reader(args.input, CorpusFormat::kText, reader_options(encoder, format));
  std::unique_ptr<VectorWriter> writer = VectorWriter::open(args.output, format, encoder.dim());
  Progress progress("encode", 0, "lines");
  if (progress.enabled()) progress.set_total(count_lines(args.input).value_or(0));
  encode_into(encoder, reader, *writer, progress);
  report(args, writer->rows_written(), writer->path(), format, encoder.dim());
}

std::string part_path(const std::string& output, int rank) {
  return fmt::format("{}.part{}", output, rank);
}

// Several processes (under mpirun or srun): each encodes a contiguous range of lines
// into a part file in the output's format; rank 0 joins the parts in order into the
// file one process writes (sentemb/vector_parts.h).
void encode_shared(const EncodeArgs& args, Encoder& encoder, VectorFormat format,
                   const dist::Communicator& comm) {
  if (args.input == "-" || args.output == "-")
    throw UsageError("with several processes, --input and --output must be files");
  const TextFilePart part = split_text_file(args.input, comm.size(), kEncodeWindow)[comm.rank()];
  ReaderOptions options = reader_options(encoder, format);
  options.begin = part.begin;
  options.end = part.end;
  options.first_line = part.first_line;
  CorpusReader reader(args.input, CorpusFormat::kText, options);
  auto writer = VectorWriter::open(part_path(args.output, comm.rank()), format, encoder.dim());
  Progress progress("encode", 0, "lines", comm.rank() == 0 && Progress::stderr_is_terminal());
  encode_into(encoder, reader, *writer, progress);
  std::int64_t rows = static_cast<std::int64_t>(writer->rows_written());
  comm.allreduce_sum(&rows, 1);  // also: every part is written
  if (comm.rank() == 0) {
    std::vector<std::string> parts;
    for (int r = 0; r < comm.size(); ++r) parts.push_back(part_path(args.output, r));
    join_vector_files(parts, args.output, format, encoder.dim());
    report(args, static_cast<std::size_t>(rows), args.output, format, encoder.dim());
  }
  comm.barrier();
}

void run_encode(EncodeArgs args) {
  const VectorFormat format = output_format(args);
  const dist::Communicator& comm = dist::world();
  // Under mpirun the ranks of a node share its cores.
  if (args.encoder.threads == 0 && comm.size() > 1)
    args.encoder.threads = dist::default_threads(comm);
  Encoder encoder = args.encoder.load();
  if (comm.size() == 1)
    encode_alone(args, encoder, format);
  else
    encode_shared(args, encoder, format, comm);
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
