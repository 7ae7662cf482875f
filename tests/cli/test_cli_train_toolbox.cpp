// `sentemb train --mini-batch` (gradient caching) and `--matryoshka-dims` end to end.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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
