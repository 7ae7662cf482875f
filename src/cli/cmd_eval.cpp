// `sentemb eval`: how well a model's cosine similarities match human judgement.
//   --sts    score TAB a TAB b lines: Spearman and Pearson correlation of
//            cos(a, b) with the gold scores (the STS benchmark protocol).
//   --pairs  a TAB b lines: retrieve each a's b among all distinct b's;
//            recall@1, recall@10 and mean reciprocal rank.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/pair_cosines.h"
#include "cli/progress.h"
#include "sentemb/corpus.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/similarity.h"

namespace sentemb::cli {
namespace {

struct EvalArgs {
  EncoderFlags encoder;
  std::string sts;
  std::string pairs;
  bool json = false;
};

std::string display(const std::string& path) {
  return path == "-" ? "<stdin>" : path;
}

// JSON has no NaN: an undefined correlation (constant scores) becomes null.
nlohmann::json json_number(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

// Encodes texts a window at a time into (texts.size(), dim), advancing progress.
std::vector<float> encode_all(Encoder& encoder, const std::vector<std::string>& texts,
                              Progress& progress) {
  const int dim = encoder.dim();
  std::vector<float> vectors(texts.size() * dim);
  std::vector<std::string> window;
  for (std::size_t start = 0; start < texts.size(); start += kEncodeWindow) {
    const std::size_t end = std::min(texts.size(), start + kEncodeWindow);
    window.assign(texts.begin() + start, texts.begin() + end);
    encoder.encode(window, vectors.data() + start * dim);
    progress.advance(end - start);
  }
  return vectors;
}

void eval_sts(Encoder& encoder, const std::string& path, bool json) {
  CorpusReader reader(path, CorpusFormat::kSts);
  Progress progress("eval", 0, "pairs");
  if (progress.enabled()) progress.set_total(count_lines(path).value_or(0));
  std::vector<double> gold, predicted;
  for_each_pair_window(reader, encoder, [&](const auto& records, const auto& cosines) {
    for (const auto& r : records) gold.push_back(r.score);
    predicted.insert(predicted.end(), cosines.begin(), cosines.end());
    progress.advance(records.size());
  });
  progress.finish();
  if (gold.empty()) throw Error(fmt::format("{}: no STS pairs to evaluate", display(path)));

  const double rho = spearman(predicted, gold), r = pearson(predicted, gold);
  if (!std::isfinite(rho) || !std::isfinite(r))
    fmt::print(stderr,
               "warning: correlation undefined: fewer than 2 pairs, or the gold or predicted "
               "scores are all equal\n");
  if (json) {
    nlohmann::json j;
    j["spearman"] = json_number(rho);
    j["pearson"] = json_number(r);
    j["n"] = gold.size();
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}: {} pairs\n", display(path), gold.size());
    fmt::print("spearman  {:.4f}  (x100: {:.2f})\n", rho, 100 * rho);
    fmt::print("pearson   {:.4f}  (x100: {:.2f})\n", r, 100 * r);
  }
}

void eval_pairs(Encoder& encoder, const std::string& path, bool json) {
  ReaderOptions options;
  options.allow_extra_columns = true;
  std::vector<Record> records = read_corpus(path, CorpusFormat::kPairs, options);
  if (records.empty()) throw Error(fmt::format("{}: no pairs to evaluate", display(path)));

  // Candidates: the distinct second columns, in first-seen order. A query's
  // correct answer is the candidate equal to its own second column.
  std::vector<std::string> queries, candidates;
  std::vector<std::size_t> correct;
  std::unordered_map<std::string, std::size_t> candidate_index;
  queries.reserve(records.size());
  for (Record& rec : records) {
    auto [it, inserted] = candidate_index.emplace(rec.b, candidates.size());
    if (inserted) candidates.push_back(rec.b);
    correct.push_back(it->second);
    queries.push_back(std::move(rec.a));
  }
  records.clear();

  Progress progress("eval", queries.size() + candidates.size(), "sentences");
  const int dim = encoder.dim();
  std::vector<float> q = encode_all(encoder, queries, progress);     // (Q, dim)
  std::vector<float> c = encode_all(encoder, candidates, progress);  // (C, dim)
  progress.finish();
  // Unit rows make the dot products cosines (the model may not normalise).
  l2_normalize_rows(q.data(), queries.size(), dim);
  l2_normalize_rows(c.data(), candidates.size(), dim);

  // Scores a block of queries at a time: (block, C) floats, never (Q, C).
  const std::size_t nq = queries.size(), nc = candidates.size();
  const std::size_t block = std::max<std::size_t>(1, std::min<std::size_t>(512, (1u << 24) / nc));
  std::vector<float> scores;
  std::vector<std::size_t> ranks(nq);
  for (std::size_t start = 0; start < nq; start += block) {
    const std::size_t rows = std::min(block, nq - start);
    scores.resize(rows * nc);
    dot_scores(q.data() + start * dim, rows, c.data(), nc, dim, scores.data());
    for (std::size_t i = 0; i < rows; ++i)
      ranks[start + i] = rank_of_correct(scores.data() + i * nc, nc, correct[start + i]);
  }
  const RetrievalMetrics m = retrieval_metrics(ranks);
  if (json) {
    nlohmann::json j;
    j["recall@1"] = m.recall_at_1;
    j["recall@10"] = m.recall_at_10;
    j["mrr"] = m.mrr;
    j["n"] = nq;
    j["candidates"] = nc;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}: {} queries, {} candidates\n", display(path), nq, nc);
    fmt::print("recall@1   {:.4f}  (x100: {:.2f})\n", m.recall_at_1, 100 * m.recall_at_1);
    fmt::print("recall@10  {:.4f}  (x100: {:.2f})\n", m.recall_at_10, 100 * m.recall_at_10);
    fmt::print("mrr        {:.4f}  (x100: {:.2f})\n", m.mrr, 100 * m.mrr);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a model. --sts: Spearman and Pearson correlation of cosine similarity with\n"
      "gold scores (score TAB a TAB b lines). --pairs: retrieve each line's second column\n"
      "among all distinct second columns by its first (a TAB b lines); recall@1, recall@10\n"
      "and MRR, ties counted against the query.");
  auto args = std::make_shared<EvalArgs>();
  args->encoder.add_to(cmd);
  auto* sts = cmd->add_option("--sts", args->sts, "STS file: score TAB a TAB b per line");
  auto* pairs = cmd->add_option("--pairs", args->pairs,
                                "Pairs file: a TAB b per line (later columns ignored)");
  sts->excludes(pairs);
  cmd->add_flag("--json", args->json,
                "Print one JSON object: {\"spearman\", \"pearson\", \"n\"} for --sts, "
                "{\"recall@1\", \"recall@10\", \"mrr\", \"n\", \"candidates\"} for --pairs");
  cmd->callback([args] {
    if (args->sts.empty() && args->pairs.empty())
      throw UsageError("eval needs --sts FILE or --pairs FILE");
    Encoder encoder = args->encoder.load();
    if (!args->sts.empty()) {
      eval_sts(encoder, args->sts, args->json);
    } else {
      eval_pairs(encoder, args->pairs, args->json);
    }
  });
}

}  // namespace sentemb::cli
