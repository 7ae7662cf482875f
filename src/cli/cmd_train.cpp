// `sentemb train`: train a sentence encoder from pairs, triplets or labeled pairs.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "cli/commands.h"
#include "cli/model_size_options.h"
#include "cli/progress.h"
#include "dist/communicator.h"
#include "sentemb/errors.h"
#include "sentemb/train/trainer.h"
#include "train/losses.h"

namespace sentemb::cli {

namespace {

// The end of a run, on stderr.
void print_result(const TrainResult& r, const TrainOptions& o) {
  fmt::print(stderr, "{} after {} steps ({}); final loss {:.4f}",
             r.interrupted ? "stopped" : "done", r.steps, r.stop_reason, r.final_loss);
  if (r.best_spearman) fmt::print(stderr, "; best STS spearman {:.2f}", 100 * *r.best_spearman);
  fmt::print(stderr, "\n");
  if (std::filesystem::exists(o.out)) fmt::print(stderr, "model: {}\n", o.out);
  const std::string where = o.checkpoint_dir.empty() ? "(no --checkpoint-dir)" : o.checkpoint_dir;
  if (r.stop_reason == "paused")
    fmt::print(stderr, "paused: checkpoint written to {}; continue with --resume\n", where);
  if (r.interrupted)
    fmt::print(stderr, "interrupted: checkpoint written to {}; continue with --resume\n", where);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train",
      "Train a sentence encoder from paired text (or plain text).\n"
      "Pair, triplet and text batches use --loss; labeled-pair batches use the contrastive "
      "loss.\n"
      "Each batch comes from one file; files mix in proportion to their size or --weights.");
  struct Args {
    TrainOptions o;
    std::vector<std::string> pairs, triplets, labeled, text;
    std::vector<double> weights;
    ModelSizeOptions size;
    bool skip_bad_lines = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->o;
  cmd->add_option("--pairs", args->pairs, "anchor<TAB>positive file (repeatable)");
  cmd->add_option("--triplets", args->triplets,
                  "anchor<TAB>positive<TAB>negative file (repeatable)");
  cmd->add_option("--labeled", args->labeled, "label<TAB>s1<TAB>s2 file, label 0/1 (repeatable)");
  cmd->add_option("--text", args->text,
                  "Plain text, one sentence per line (repeatable): each sentence is its own "
                  "positive under another dropout mask (unsupervised SimCSE)");
  cmd->add_option("--groups", o.group_files,
                  "group<TAB>sentence file: sentences of one group are never negatives");
  cmd->add_option("--weights", args->weights,
                  "Sampling weight per file, in the order --pairs..., --triplets..., "
                  "--labeled..., --text... (default: by size)");
  cmd->add_flag("--skip-bad-lines", args->skip_bad_lines,
                "Skip malformed lines (counted and reported) instead of failing");
  cmd->add_option("--out,-o", o.out, "Output model file: the best by --eval-sts, else the last")
      ->required();
  cmd->add_option("--init", o.init,
                  "Fine-tune this model (.semb): its tokenizer, size and weights, with a fresh "
                  "optimiser and schedule (size and tokenizer flags are then errors)");
  cmd->add_option("--tokenizer", o.tokenizer,
                  "SentencePiece .model file (default: train one on the training text)");
  cmd->add_option_function<int>(
      "--vocab-size", [&o](int v) { o.vocab_size = v; },
      fmt::format("Vocabulary of a tokenizer trained here (default {}; an error with --tokenizer)",
                  kDefaultTrainVocabSize));
  cmd->add_flag("--lowercase", o.lowercase,
                "A tokenizer trained here case-folds text (kept in the model: encode folds too; "
                "an error with --tokenizer)");
  args->size.add_to(cmd);
  cmd->add_option("--loss", o.loss,
                  "Loss for pair/triplet batches: " + loss_names() +
                      ", or a weighted sum like infonce:1,triplet:0.5");
  // Each loss option belongs to one loss: given without that loss, it is an error.
  cmd->add_option_function<float>(
      "--temperature", [&o](float t) { o.temperature = t; }, "InfoNCE temperature (default 0.05)");
  cmd->add_flag("--symmetric", o.symmetric, "InfoNCE in both directions (anchor↔positive)");
  cmd->add_option_function<float>(
      "--margin", [&o](float m) { o.margin = m; },
      "Triplet margin (default 0.5 with cosine distance, 5 with euclidean)");
  cmd->add_option_function<std::string>(
         "--distance", [&o](const std::string& d) { o.distance = d; },
         "Triplet distance: cosine (default) or euclidean")
      ->check(CLI::IsMember({"cosine", "euclidean"}));
  cmd->add_flag("--batch-hard", o.batch_hard, "Triplet loss mines the hardest in-batch negative");
  cmd->add_option_function<float>(
      "--contrastive-margin", [&o](float m) { o.contrastive_margin = m; },
      "Margin of the contrastive loss of --labeled pairs, in cosine distance (default 0.5)");
  cmd->add_option("--matryoshka-dims", o.matryoshka_dims,
                  "Matryoshka: sum every loss over these leading widths of each embedding, "
                  "e.g. 256,128,64,32 (decreasing, each <= --dim), so a vector's first K "
                  "values are a usable embedding (encode --dim K)")
      ->delimiter(',');
  cmd->add_option("--batch", o.batch, "Examples per batch");
  cmd->add_option("--mini-batch", o.mini_batch,
                  "Gradient caching: keep activations for this many examples at a time, so a "
                  "large --batch (all of it in-batch negatives) fits in memory; costs one more "
                  "forward (0: off)");
  cmd->add_option("--lr", o.lr, "Peak learning rate (AdamW)");
  cmd->add_option("--warmup", o.warmup, "Warm-up: a fraction of the steps (<1) or a step count");
  cmd->add_option("--decay", o.decay, "Learning-rate decay after warm-up: linear, cosine, constant")
      ->check(CLI::IsMember({"linear", "cosine", "constant"}));
  cmd->add_option(
      "--weight-decay", o.weight_decay,
      "AdamW decoupled weight decay (matrices only; not biases, LayerNorm, embeddings)");
  cmd->add_option("--dropout", o.dropout, "Dropout on embeddings, attention and residual branches");
  cmd->add_option("--augment", o.augment,
                  "Augment every text of a batch: token deletion and/or span cropping at "
                  "these rates, e.g. delete:0.1,crop:0.2 (seeded and resumable like dropout)");
  cmd->add_option("--clip", o.clip, "Global gradient-norm clip (0: off)");
  cmd->add_option("--ema", o.ema,
                  "Keep an exponential moving average of the weights with this decay (e.g. "
                  "0.999); evaluation and the written model use it (0: off)");
  cmd->add_option_function<std::string>(
         "--precision", [&o](const std::string& p) { o.bf16 = p == "bf16"; },
         "Matmul precision: fp32, or bf16 (mixed precision: bf16 products with fp32 "
         "accumulation, fp32 master weights and AdamW)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--seed", o.seed, "Random seed (initialisation, data order, dropout)");
  cmd->add_option("--threads", o.threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--epochs", o.epochs, "Passes over the training data");
  cmd->add_option("--max-steps", o.max_steps,
                  "Stop after this many steps (-1: no limit; 0: write the initialised model)");
  cmd->add_option("--max-minutes", o.max_minutes,
                  "Stop after this many minutes of training, counted from the first step "
                  "(set-up is not counted); the LR schedule follows it (0: no limit)");
  cmd->add_option("--eval-sts", o.eval_sts, "STS file (score<TAB>s1<TAB>s2) for evaluation");
  cmd->add_option("--eval-every", o.eval_every, "Evaluate every N steps (and at the end)");
  cmd->add_option("--checkpoint-dir", o.checkpoint_dir,
                  "Directory for checkpoint.semb (written atomically)");
  cmd->add_option("--checkpoint-every", o.checkpoint_every, "Write a checkpoint every N steps");
  cmd->add_flag("--resume", o.resume,
                "Continue from the checkpoint in --checkpoint-dir, with the same options; only " +
                    fmt::format("{}", fmt::join(options_free_on_resume(), ", ")) + " may change");
  cmd->add_option("--pause-after", o.pause_after,
                  "Stop after N steps of this session with a checkpoint; continue with --resume "
                  "(0: off)");
  cmd->add_option("--log", o.log, "JSON-lines log: step, loss terms, lr, throughput, evals");
  cmd->add_option("--log-every", o.log_every, "Log (and print when not a terminal) every N steps");

  cmd->callback([args, cmd] {
    watch_stop_signals();  // first: before any thread starts
    auto& o = args->o;
    o.sources =
        train_sources(args->pairs, args->triplets, args->labeled, args->text, args->weights);
    o.on_bad_line = args->skip_bad_lines ? OnBadLine::kSkip : OnBadLine::kFail;
    if (!o.init.empty())
      if (const auto flag = args->size.first_given(*cmd))
        throw UsageError(
            fmt::format("{} does nothing with --init {}: the model's size is kept", *flag, o.init));
    o.model = args->size.resolve(o.model.vocab_size);
    o.token_embedding_std = args->size.token_embedding_std;

    Progress bar("train", 0, "steps");
    TrainCallbacks callbacks;
    callbacks.on_warning = [](const std::string& w) { fmt::print(stderr, "warning: {}\n", w); };
    callbacks.on_progress = [&](const TrainProgress& p) {
      bar.set_total(static_cast<std::uint64_t>(p.total_steps));
      std::string note = fmt::format("loss {:.4f}, {:.0f} pairs/s", p.loss, p.pairs_per_second);
      if (p.eval_spearman) note = fmt::format("STS spearman {:.2f}", 100 * *p.eval_spearman);
      bar.set_note(note);
      bar.update(static_cast<std::uint64_t>(p.step));
      if (!bar.enabled() && (p.step % o.log_every == 0 || p.eval_spearman))
        fmt::print(stderr, "step {}/{}  {}  {:.0f}s\n", p.step, p.total_steps, note,
                   p.elapsed_seconds);
    };
    const TrainResult r = run_training(o, callbacks);
    bar.finish();
    if (dist::world().rank() == 0) print_result(r, o);  // one report per job
    if (r.interrupted) throw ExitStatus{130};
  });
}

}  // namespace sentemb::cli
