// `sentemb encode`: one vector per input line, streamed a window at a time so
// memory stays flat however long the input is.
#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "dist/communicator.h"
#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/quantization.h"
#include "sentemb/vector_io.h"
#include "sentemb/vector_parts.h"

namespace sentemb::cli {
namespace {

struct EncodeArgs {
  EncoderFlags encoder;
  std::string input = "-";
  std::string output = "-";
  std::string format;       // empty: from the output suffix
  std::string quantize;     // empty: float32 vectors
  std::string calibration;  // int8 / uint8: sentences to take the ranges from (default: input)
  std::string ranges;       // int8 / uint8: ranges file to use instead
  std::string save_ranges;  // where to write the ranges used
};

bool quantizing(const EncodeArgs& args) {
  return !args.quantize.empty();
}

// What the output's elements are: float32, or the quantized codes' bytes.
ElementType element_type(const EncodeArgs& args) {
  if (!quantizing(args)) return ElementType::kFloat32;
  return is_signed(quantization_from_string(args.quantize)) ? ElementType::kInt8
                                                            : ElementType::kUint8;
}

// The calibration options belong to int8 / uint8; nothing is silently ignored.
void check_quantize_options(const EncodeArgs& args) {
  const bool scaled = quantizing(args) && !is_binary(quantization_from_string(args.quantize));
  for (const auto& [value, name] :
       {std::pair{&args.calibration, "--calibration"}, std::pair{&args.ranges, "--ranges"},
        std::pair{&args.save_ranges, "--save-ranges"}}) {
    if (!value->empty() && !scaled)
      throw UsageError(fmt::format("{} is for --quantize int8 or uint8{}", name,
                                   quantizing(args) ? fmt::format(", not {}", args.quantize) : ""));
  }
  if (scaled && args.ranges.empty() && args.calibration.empty() && args.input == "-")
    throw UsageError(
        "--quantize " + args.quantize +
        " reads the input twice (the ranges, then the codes): give --input FILE, or the ranges "
        "with --calibration FILE or --ranges FILE");
}

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

// Encodes every line of reader into writer, quantized by `quantizer` if given.
void encode_into(Encoder& encoder, CorpusReader& reader, VectorWriter& writer, Progress& progress,
                 const Quantizer* quantizer) {
  const std::vector<std::string> no_texts;
  const bool jsonl = writer.format() == VectorFormat::kJsonl;
  std::vector<std::uint8_t> codes;
  encode_stream(encoder, reader, [&](const auto& texts, const float* vectors) {
    if (quantizer) {
      codes.resize(texts.size() * quantizer->width());
      quantizer->quantize(vectors, texts.size(), codes.data());
      writer.write_codes(codes.data(), texts.size(), jsonl ? texts : no_texts);
    } else {
      writer.write(vectors, texts.size(), jsonl ? texts : no_texts);
    }
    progress.advance(texts.size());
  });
  writer.close();
  progress.finish();
}

void report(const EncodeArgs& args, std::size_t rows, const std::string& path, VectorFormat format,
            int dim) {
  fmt::print(stderr, "encoded {} lines of {} into {} ({}{}, {} x {})\n", rows,
             args.input == "-" ? "<stdin>" : args.input, path, to_string(format),
             quantizing(args) ? " " + args.quantize : "", rows, dim);
}

// The ranges of int8 / uint8 quantization: read, or calibrated on --calibration or
// the input (a first pass over it); saved when asked.
QuantizationRanges quantization_ranges(const EncodeArgs& args, Encoder& encoder) {
  QuantizationRanges ranges;
  if (!args.ranges.empty()) {
    ranges = read_ranges(args.ranges, encoder.dim());
  } else {
    const std::string& source = args.calibration.empty() ? args.input : args.calibration;
    Progress progress("calibrate", 0, "lines");
    if (progress.enabled()) progress.set_total(count_lines(source).value_or(0));
    ranges = calibrate_ranges(encoder, source, [&](std::size_t n) { progress.advance(n); });
    progress.finish();
  }
  if (!args.save_ranges.empty()) write_ranges(ranges, args.save_ranges);
  return ranges;
}

// The quantizer of --quantize; null without it.
std::unique_ptr<Quantizer> make_quantizer(const EncodeArgs& args, Encoder& encoder) {
  if (!quantizing(args)) return nullptr;
  const Quantization kind = quantization_from_string(args.quantize);
  code_width(kind, encoder.dim());  // a width binary cannot pack fails before any encoding
  if (is_binary(kind)) return std::make_unique<Quantizer>(kind, encoder.dim());
  return std::make_unique<Quantizer>(kind, encoder.dim(), quantization_ranges(args, encoder));
}

// Bytes (or floats) per output vector.
int output_width(const Encoder& encoder, const Quantizer* quantizer) {
  return quantizer ? quantizer->width() : encoder.dim();
}

// One process: the whole input.
void encode_alone(const EncodeArgs& args, Encoder& encoder, VectorFormat format,
                  const Quantizer* quantizer) {
  CorpusReader reader(args.input, CorpusFormat::kText, reader_options(encoder, format));
  const int width = output_width(encoder, quantizer);
  std::unique_ptr<VectorWriter> writer =
      VectorWriter::open(args.output, format, width, element_type(args));
  Progress progress("encode", 0, "lines");
  if (progress.enabled()) progress.set_total(count_lines(args.input).value_or(0));
  encode_into(encoder, reader, *writer, progress, quantizer);
  report(args, writer->rows_written(), writer->path(), format, width);
}

std::string part_path(const std::string& output, int rank) {
  return fmt::format("{}.part{}", output, rank);
}

// Several processes (under mpirun or srun): each encodes a contiguous range of lines
// into a part file in the output's format; rank 0 joins the parts in order into the
// file one process writes (sentemb/vector_parts.h).
void encode_shared(const EncodeArgs& args, Encoder& encoder, VectorFormat format,
                   const Quantizer* quantizer, const dist::Communicator& comm) {
  if (args.input == "-" || args.output == "-")
    throw UsageError("with several processes, --input and --output must be files");
  const TextFilePart part = split_text_file(args.input, comm.size(), kEncodeWindow)[comm.rank()];
  ReaderOptions options = reader_options(encoder, format);
  options.begin = part.begin;
  options.end = part.end;
  options.first_line = part.first_line;
  CorpusReader reader(args.input, CorpusFormat::kText, options);
  const int width = output_width(encoder, quantizer);
  auto writer =
      VectorWriter::open(part_path(args.output, comm.rank()), format, width, element_type(args));
  Progress progress("encode", 0, "lines", comm.rank() == 0 && Progress::stderr_is_terminal());
  encode_into(encoder, reader, *writer, progress, quantizer);
  std::int64_t rows = static_cast<std::int64_t>(writer->rows_written());
  comm.allreduce_sum(&rows, 1);  // also: every part is written
  if (comm.rank() == 0) {
    std::vector<std::string> parts;
    for (int r = 0; r < comm.size(); ++r) parts.push_back(part_path(args.output, r));
    join_vector_files(parts, args.output, format, width, element_type(args));
    report(args, static_cast<std::size_t>(rows), args.output, format, width);
  }
  comm.barrier();
}

// Under several processes, rank 0 alone takes the ranges (a pass over the whole
// calibration file) and hands them to the others.
std::unique_ptr<Quantizer> make_shared_quantizer(const EncodeArgs& args, Encoder& encoder,
                                                 const dist::Communicator& comm) {
  if (!quantizing(args)) return nullptr;
  const Quantization kind = quantization_from_string(args.quantize);
  if (is_binary(kind)) return make_quantizer(args, encoder);
  QuantizationRanges ranges;
  ranges.min.resize(encoder.dim());
  ranges.max.resize(encoder.dim());
  if (comm.rank() == 0) ranges = quantization_ranges(args, encoder);
  comm.broadcast(ranges.min.data(), ranges.min.size() * sizeof(float), 0);
  comm.broadcast(ranges.max.data(), ranges.max.size() * sizeof(float), 0);
  return std::make_unique<Quantizer>(kind, encoder.dim(), std::move(ranges));
}

void run_encode(EncodeArgs args) {
  const VectorFormat format = output_format(args);
  check_quantize_options(args);
  check_format_holds(format, element_type(args));  // before a calibration pass
  const dist::Communicator& comm = dist::world();
  // Under mpirun the ranks of a node share its cores.
  if (args.encoder.threads == 0 && comm.size() > 1)
    args.encoder.threads = dist::default_threads(comm);
  Encoder encoder = args.encoder.load();
  if (comm.size() == 1) {
    const std::unique_ptr<Quantizer> quantizer = make_quantizer(args, encoder);
    encode_alone(args, encoder, format, quantizer.get());
  } else {
    const std::unique_ptr<Quantizer> quantizer = make_shared_quantizer(args, encoder, comm);
    encode_shared(args, encoder, format, quantizer.get(), comm);
  }
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
                  "Output format: npy ((N, D) NumPy array: float32, or int8 / uint8 with "
                  "--quantize), fvecs (int32 D + D float32 per vector), bvecs (int32 D + D uint8: "
                  "--quantize uint8 or ubinary), i8vecs (int32 D + D int8: --quantize int8 or "
                  "binary), tsv (a line of tab-separated numbers per vector) or jsonl "
                  "({\"text\", \"embedding\"} per line). Default: from the output suffix "
                  "(.npy .fvecs .bvecs .i8vecs .tsv/.txt .jsonl/.json), tsv for stdout")
      ->check(CLI::IsMember({"npy", "fvecs", "tsv", "jsonl", "bvecs", "i8vecs"}));
  cmd->add_option("--quantize", args->quantize,
                  "Write quantized vectors, as sentence-transformers' quantize_embeddings: "
                  "int8 / uint8 (a byte per dimension, scaled between per-dimension "
                  "ranges), binary / ubinary (the sign bits, 8 dimensions a byte, as int8 / "
                  "uint8; the width must be a multiple of 8)")
      ->check(CLI::IsMember({"int8", "uint8", "binary", "ubinary"}));
  auto* calibration = cmd->add_option(
      "--calibration", args->calibration,
      "int8 / uint8: text file (one sentence per line) whose vectors give the ranges, the "
      "minimum and maximum of each dimension (default: the input itself, read twice)");
  auto* ranges = cmd->add_option(
      "--ranges", args->ranges,
      "int8 / uint8: use these ranges, a (2, D) float32 .npy (from --save-ranges, or the "
      "`ranges` of sentence-transformers), e.g. to quantize queries like their corpus");
  cmd->add_option("--save-ranges", args->save_ranges,
                  "int8 / uint8: write the ranges used to this .npy file (row 0 the minima, "
                  "row 1 the maxima), for --ranges and `sentemb search --ranges`");
  calibration->excludes(ranges);
  cmd->callback([args] { run_encode(*args); });
}

}  // namespace sentemb::cli
