// `sentemb train --text`: unsupervised SimCSE, each sentence its own positive under
// another dropout mask.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

using namespace sentemb::test;

namespace {

const std::string kTiny =
    "train --tokenizer " + data_path("tokenizer/tiny.model") +
    " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 16 --batch 8 --threads 1 --seed 5";

// Every sentence of the pair fixture, one per line, and as pairs of itself.
void write_sentences(const TempDir& tmp) {
  std::istringstream in(read_file(data_path("train/pairs.tsv")));
  std::string text, pairs;
  for (std::string line; std::getline(in, line);) {
    for (const std::string& s :
         {line.substr(0, line.find('\t')), line.substr(line.find('\t') + 1)}) {
      text += s + "\n";
      pairs += s + "\t" + s + "\n";
    }
  }
  write_file(tmp.file("s.txt"), text);
  write_file(tmp.file("s.pairs.tsv"), pairs);
}

double first_loss(const std::string& log_path) {
  std::istringstream in(read_file(log_path));
  std::string line;
  std::getline(in, line);
  return nlohmann::json::parse(line).at("loss").get<double>();
}

}  // namespace

TEST_CASE("train --text: a sentence's positive is itself, differing only by dropout",
          "[cli][train]") {
  TempDir tmp;
  write_sentences(tmp);
  std::map<std::string, double> loss;
  for (const std::string dropout : {"0", "0.1"}) {
    const std::string common = kTiny + " --max-steps 10 --log-every 1 --dropout " + dropout;
    const auto t = run_cli(common + " --text " + tmp.file("s.txt") + " --out " +
                           tmp.file("t.semb") + " --log " + tmp.file("t.log"));
    INFO(t.err);
    REQUIRE(t.exit_code == 0);
    REQUIRE(run_cli(common + " --pairs " + tmp.file("s.pairs.tsv") + " --out " + tmp.file("p.semb"))
                .exit_code == 0);
    // The same run as pairs of identical sentences: same batches, same masks.
    CHECK(read_file(tmp.file("t.semb")) == read_file(tmp.file("p.semb")));
    loss[dropout] = first_loss(tmp.file("t.log"));
  }
  // Without dropout the two views are identical embeddings: the positive scores highest
  // it can, so the loss is lower than with the views drawn under different masks.
  CHECK(loss["0"] < loss["0.1"]);
}

TEST_CASE("train --text: bad text files are errors naming the file", "[cli][train]") {
  TempDir tmp;
  write_file(tmp.file("empty.txt"), "");
  auto r = run_cli(kTiny + " --text " + tmp.file("empty.txt") + " --out " + tmp.file("m.semb"));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("empty.txt") != std::string::npos);

  write_file(tmp.file("gap.txt"), "one sentence\n\nanother sentence\n");
  r = run_cli(kTiny + " --text " + tmp.file("gap.txt") + " --out " + tmp.file("m.semb"));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("gap.txt:2") != std::string::npos);
  r = run_cli(kTiny + " --skip-bad-lines --max-steps 2 --text " + tmp.file("gap.txt") + " --out " +
              tmp.file("m.semb"));
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("skipped 1 empty line") != std::string::npos);

  write_file(tmp.file("good.txt"), "one sentence\nanother sentence\n");
  r = run_cli(kTiny + " --loss triplet --text " + tmp.file("good.txt") + " --out " +
              tmp.file("m.semb"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("plain text") != std::string::npos);
}

TEST_CASE("train --augment: a paused and resumed run ends bitwise where a straight one does",
          "[cli][train]") {
  TempDir tmp;
  write_sentences(tmp);
  const std::string common = kTiny + " --text " + tmp.file("s.txt") +
                             " --augment delete:0.2,crop:0.1 --max-steps 12 --checkpoint-dir ";
  REQUIRE(run_cli(common + tmp.file("a") + " --out " + tmp.file("straight.semb")).exit_code == 0);
  REQUIRE(
      run_cli(common + tmp.file("b") + " --out " + tmp.file("resumed.semb") + " --pause-after 5")
          .exit_code == 0);
  const auto r =
      run_cli(common + tmp.file("b") + " --out " + tmp.file("resumed.semb") + " --resume");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(tmp.file("straight.semb")) == read_file(tmp.file("resumed.semb")));
  // Augmentation changes the run: without it the model differs.
  REQUIRE(run_cli(kTiny + " --text " + tmp.file("s.txt") + " --max-steps 12 --out " +
                  tmp.file("plain.semb"))
              .exit_code == 0);
  CHECK(read_file(tmp.file("plain.semb")) != read_file(tmp.file("straight.semb")));
  const auto bad = run_cli(kTiny + " --text " + tmp.file("s.txt") + " --augment drop:0.1 --out " +
                           tmp.file("x.semb"));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--augment") != std::string::npos);
}
