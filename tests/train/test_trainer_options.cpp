// run_training's option checks: --resume refuses every option that would change the
// run (naming it), options that would do nothing are errors, the losses' margins are
// separate, and a run's thread count is its own.
#include <omp.h>

#include <catch2/catch.hpp>
#include <functional>

#include "sentemb/errors.h"
#include "sentemb/train/trainer.h"
#include "test_util.h"
#include "train/run_options.h"

using sentemb::TrainOptions;
using sentemb::UsageError;
using namespace sentemb::test;

namespace {

// A tiny model on the training fixtures: well under a second for a few steps.
TrainOptions tiny_run(const TempDir& tmp) {
  TrainOptions o;
  o.sources = {{data_path("train/pairs.tsv"), sentemb::CorpusFormat::kPairs, 0}};
  o.tokenizer = data_path("tokenizer/tiny.model");
  o.model.layers = 1;
  o.model.dim = 32;
  o.model.heads = 2;
  o.model.ffn_dim = 64;
  o.model.max_len = 16;
  o.batch = 8;
  o.threads = 1;
  o.out = tmp.file("m.semb");
  o.checkpoint_dir = tmp.file("ckpt");
  o.max_steps = 6;
  return o;
}

// The UsageError message of run_training(o), or "" if it did not throw one.
std::string usage_error(const TrainOptions& o) {
  try {
    sentemb::run_training(o);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("resume: --resume refuses a changed run-changing option, naming it", "[train][resume]") {
  TempDir tmp;
  TrainOptions first = tiny_run(tmp);
  first.pause_after = 2;
  REQUIRE(sentemb::run_training(first).stop_reason == "paused");

  // One option of each class: schedule, optimiser, loss, model size, tokenizer, data.
  const std::vector<std::pair<std::string, std::function<void(TrainOptions&)>>> changes{
      {"--warmup", [](TrainOptions& o) { o.warmup = 0.3f; }},
      {"--decay", [](TrainOptions& o) { o.decay = "cosine"; }},
      {"--weight-decay", [](TrainOptions& o) { o.weight_decay = 0.1f; }},
      {"--clip", [](TrainOptions& o) { o.clip = 2.0f; }},
      {"--temperature", [](TrainOptions& o) { o.temperature = 0.1f; }},
      {"--dim", [](TrainOptions& o) { o.model.dim = 64; }},
      {"--max-len", [](TrainOptions& o) { o.model.max_len = 32; }},
      {"--init-token-std", [](TrainOptions& o) { o.token_embedding_std = 0.5f; }},
      {"--tokenizer",
       [](TrainOptions& o) { o.tokenizer = data_path("tokenizer/default_ids.model"); }},
      {"--pairs/--triplets/--labeled/--text/--weights",
       [](TrainOptions& o) { o.sources[0].path = data_path("train/heldout.pairs.tsv"); }},
      {"--skip-bad-lines", [](TrainOptions& o) { o.on_bad_line = sentemb::OnBadLine::kSkip; }},
  };
  for (const auto& [option, change] : changes) {
    TrainOptions resumed = tiny_run(tmp);
    resumed.resume = true;
    change(resumed);
    const std::string message = usage_error(resumed);
    INFO(option << ": " << message);
    CHECK(message.find("--resume: " + option + " differs") != std::string::npos);
  }

  SECTION("options that may change on resume do not stop it") {
    TrainOptions resumed = tiny_run(tmp);
    resumed.resume = true;
    resumed.max_minutes = 30;
    resumed.eval_every = 3;
    resumed.log_every = 2;
    resumed.threads = 2;
    const auto result = sentemb::run_training(resumed);
    CHECK(result.steps == 6);
  }
}

TEST_CASE("options that would do nothing are errors naming them", "[train]") {
  TempDir tmp;
  auto error_of = [&](const std::function<void(TrainOptions&)>& change) {
    TrainOptions o = tiny_run(tmp);
    change(o);
    return usage_error(o);
  };
  CHECK_THAT(error_of([](TrainOptions& o) { o.vocab_size = 500; }),
             Catch::Contains("--vocab-size") && Catch::Contains("--tokenizer"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.lowercase = true; }), Catch::Contains("--lowercase"));
  CHECK_THAT(error_of([](TrainOptions& o) {
               o.loss = "batch_hard_triplet";
               o.temperature = 0.1f;
             }),
             Catch::Contains("--temperature"));
  CHECK_THAT(error_of([](TrainOptions& o) {
               o.loss = "batch_hard_triplet";
               o.symmetric = true;
             }),
             Catch::Contains("--symmetric"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.margin = 0.3f; }), Catch::Contains("--margin"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.distance = "euclidean"; }),
             Catch::Contains("--distance"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.batch_hard = true; }),
             Catch::Contains("--batch-hard"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.contrastive_margin = 0.3f; }),
             Catch::Contains("--contrastive-margin"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.threads = -1; }), Catch::Contains("--threads"));
  CHECK_THAT(error_of([](TrainOptions& o) { o.batch = sentemb::kMaxTrainBatch + 1; }),
             Catch::Contains("--batch"));
  // Used options are fine: a loss sum with a triplet term takes the triplet's options.
  CHECK(error_of([](TrainOptions& o) {
          o.loss = "infonce:1,batch_hard_triplet:0.5";
          o.temperature = 0.1f;
          o.margin = 0.3f;
          o.distance = "euclidean";
        }) == "");
  // A labeled file makes the contrastive margin meaningful.
  CHECK(error_of([](TrainOptions& o) {
          o.sources.push_back({data_path("train/labeled.tsv"), sentemb::CorpusFormat::kLabeled, 0});
          o.contrastive_margin = 0.3f;
        }) == "");
}

