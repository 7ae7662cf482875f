// `sentemb search`: the corpus lines most similar to a query, by brute-force
// cosine similarity over the whole corpus (fine up to millions of lines), or
// through a faiss index from `sentemb index build` (sentemb/vector_index.h).
#include <fmt/format.h>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sentemb/corpus.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/quantized_search.h"
#include "sentemb/search.h"
#include "sentemb/utf8.h"
#include "sentemb/vector_index.h"
#include "sentemb/vector_io.h"

namespace sentemb::cli {
namespace {

struct SearchArgs {
  EncoderFlags encoder;
  std::string corpus;
  std::string index;
  std::string query;
  bool has_query = false;
  int k = 10;
  std::string ranges;         // quantized --index: int8 / uint8 ranges
  std::size_t rescore = 0;    // quantized --index: candidates to rescore
  std::string rescore_index;  // quantized --index: vectors to rescore with
  IndexSearchOptions ann;  // --ef-search, --nprobe: faiss indexes only
};

// Prints the k best lines for one query as "score TAB line", best first.
void print_hits(const std::vector<SearchHit>& hits, const std::vector<std::string>& lines) {
  fmt::memory_buffer out;
  for (const SearchHit& hit : hits)
    fmt::format_to(std::back_inserter(out), "{:.4f}\t{}\n", hit.score, lines[hit.index]);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) throw IoError("cannot write <stdout>");
}

void run_search(const SearchArgs& args) {
  Encoder encoder = args.encoder.load();
  const std::vector<std::string> lines = read_lines(args.corpus);
  if (lines.empty()) fmt::print(stderr, "warning: corpus {} is empty\n", args.corpus);
  VectorMatrix corpus;
  std::optional<QuantizedSearch> quantized;
  std::optional<VectorIndex> ann;
  const bool quantized_options =
      !args.ranges.empty() || args.rescore > 0 || !args.rescore_index.empty();
  if (!args.index.empty() && !is_faiss_index_path(args.index) &&
      (args.ann.ef_search > 0 || args.ann.nprobe > 0))
    throw UsageError(
        "--ef-search and --nprobe need --index with a faiss index (sentemb index build)");
  if (!args.index.empty() && is_quantized_vector_file(args.index)) {
    quantized = load_quantized_search({args.index, args.ranges, args.rescore, args.rescore_index},
                                      lines.size(), encoder.dim(), args.corpus, args.encoder.model);
  } else if (quantized_options) {
    throw UsageError(
        "--ranges, --rescore and --rescore-index are for an --index of quantized "
        "vectors (`sentemb encode --quantize`)");
  } else if (!args.index.empty() && is_faiss_index_path(args.index)) {
    ann = VectorIndex::open(args.index);
    const std::string warning = ann->check_matches(args.encoder.model, encoder.dim(),
                                                   args.encoder.precision, lines, args.corpus);
    if (!warning.empty()) fmt::print(stderr, "warning: index {}: {}\n", args.index, warning);
  } else if (args.ann.ef_search > 0 || args.ann.nprobe > 0) {
    throw UsageError(
        "--ef-search and --nprobe need --index with a faiss index (sentemb index build)");
  } else if (!args.index.empty()) {
    corpus = load_index(args.index, lines.size(), encoder.dim(), args.corpus, args.encoder.model);
  } else {
    Progress progress("encode corpus", lines.size(), "lines");
    corpus = encode_corpus(encoder, lines, [&](std::size_t n) { progress.advance(n); });
    progress.finish();
  }
  const auto k = static_cast<std::size_t>(args.k);
  auto answer = [&](const std::string& query) {
    if (quantized) return search(encoder, *quantized, query, k);
    if (ann) return ann->search(encoder, query, k, args.ann);
    return search(encoder, corpus, query, k);
  };

  if (args.has_query) {
    std::size_t bad = 0;
    if (!is_valid_utf8(args.query, &bad))
      throw UsageError(fmt::format("--query is not valid UTF-8 (byte {})", bad));
    print_hits(answer(args.query), lines);
    return;
  }
  // One query per stdin line, answered as it arrives (works interactively);
  // the result blocks are separated by an empty line.
  CorpusReader queries("-", CorpusFormat::kText);
  Record record;
  bool first = true;
  while (queries.next(record)) {
    if (!first) std::fputc('\n', stdout);
    first = false;
    print_hits(answer(record.a), lines);
  }
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "search",
      "Print the k corpus lines most similar to a query as `score TAB line`, best first\n"
      "(cosine similarity, brute force). Without --query, reads one query per stdin line\n"
      "and prints a block for each, blocks separated by an empty line.");
  auto args = std::make_shared<SearchArgs>();
  args->encoder.add_to(cmd);
  cmd->add_option("--corpus,-c", args->corpus, "Text file to search, one sentence per line")
      ->required();
  cmd->add_option("--index", args->index,
                  "Vectors of the corpus lines from `sentemb encode` (.npy or .fvecs, brute "
                  "force), or a faiss index from `sentemb index build` (.index or any other "
                  "name); same model and corpus; default: encode the corpus now. Quantized "
                  "vectors (encode --quantize: int8 / uint8 .npy, .bvecs, .i8vecs) are searched "
                  "by cosine with the dequantized rows (int8, uint8) or by Hamming distance "
                  "(binary, ubinary; score 1 - 2 h / D)");
  cmd->add_option("--ranges", args->ranges,
                  "The ranges an int8 / uint8 --index or --rescore-index was quantized with "
                  "(encode --save-ranges)");
  cmd->add_option("--rescore", args->rescore,
                  "Quantized --index: re-rank the top N (or -k if more) by the float query against "
                  "--rescore-index, or against a binary index's own bits as 0/1 (as "
                  "sentence-transformers)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rescore-index", args->rescore_index,
                  "With --rescore: the same corpus as float32 vectors (.npy, .fvecs; exact "
                  "cosine) or int8 / uint8 codes (with --ranges)");
  cmd->add_option("--query,-q", args->query, "The query (default: one per stdin line)");
  cmd->add_option("-k,--top-k", args->k, "How many lines to print per query")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ef-search", args->ann.ef_search,
                  "HNSW index: candidate list while searching (0: the index's, 64; at least k)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--nprobe", args->ann.nprobe,
                  "IVF index: k-means cells visited per query (0: the index's, 16)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, cmd] {
    args->ann.threads = args->encoder.threads;
    args->has_query = cmd->count("--query") > 0;
    run_search(*args);
  });
}

}  // namespace sentemb::cli
