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
#include "sentemb/quantization.h"
#include "sentemb/quantized_eval.h"
#include "sentemb/retrieval.h"

namespace sentemb::cli {
namespace {

struct EvalArgs {
  EncoderFlags encoder;
  std::string sts;
  std::string pairs;
  bool json = false;
  std::string quantize;      // empty: float32 vectors
  std::string calibration;   // int8 / uint8 ranges (or int8 rescoring's) from these sentences
  std::string ranges;        // or from this file
  std::size_t rescore = 0;   // --pairs: candidates to rescore
  std::string rescore_with;  // --pairs: bits (default for binary), int8, float
};

// The ranges of --calibration or --ranges.
QuantizationRanges eval_ranges(const EvalArgs& args, Encoder& encoder) {
  if (args.ranges.empty() && args.calibration.empty())
    throw UsageError("int8 / uint8 vectors need ranges: --calibration FILE or --ranges FILE");
  return read_or_calibrate_ranges(encoder, args.ranges, args.calibration);
}

// The quantizer of --quantize, with the ranges int8 / uint8 need.
Quantizer eval_quantizer(const EvalArgs& args, Encoder& encoder) {
  const Quantization kind = quantization_from_string(args.quantize);
  if (is_binary(kind)) return Quantizer(kind, encoder.dim());
  return Quantizer(kind, encoder.dim(), eval_ranges(args, encoder));
}

QuantizedRetrievalOptions rescore_options(const EvalArgs& args, Encoder& encoder) {
  QuantizedRetrievalOptions o;
  if (args.rescore == 0) {
    if (!args.rescore_with.empty()) throw UsageError("--rescore-with needs --rescore N");
    return o;
  }
  o.candidates = args.rescore;
  o.rescore_with = rescore_with_from_string(args.rescore_with.empty() ? "bits" : args.rescore_with);
  if (o.rescore_with == RescoreWith::kInt8) o.int8_ranges = eval_ranges(args, encoder);
  return o;
}

std::string display(const std::string& path) {
  return path == "-" ? "<stdin>" : path;
}

// JSON has no NaN: an undefined correlation (constant scores) becomes null.
nlohmann::json json_number(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

void eval_sts(Encoder& encoder, const EvalArgs& args) {
  const std::string& path = args.sts;
  const bool json = args.json;
  if (args.rescore > 0) throw UsageError("--rescore is for --pairs");
  Progress progress("eval", 0, "pairs");
  if (progress.enabled()) progress.set_total(count_lines(path).value_or(0));
  auto advance = [&](std::size_t n) { progress.advance(n); };
  const StsResult sts =
      args.quantize.empty()
          ? evaluate_sts(encoder, path, advance)
          : evaluate_sts_quantized(encoder, path, eval_quantizer(args, encoder), advance);
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

void eval_pairs(Encoder& encoder, const EvalArgs& args) {
  const std::string& path = args.pairs;
  const bool json = args.json;
  const RetrievalSet set = read_retrieval_set(path);
  const std::size_t nq = set.queries.size(), nc = set.candidates.size();
  Progress progress("eval", nq + nc, "sentences");
  auto advance = [&](std::size_t n) { progress.advance(n); };
  RetrievalMetrics m;
  QuantizedRetrievalResult quantized;
  if (args.quantize.empty()) {
    if (args.rescore > 0) throw UsageError("--rescore is for quantized vectors (--quantize)");
    m = evaluate_retrieval(encoder, set, advance);
  } else {
    const Quantizer quantizer = eval_quantizer(args, encoder);
    quantized = evaluate_retrieval_quantized(encoder, set, quantizer,
                                             rescore_options(args, encoder), advance);
    m = quantized.metrics;
  }
  progress.finish();
  if (json) {
    nlohmann::json j;
    if (!args.quantize.empty()) {
      j["index_bytes"] = quantized.index_bytes;
      j["queries_per_second"] = quantized.queries_per_second;
    }
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
    if (!args.quantize.empty())
      fmt::print("{} index: {} bytes, ranked {:.0f} queries/s\n", args.quantize,
                 quantized.index_bytes, quantized.queries_per_second);
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
  cmd->add_option("--quantize", args->quantize,
                  "Score quantized vectors (int8, uint8: cosine of the dequantized vectors; "
                  "binary, ubinary: 1 - 2 h / D, h the Hamming distance); --pairs quantizes the "
                  "candidates only, as `search` does a quantized index")
      ->check(CLI::IsMember({"int8", "uint8", "binary", "ubinary"}));
  auto* calibration = cmd->add_option(
      "--calibration", args->calibration,
      "int8 / uint8 (or --rescore-with int8): sentences whose vectors give the ranges");
  auto* ranges = cmd->add_option("--ranges", args->ranges,
                                 "int8 / uint8: ranges file (`encode --save-ranges`) instead");
  calibration->excludes(ranges);
  cmd->add_option("--rescore", args->rescore,
                  "--pairs with --quantize: re-rank each query's top N candidates")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rescore-with", args->rescore_with,
                  "bits (the float query against the binary codes as 0/1, as "
                  "sentence-transformers; the default), int8 (dequantized int8 codes, ranges "
                  "from --calibration or --ranges) or float (the float32 vectors)")
      ->check(CLI::IsMember({"bits", "int8", "float"}));
  cmd->callback([args] {
    if (args->sts.empty() && args->pairs.empty())
      throw UsageError("eval needs --sts FILE or --pairs FILE");
    Encoder encoder = args->encoder.load();
    if ((!args->calibration.empty() || !args->ranges.empty()) && args->quantize.empty())
      throw UsageError("--calibration and --ranges are for --quantize int8 or uint8");
    if (!args->sts.empty()) {
      eval_sts(encoder, *args);
    } else {
      eval_pairs(encoder, *args);
    }
  });
}

}  // namespace sentemb::cli
