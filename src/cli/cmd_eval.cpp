// `sentemb eval`: how well a model's cosine similarities match human judgement.
//   --sts    score TAB a TAB b lines: Spearman and Pearson correlation of
//            cos(a, b) with the gold scores (the STS benchmark protocol).
//   --pairs  a TAB b lines: retrieve each a's b among all distinct b's;
//            recall@1, recall@10 and mean reciprocal rank.
#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/pair_scoring.h"
#include "sentemb/retrieval.h"

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

void eval_sts(Encoder& encoder, const std::string& path, bool json) {
  Progress progress("eval", 0, "pairs");
  if (progress.enabled()) progress.set_total(count_lines(path).value_or(0));
  const StsResult sts = evaluate_sts(encoder, path, [&](std::size_t n) { progress.advance(n); });
  progress.finish();

  const double rho = sts.spearman, r = sts.pearson;
  if (!std::isfinite(rho) || !std::isfinite(r))
    fmt::print(stderr,
               "warning: correlation undefined: fewer than 2 pairs, or the gold or predicted "
               "scores are all equal\n");
  if (json) {
    nlohmann::json j;
    j["spearman"] = json_number(rho);
    j["pearson"] = json_number(r);
    j["n"] = sts.pairs;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}: {} pairs\n", display(path), sts.pairs);
    fmt::print("spearman  {:.4f}  (x100: {:.2f})\n", rho, 100 * rho);
    fmt::print("pearson   {:.4f}  (x100: {:.2f})\n", r, 100 * r);
  }
}

void eval_pairs(Encoder& encoder, const std::string& path, bool json) {
  const RetrievalSet set = read_retrieval_set(path);
  const std::size_t nq = set.queries.size(), nc = set.candidates.size();
  Progress progress("eval", nq + nc, "sentences");
  const RetrievalMetrics m =
      evaluate_retrieval(encoder, set, [&](std::size_t n) { progress.advance(n); });
  progress.finish();
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
