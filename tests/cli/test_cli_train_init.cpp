// `sentemb train --init MODEL`: fine-tuning a trained model.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace sentemb::test;

namespace {

const std::string kTiny = " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 16";

std::string train_args(const std::string& out) {
  return "train --pairs " + data_path("train/pairs.tsv") + " --batch 8 --threads 1 --out " + out;
}

}  // namespace

TEST_CASE("train --init: --max-steps 0 writes a model that encodes exactly as the given one",
          "[cli][train]") {
  TempDir tmp;
  const std::string base = tmp.file("base.semb"), copy = tmp.file("copy.semb");
  REQUIRE(run_cli(train_args(base) + " --tokenizer " + data_path("tokenizer/tiny.model") + kTiny +
                  " --max-steps 15")
              .exit_code == 0);
  const auto r = run_cli(train_args(copy) + " --init " + base + " --max-steps 0");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(copy) == read_file(base));
  const std::string text = data_path("cli/corpus.txt");
  REQUIRE(run_cli("encode --model " + base + " --input " + text + " --output " + tmp.file("a.tsv") +
                  " --format tsv")
              .exit_code == 0);
  REQUIRE(run_cli("encode --model " + copy + " --input " + text + " --output " + tmp.file("b.tsv") +
                  " --format tsv")
              .exit_code == 0);
  CHECK(read_file(tmp.file("a.tsv")) == read_file(tmp.file("b.tsv")));

  SECTION("fine-tuning keeps the model's size and tokenizer and changes its weights") {
    const std::string tuned = tmp.file("tuned.semb");
    const auto t = run_cli(train_args(tuned) + " --init " + base + " --max-steps 5 --seed 9");
    INFO(t.err);
    REQUIRE(t.exit_code == 0);
    const auto a = nlohmann::json::parse(run_cli("info --json --model " + base).out);
    const auto b = nlohmann::json::parse(run_cli("info --json --model " + tuned).out);
    CHECK(b.at("dim") == a.at("dim"));
    CHECK(b.at("max_len") == a.at("max_len"));
    CHECK(b.at("vocab_size") == a.at("vocab_size"));
    CHECK(read_file(tuned) != read_file(base));
  }
  SECTION("size and tokenizer flags with --init are errors naming the flag") {
    for (const std::string& flag :
         std::vector<std::string>{"--dim 64", "--layers 2", "--max-len 32", "--init-token-std 0.5",
                                  "--tokenizer " + data_path("tokenizer/tiny.model"),
                                  "--vocab-size 100", "--lowercase"}) {
      const auto e = run_cli(train_args(tmp.file("x.semb")) + " --init " + base + " " + flag +
                             " --max-steps 0");
      INFO(flag << ": " << e.err);
      CHECK(e.exit_code == 2);
      CHECK(e.err.find(flag.substr(0, flag.find(' '))) != std::string::npos);
      CHECK(e.err.find("--init") != std::string::npos);
    }
  }
  SECTION("a missing model is an error naming it") {
    const auto e = run_cli(train_args(tmp.file("x.semb")) + " --init " + tmp.file("none.semb"));
    CHECK(e.exit_code != 0);
    CHECK(e.err.find("none.semb") != std::string::npos);
  }
}
