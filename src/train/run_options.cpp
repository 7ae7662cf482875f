#include "train/run_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "sentemb/errors.h"
#include "train/augment.h"

namespace sentemb::train {

namespace {

bool uses_any(const std::vector<std::string>& names, std::initializer_list<const char*> wanted) {
  for (const char* w : wanted)
    if (std::find(names.begin(), names.end(), w) != names.end()) return true;
  return false;
}

bool has_labeled_source(const TrainOptions& o) {
  return std::any_of(o.sources.begin(), o.sources.end(),
                     [](const TrainSource& s) { return s.format == CorpusFormat::kLabeled; });
}

void check_ranges(const TrainOptions& o) {
  if (o.sources.empty())
    throw UsageError("no training data: give --pairs, --triplets, --labeled or --text");
  if (o.out.empty()) throw UsageError("--out is required");
  if (o.batch < 2) throw UsageError(fmt::format("--batch must be >= 2, got {}", o.batch));
  if (o.batch > kMaxTrainBatch)
    throw UsageError(fmt::format("--batch must be <= {}, got {}", kMaxTrainBatch, o.batch));
  if (o.mini_batch < 0 || o.mini_batch > o.batch)
    throw UsageError(
        fmt::format("--mini-batch must be in [1, --batch {}], got {}", o.batch, o.mini_batch));
  if (!(o.lr > 0)) throw UsageError(fmt::format("--lr must be > 0, got {}", o.lr));
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw UsageError(fmt::format("--dropout must be in [0, 1), got {}", o.dropout));
  if (o.epochs < 1) throw UsageError(fmt::format("--epochs must be >= 1, got {}", o.epochs));
  if (o.eval_every < 1 || o.checkpoint_every < 1 || o.log_every < 1)
    throw UsageError("--eval-every, --checkpoint-every and --log-every must be >= 1");
  if (o.threads < 0)
    throw UsageError(fmt::format("--threads must be >= 0 (0: all cores), got {}", o.threads));
  if (o.vocab_size && *o.vocab_size < 2)
    throw UsageError(fmt::format("--vocab-size must be >= 2, got {}", *o.vocab_size));
  if (!(o.max_minutes >= 0))
    throw UsageError(fmt::format("--max-minutes must be >= 0, got {}", o.max_minutes));
  if (o.resume && o.checkpoint_dir.empty()) throw UsageError("--resume needs --checkpoint-dir");
  if (!o.augment.empty()) augment_options_from_string(o.augment);  // throws naming --augment
}

// An option that belongs to a loss (or to a tokenizer trained here) does nothing when
// that loss (or tokenizer training) is not part of the run: an error, never silence.
void check_no_idle_options(const TrainOptions& o) {
  if (!o.init.empty() && (!o.tokenizer.empty() || o.vocab_size || o.lowercase))
    throw UsageError(
        fmt::format("{} does nothing with --init {}: the model brings its own tokenizer",
                    !o.tokenizer.empty() ? "--tokenizer"
                    : o.vocab_size       ? "--vocab-size"
                                         : "--lowercase",
                    o.init));
  if (!o.tokenizer.empty() && (o.vocab_size || o.lowercase))
    throw UsageError(
        fmt::format("{} applies to a tokenizer trained here and does nothing with --tokenizer {}",
                    o.vocab_size ? "--vocab-size" : "--lowercase", o.tokenizer));
  const auto names = loss_spec_names(o.loss);
  const bool infonce = uses_any(names, {"infonce", "symmetric_infonce"});
  const bool triplet = uses_any(names, {"triplet", "batch_hard_triplet"});
  const bool contrastive = uses_any(names, {"contrastive"}) || has_labeled_source(o);
  auto idle = [&](bool set, bool used, const char* option, const char* what) {
    if (set && !used)
      throw UsageError(fmt::format("{} sets the {} but --loss '{}' has none{}", option, what,
                                   o.loss, contrastive ? "" : " and no --labeled file is given"));
  };
  idle(o.temperature.has_value(), infonce, "--temperature", "InfoNCE loss");
  idle(o.symmetric, infonce, "--symmetric", "InfoNCE loss");
  idle(o.margin.has_value(), triplet, "--margin", "triplet loss");
  idle(o.distance.has_value(), triplet, "--distance", "triplet loss");
  idle(o.batch_hard, triplet, "--batch-hard", "triplet loss");
  idle(o.contrastive_margin.has_value(), contrastive, "--contrastive-margin",
       "contrastive loss (labeled pairs)");
}

// The option a fingerprint key stands for, as the user wrote it.
std::string option_name(const std::string& key) {
  if (key == "sources") return "--pairs/--triplets/--labeled/--text/--weights";
  if (key == "bf16") return "--precision";
  if (key == "normalize") return "--no-normalize";
  std::string name = "--" + key;
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

}  // namespace

void validate_options(const TrainOptions& o) {
  check_ranges(o);
  check_no_idle_options(o);
}

void validate_batch_size(const TrainOptions& o, const ModelConfig& config) {
  // Anchors, positives and negatives of a batch are one (3B, T) token block.
  if (3LL * o.batch * config.max_len > INT_MAX)
    throw UsageError(fmt::format(
        "--batch {} with --max-len {}: a batch of 3 x {} x {} tokens is too large; lower either",
        o.batch, config.max_len, o.batch, config.max_len));
}

LossOptions loss_options(const TrainOptions& o) {
  LossOptions lo;
  lo.infonce = {o.temperature.value_or(0.05f), o.symmetric};
  lo.triplet.distance = triplet_distance_from_string(o.distance.value_or("cosine"));
  lo.triplet.margin = o.margin.value_or(-1.0f);  // < 0: the distance's default
  lo.triplet.batch_hard = o.batch_hard;
  if (o.contrastive_margin) lo.contrastive.margin = *o.contrastive_margin;
  return lo;
}

nlohmann::json run_fingerprint(const TrainOptions& o) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : o.sources) sources.push_back({s.path, to_string(s.format), s.weight});
  const LossOptions lo = loss_options(o);
  const ModelConfig& m = o.model;
  return {{"fingerprint_version", 2},
          // data and its order
          {"sources", sources},
          {"groups", o.group_files},
          {"skip_bad_lines", o.on_bad_line == OnBadLine::kSkip},
          {"batch", o.batch},
          {"mini_batch", o.mini_batch},
          {"seed", o.seed},
          {"epochs", o.epochs},
          {"max_steps", o.max_steps},
          // the model (ignored on resume before: now compared)
          {"init", o.init},
          {"tokenizer", o.tokenizer},
          {"vocab_size", o.vocab_size.value_or(kDefaultTrainVocabSize)},
          {"lowercase", o.lowercase},
          {"init_token_std", o.token_embedding_std},
          {"layers", m.layers},
          {"dim", m.dim},
          {"heads", m.heads},
          {"ffn_dim", m.ffn_dim},
          {"max_len", m.max_len},
          {"pooling", to_string(m.pooling)},
          {"normalize", m.normalize},
          // losses
          {"loss", o.loss},
          {"temperature", lo.infonce.temperature},
          {"symmetric", o.symmetric},
          {"margin", lo.triplet.margin},
          {"distance", o.distance.value_or("cosine")},
          {"batch_hard", o.batch_hard},
          {"contrastive_margin", lo.contrastive.margin},
          {"matryoshka_dims", o.matryoshka_dims},
          // optimiser and schedule
          {"lr", o.lr},
          {"warmup", o.warmup},
          {"decay", o.decay},
          {"weight_decay", o.weight_decay},
          {"clip", o.clip},
          {"dropout", o.dropout},
          {"augment", o.augment},
          {"ema", o.ema},
          {"bf16", o.bf16}};
}

