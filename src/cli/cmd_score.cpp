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
#include "sentemb/pair_scoring.h"
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
  fmt::print("{:.4f}\n", sentence_cosine(encoder, sentences[0], sentences[1]));
}

// Streams the pairs a window at a time (for_each_pair_window).
void score_pairs(Encoder& encoder, const std::string& path) {
  ReaderOptions options;
  options.allow_extra_columns = true;
  CorpusReader reader(path, CorpusFormat::kPairs, options);
  Progress progress("score", 0, "pairs");
  if (progress.enabled()) progress.set_total(count_lines(path).value_or(0));
  fmt::memory_buffer out;
  for_each_pair_window(reader, encoder, [&](const auto& records, const auto& cosines) {
    out.clear();
    for (const double c : cosines) fmt::format_to(std::back_inserter(out), "{:.4f}\n", c);
    std::fwrite(out.data(), 1, out.size(), stdout);
    progress.advance(records.size());
  });
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
