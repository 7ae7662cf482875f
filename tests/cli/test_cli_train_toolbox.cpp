// `sentemb train --mini-batch` (gradient caching) and `--matryoshka-dims` end to end.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

using namespace sentemb::test;

namespace {

const std::string kTiny =
    "train --tokenizer " + data_path("tokenizer/tiny.model") +
    " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 16 --threads 1 --seed 4 --pairs " +
    data_path("train/pairs.tsv");

}  // namespace

TEST_CASE("train --mini-batch: a paused and resumed run ends bitwise where a straight one does",
          "[cli][train]") {
  TempDir tmp;
  const std::string common = kTiny + " --batch 16 --mini-batch 4 --max-steps 10 --checkpoint-dir ";
  REQUIRE(run_cli(common + tmp.file("a") + " --out " + tmp.file("straight.semb")).exit_code == 0);
  REQUIRE(
      run_cli(common + tmp.file("b") + " --out " + tmp.file("resumed.semb") + " --pause-after 4")
          .exit_code == 0);
  const auto r =
      run_cli(common + tmp.file("b") + " --out " + tmp.file("resumed.semb") + " --resume");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(tmp.file("straight.semb")) == read_file(tmp.file("resumed.semb")));
}

TEST_CASE("train: bad --mini-batch and --matryoshka-dims are errors naming the option",
          "[cli][train]") {
  TempDir tmp;
  const std::string out = " --max-steps 2 --out " + tmp.file("m.semb");
  for (const std::string bad : {" --batch 8 --mini-batch 9", " --batch 8 --mini-batch -1"}) {
    const auto r = run_cli(kTiny + bad + out);
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--mini-batch") != std::string::npos);
  }
  for (const std::string bad : {" --matryoshka-dims 8,16", " --matryoshka-dims 64,16",
                                " --matryoshka-dims 16,16", " --matryoshka-dims 16,0"}) {
    const auto r = run_cli(kTiny + bad + out);
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--matryoshka-dims") != std::string::npos);
  }
}

TEST_CASE("train --matryoshka-dims: the model records the widths and the log each width's loss",
          "[cli][train]") {
  TempDir tmp;
  const auto r = run_cli(kTiny + " --matryoshka-dims 32,16,8 --max-steps 3 --log " +
                         tmp.file("log") + " --log-every 1 --out " + tmp.file("m.semb"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto info = nlohmann::json::parse(run_cli("info --json --model " + tmp.file("m.semb")).out);
  CHECK(info.at("matryoshka_dims") == nlohmann::json::array({32, 16, 8}));
  const auto first = nlohmann::json::parse(
      read_file(tmp.file("log")).substr(0, read_file(tmp.file("log")).find('\n')));
  const auto& terms = first.at("terms");
  CHECK(terms.size() == 3);
  double sum = 0;
  for (const char* k : {"matryoshka@32", "matryoshka@16", "matryoshka@8"})
    sum += terms.at(k).get<double>();
  CHECK(first.at("loss").get<double>() == Approx(sum).epsilon(1e-5));
}

TEST_CASE("encode --dim K writes the full vectors' first K values renormalised",
          "[cli][matryoshka]") {
  TempDir tmp;
  REQUIRE(run_cli(kTiny + " --matryoshka-dims 32,16 --max-steps 3 --out " + tmp.file("m.semb"))
              .exit_code == 0);
  const std::string input = " --input " + data_path("cli/corpus.txt") + " --format tsv --output ";
  REQUIRE(
      run_cli("encode --model " + tmp.file("m.semb") + input + tmp.file("full.tsv")).exit_code ==
      0);
  const auto r =
      run_cli("encode --model " + tmp.file("m.semb") + " --dim 16" + input + tmp.file("cut.tsv"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("warning") == std::string::npos);  // 16 is a trained width
  std::istringstream full(read_file(tmp.file("full.tsv"))), cut(read_file(tmp.file("cut.tsv")));
  int rows = 0;
  for (std::string a, b; std::getline(full, a) && std::getline(cut, b); ++rows) {
    std::istringstream fa(a), fb(b);
    std::vector<double> va, vb;
    for (double v; fa >> v;) va.push_back(v);
    for (double v; fb >> v;) vb.push_back(v);
    REQUIRE(va.size() == 32);
    REQUIRE(vb.size() == 16);
    double norm = 0;
    for (int c = 0; c < 16; ++c) norm += va[c] * va[c];
    for (int c = 0; c < 16; ++c) CHECK(vb[c] == Approx(va[c] / std::sqrt(norm)).margin(1e-5));
  }
  CHECK(rows > 0);
  const auto untrained = run_cli("score --model " + tmp.file("m.semb") + " --dim 8 \"a\" \"b\"");
  CHECK(untrained.exit_code == 0);
  CHECK(untrained.err.find("warning: --dim 8") != std::string::npos);
  const auto too_wide = run_cli("score --model " + tmp.file("m.semb") + " --dim 64 \"a\" \"b\"");
  CHECK(too_wide.exit_code == 2);
  CHECK(too_wide.err.find("--dim 64") != std::string::npos);
}