void check_resume_fingerprint(const std::string& stored_text, const nlohmann::json& current,
                              const std::string& path) {
  nlohmann::json stored = nlohmann::json::object();
  if (!stored_text.empty()) stored = nlohmann::json::parse(stored_text, nullptr, false);
  if (!stored.is_object())
    throw ModelFileError(fmt::format("{}: the checkpoint's run options are unreadable", path));
  const bool legacy = !stored.contains("fingerprint_version");
  if (legacy && !stored.contains("bf16")) stored["bf16"] = false;  // written only when set
  for (const auto& [key, value] : current.items()) {
    if (key == "fingerprint_version") continue;
    if (!stored.contains(key)) {
      if (legacy) continue;
      throw UsageError(fmt::format("--resume: {} has no {} recorded", path, option_name(key)));
    }
    if (stored[key] != value)
      throw UsageError(fmt::format(
          "--resume: {} differs from the run in {} ({} there, {} now); options that may "
          "change on resume: {}",
          option_name(key), path, stored[key].dump(), value.dump(),
          fmt::join(options_free_on_resume(), ", ")));
  }
}

}  // namespace sentemb::train

namespace sentemb {

std::vector<TrainSource> train_sources(const std::vector<std::string>& pairs,
                                       const std::vector<std::string>& triplets,
                                       const std::vector<std::string>& labeled,
                                       const std::vector<std::string>& text,
                                       const std::vector<double>& weights) {
  std::vector<TrainSource> sources;
  for (const auto& p : pairs) sources.push_back({p, CorpusFormat::kPairs, 0});
  for (const auto& p : triplets) sources.push_back({p, CorpusFormat::kTriplets, 0});
  for (const auto& p : labeled) sources.push_back({p, CorpusFormat::kLabeled, 0});
  for (const auto& p : text) sources.push_back({p, CorpusFormat::kText, 0});
  if (!weights.empty()) {
    if (weights.size() != sources.size())
      throw UsageError(
          fmt::format("--weights has {} values for {} files", weights.size(), sources.size()));
    for (std::size_t i = 0; i < sources.size(); ++i) sources[i].weight = weights[i];
  }
  return sources;
}

const std::vector<std::string>& options_free_on_resume() {
  static const std::vector<std::string> free{"--max-minutes",      "--eval-sts",    "--eval-every",
                                             "--checkpoint-every", "--pause-after", "--log",
                                             "--log-every",        "--threads",     "--out"};
  return free;
}

}  // namespace sentemb
