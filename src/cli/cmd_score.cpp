// `sentemb score`: cosine similarity of two sentences, or of every pair of a
// two-column TSV file, one score a line in input order.
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

namespace sentemb::cli {
namespace {

struct ScoreArgs {
  EncoderFlags encoder;
  std::vector<std::string> sentences;
  std::string pairs;
};

void score_two(Encoder& encoder, const std::vector<std::string>& sentences) {
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    std::size_t bad = 0;
    if (!is_valid_utf8(sentences[i], &bad))
      throw UsageError(fmt::format("sentence {} is not valid UTF-8 (byte {})", i + 1, bad));
  }
  const std::vector<float> v = encoder.encode(sentences);  // (2, dim)
  const int dim = encoder.dim();
  fmt::print("{:.4f}\n", cosine(v.data(), v.data() + dim, dim));
}

// Streams the pairs a window at a time: both sides of the window are encoded
// in one call (a's then b's) so length sorting spans them all.
void score_pairs(Encoder& encoder, const std::string& path) {
  ReaderOptions options;
  options.allow_extra_columns = true;
  CorpusReader reader(path, CorpusFormat::kPairs, options);
  Progress progress("score", 0, "pairs");
  if (progress.enabled()) progress.set_total(count_lines(path).value_or(0));
  const int dim = encoder.dim();
  std::vector<std::string> texts;  // a_0..a_{n-1}, b_0..b_{n-1}
  std::vector<std::string> second;
  std::vector<float> vectors;  // (2n, dim)
  fmt::memory_buffer out;
  Record record;
  bool more = true;
  while (more) {
    texts.clear();
    second.clear();
    while (texts.size() < kEncodeWindow && (more = reader.next(record))) {
      texts.push_back(std::move(record.a));
      second.push_back(std::move(record.b));
    }
    const std::size_t n = texts.size();
    if (n == 0) break;
    texts.insert(texts.end(), std::make_move_iterator(second.begin()),
                 std::make_move_iterator(second.end()));
    vectors.resize(2 * n * dim);
    encoder.encode(texts, vectors.data());
    out.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const float* a = vectors.data() + i * dim;
      const float* b = vectors.data() + (n + i) * dim;
      fmt::format_to(std::back_inserter(out), "{:.4f}\n", cosine(a, b, dim));
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    progress.advance(n);
  }
  progress.finish();
  if (std::fflush(stdout) != 0) throw IoError("cannot write <stdout>");
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "score",
      "Cosine similarity of two sentences (printed as e.g. 0.8123), or with --pairs of each\n"
      "line's first two tab-separated columns (later columns ignored), one score a line.");
  auto args = std::make_shared<ScoreArgs>();
  args->encoder.add_to(cmd);
  cmd->add_option("sentences", args->sentences, "The two sentences to compare (without --pairs)")
      ->expected(0, 2);
  cmd->add_option("--pairs,-p", args->pairs,
                  "TSV file of sentence pairs to score, one per line ('-': stdin)");
  cmd->callback([args] {
    if (!args->pairs.empty() && !args->sentences.empty())
      throw UsageError("give either two sentences or --pairs FILE, not both");
    if (args->pairs.empty() && args->sentences.size() != 2)
      throw UsageError(fmt::format("score needs two sentences (got {}) or --pairs FILE",
                                   args->sentences.size()));
    Encoder encoder = args->encoder.load();
    if (args->pairs.empty()) {
      score_two(encoder, args->sentences);
    } else {
      score_pairs(encoder, args->pairs);
    }
  });
}

}  // namespace sentemb::cli