TEST_CASE("the triplet and contrastive margins are separate", "[train]") {
  TrainOptions o;
  o.loss = "triplet";
  o.distance = "euclidean";
  o.margin = 5;
  auto lo = sentemb::train::loss_options(o);
  CHECK(lo.triplet.margin == 5.0f);
  CHECK(lo.contrastive.margin == 0.5f);  // its own default, in cosine distance
  o.contrastive_margin = 0.25f;
  lo = sentemb::train::loss_options(o);
  CHECK(lo.triplet.margin == 5.0f);
  CHECK(lo.contrastive.margin == 0.25f);
}

TEST_CASE("a training run's thread count holds for that call only", "[train]") {
  TempDir tmp;
  omp_set_num_threads(3);
  TrainOptions o = tiny_run(tmp);
  o.threads = 1;
  int observed = 0;
  sentemb::run_training(o,
                        [&](const sentemb::TrainProgress&) { observed = omp_get_max_threads(); });
  CHECK(observed == 1);               // inside the run: its own count
  CHECK(omp_get_max_threads() == 3);  // after it: the caller's again
}

TEST_CASE("train_sources lists pairs, triplets, labeled, text files in order, with weights",
          "[train]") {
  using sentemb::CorpusFormat;
  const auto s = sentemb::train_sources({"p1", "p2"}, {"t"}, {"l"}, {"x"}, {});
  REQUIRE(s.size() == 5);
  CHECK((s[0].path == "p1" && s[0].format == CorpusFormat::kPairs && s[0].weight == 0));
  CHECK((s[1].path == "p2" && s[1].format == CorpusFormat::kPairs));
  CHECK((s[2].path == "t" && s[2].format == CorpusFormat::kTriplets));
  CHECK((s[3].path == "l" && s[3].format == CorpusFormat::kLabeled));
  CHECK((s[4].path == "x" && s[4].format == CorpusFormat::kText));
  const auto w = sentemb::train_sources({"p"}, {"t"}, {}, {}, {2, 3});
  CHECK((w[0].weight == 2 && w[1].weight == 3));
  CHECK_THROWS_WITH(sentemb::train_sources({"p"}, {"t"}, {}, {}, {1}),
                    Catch::Contains("--weights has 1 values for 2 files"));
}
