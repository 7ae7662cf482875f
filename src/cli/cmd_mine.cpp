// `sentemb mine`: hard negatives for a pairs file, written as triplets
// (anchor TAB positive TAB negative) for `sentemb train --triplets`.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sentemb/errors.h"
#include "sentemb/mining.h"
#include "sentemb/search.h"

namespace sentemb::cli {
namespace {

struct MineArgs {
  EncoderFlags encoder;
  std::string pairs, corpus, out;
  int num_negatives = 1, range_min = 0, range_max = 50;
  float margin = 0, relative_margin = 0;
  bool has_margin = false, has_relative_margin = false;
  std::string sampling = "top";
  std::uint64_t seed = 42;
};

// A text file written to PATH.tmp and renamed over PATH by commit(), so PATH
// is never a half-written file; removed again if commit() is never reached.
class AtomicOutput {
 public:
  explicit AtomicOutput(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (!file_) throw IoError(fmt::format("cannot write {}: {}", tmp_, std::strerror(errno)));
  }
  ~AtomicOutput() {
    if (file_) std::fclose(file_);
    if (!committed_) std::remove(tmp_.c_str());
  }
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  std::FILE* file() { return file_; }
  void commit() {
    const bool flushed = std::fflush(file_) == 0 && !std::ferror(file_);
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!flushed || !closed) throw IoError(fmt::format("cannot write {} (disk full?)", tmp_));
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw IoError(fmt::format("cannot rename {} to {}: {}", tmp_, path_, std::strerror(errno)));
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

MiningOptions mining_options(const MineArgs& args) {
  // Negative counts are checked here, before the unsigned conversion hides them.
  if (args.num_negatives < 1) throw UsageError("--num-negatives must be at least 1");
  if (args.range_min < 0) throw UsageError("--range-min must not be negative");
  MiningOptions o;
  o.num_negatives = static_cast<std::size_t>(args.num_negatives);
  o.range_min = static_cast<std::size_t>(args.range_min);
  o.range_max = static_cast<std::size_t>(std::max(args.range_max, 0));
  if (args.has_margin) o.absolute_margin = args.margin;
  if (args.has_relative_margin) o.relative_margin = args.relative_margin;
  o.sampling = negative_sampling_from_string(args.sampling);
  o.seed = args.seed;
  check_mining_options(o);
  return o;
}

void run_mine(const MineArgs& args) {
  const MiningOptions options = mining_options(args);
  AtomicOutput out(args.out);  // checks that --out is writable before the work
  Encoder encoder = args.encoder.load();

  const MiningCorpus corpus = read_mining_corpus(args.pairs, args.corpus);
  if (corpus.lines.empty()) fmt::print(stderr, "warning: the corpus to mine from is empty\n");
  Progress encoding("encode corpus", corpus.lines.size(), "lines");
  const VectorMatrix vectors =
      encode_corpus(encoder, corpus.lines, [&](std::size_t n) { encoding.advance(n); });
  encoding.finish();

  Progress mining("mine", corpus.pairs, "pairs");
  std::FILE* file = out.file();
  const MiningCounts counts = mine_hard_negatives(
      encoder, args.pairs, corpus, vectors, options,
      [file](const std::string& anchor, const std::string& positive, const std::string& negative,
             float) { fmt::print(file, "{}\t{}\t{}\n", anchor, positive, negative); },
      [&](std::size_t n) { mining.advance(n); });
  mining.finish();
  out.commit();

  fmt::print(stderr, "mined {} triplets from {} pairs against {} corpus lines into {}",
             counts.triplets, counts.pairs, corpus.lines.size(), args.out);
  fmt::print(stderr, "; {} pair(s) had no admissible candidate", counts.without_negative);
  if (options.num_negatives > 1)
    fmt::print(stderr, ", {} fewer than {}", counts.short_of_negatives, options.num_negatives);
  fmt::print(stderr, "\n");
}

}  // namespace

void add_mine_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "mine",
      "Mine hard negatives: for each anchor TAB positive pair, the corpus texts the model\n"
      "ranks closest to the anchor, skipping the positive, the anchor itself, the anchor's\n"
      "other positives and (margins) candidates scoring too close to the positive. Writes\n"
      "anchor TAB positive TAB negative, one line per negative, for train --triplets.");
  auto args = std::make_shared<MineArgs>();
  args->encoder.add_to(cmd);
  cmd->add_option("--pairs,-p", args->pairs, "Pairs file: anchor TAB positive")->required();
  cmd->add_option("--corpus,-c", args->corpus,
                  "Text file of candidate negatives, one per line (default: the positives of "
                  "--pairs); duplicates and empty lines are dropped");
  cmd->add_option("--out,-o", args->out, "Triplets file to write (via OUT.tmp, renamed)")
      ->required();
  cmd->add_option("--num-negatives,-n", args->num_negatives, "Negatives per pair");
  cmd->add_option("--range-min", args->range_min,
                  "Skip the admissible candidates ranked above this (0-based rank)");
  cmd->add_option("--range-max", args->range_max,
                  "Consider admissible candidates of rank < range-max only");
  cmd->add_option("--margin", args->margin,
                  "Absolute margin: drop candidates scoring above positive - margin "
                  "(cosine)")
      ->default_str("none");
  cmd->add_option("--relative-margin", args->relative_margin,
                  "Relative margin m: drop candidates scoring above (1 - m) x positive "
                  "(NV-Retriever; e.g. 0.05)")
      ->default_str("none");
  cmd->add_option("--sampling", args->sampling,
                  "Which negatives of the rank window: top (the best) or random (seeded)")
      ->check(CLI::IsMember({"top", "random"}));
  cmd->add_option("--seed", args->seed, "Seed of --sampling random");
  cmd->callback([args, cmd] {
    args->has_margin = cmd->count("--margin") > 0;
    args->has_relative_margin = cmd->count("--relative-margin") > 0;
    run_mine(*args);
  });
}

}  // namespace sentemb::cli
