// `sentemb search`: the corpus lines most similar to a query, by brute-force
// cosine similarity over the whole corpus (fine up to millions of lines).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sentemb/corpus.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/similarity.h"
#include "sentemb/utf8.h"
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
};

// The corpus vectors, (lines, dim): from --index after checking that it
// matches the corpus and the model, else encoded now.
VectorMatrix corpus_vectors(Encoder& encoder, const SearchArgs& args,
                            const std::vector<std::string>& lines) {
  const int dim = encoder.dim();
  if (!args.index.empty()) {
    VectorMatrix index = read_vectors(args.index);
    if (index.rows != lines.size())
      throw UsageError(fmt::format(
          "index {} has {} vectors but corpus {} has {} lines; re-encode it with `sentemb "
          "encode --input {} --output {}`",
          args.index, index.rows, args.corpus, lines.size(), args.corpus, args.index));
    if (index.rows > 0 && index.dim != dim)
      throw UsageError(fmt::format(
          "index {} has vectors of width {} but model {} makes width {}; it was encoded with "
          "another model",
          args.index, index.dim, args.encoder.model, dim));
    index.dim = dim;
    return index;
  }
  VectorMatrix m;
  m.rows = lines.size();
  m.dim = dim;
  m.data.resize(lines.size() * dim);
  Progress progress("encode corpus", lines.size(), "lines");
  std::vector<std::string> window;
  for (std::size_t start = 0; start < lines.size(); start += kEncodeWindow) {
    const std::size_t end = std::min(lines.size(), start + kEncodeWindow);
    window.assign(lines.begin() + start, lines.begin() + end);
    encoder.encode(window, m.row(start));
    progress.advance(end - start);
  }
  progress.finish();
  return m;
}

// Prints the k best lines for one query as "score TAB line", best first.
void search_one(Encoder& encoder, const VectorMatrix& corpus, const std::vector<std::string>& lines,
                const std::string& query, int k, std::vector<float>& scores) {
  std::vector<float> q = encoder.encode(std::vector<std::string>{query});  // (1, dim)
  l2_normalize_rows(q.data(), 1, corpus.dim);
  scores.resize(corpus.rows);
  if (corpus.rows > 0)
    dot_scores(q.data(), 1, corpus.data.data(), corpus.rows, corpus.dim, scores.data());
  fmt::memory_buffer out;
  for (const auto& [i, score] : top_k(scores.data(), scores.size(), static_cast<std::size_t>(k)))
    fmt::format_to(std::back_inserter(out), "{:.4f}\t{}\n", score, lines[i]);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) throw IoError("cannot write <stdout>");
}

void run_search(const SearchArgs& args) {
  Encoder encoder = args.encoder.load();
  std::vector<std::string> lines;
  {
    CorpusReader reader(args.corpus, CorpusFormat::kText);
    Record record;
    while (reader.next(record)) lines.push_back(std::move(record.a));
  }
  if (lines.empty()) fmt::print(stderr, "warning: corpus {} is empty\n", args.corpus);
  VectorMatrix corpus = corpus_vectors(encoder, args, lines);
  // Unit rows make the dot products cosines, whether or not the index (or the
  // model) normalised them.
  l2_normalize_rows(corpus.data.data(), corpus.rows, corpus.dim);

  std::vector<float> scores;
  if (args.has_query) {
    std::size_t bad = 0;
    if (!is_valid_utf8(args.query, &bad))
      throw UsageError(fmt::format("--query is not valid UTF-8 (byte {})", bad));
    search_one(encoder, corpus, lines, args.query, args.k, scores);
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
    search_one(encoder, corpus, lines, record.a, args.k, scores);
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
                  "Vectors of the corpus lines from `sentemb encode` (.npy or .fvecs), same "
                  "model and same line count; default: encode the corpus now");
  cmd->add_option("--query,-q", args->query, "The query (default: one per stdin line)");
  cmd->add_option("-k,--top-k", args->k, "How many lines to print per query")
      ->check(CLI::PositiveNumber);
  cmd->callback([args, cmd] {
    args->has_query = cmd->count("--query") > 0;
    run_search(*args);
  });
}

}  // namespace sentemb::cli
