// End-to-end runs of `sentemb tokenizer train|encode|decode`.
#include <catch2/catch.hpp>
#include <filesystem>

#include "test_util.h"

namespace st = sentemb::test;

namespace {

std::string tiny_model() {
  return st::data_path("tokenizer/tiny.model");
}

}  // namespace

TEST_CASE("tokenizer train writes a model that tokenizer encode uses", "[cli][tokenizer]") {
  st::TempDir tmp;
  const std::string prefix = tmp.file("tok");
  auto train = st::run_cli("tokenizer train --input " + st::data_path("tokenizer/tiny_corpus.txt") +
                           " --vocab-size 256 --character-coverage 1 --out " + prefix);
  INFO(train.err);
  REQUIRE(train.exit_code == 0);
  CHECK_THAT(train.err, Catch::Contains("400 sentences") && Catch::Contains("vocab 256"));
  REQUIRE(std::filesystem::exists(prefix + ".model"));
  const std::string vocab = st::read_file(prefix + ".vocab");
  CHECK(std::count(vocab.begin(), vocab.end(), '\n') == 256);
  CHECK(vocab.rfind("<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\n", 0) == 0);

  auto enc = st::run_cli("tokenizer encode --model " + prefix + ".model",
                         "The old man walked to the river.\n\nthe river\n");
  INFO(enc.err);
  REQUIRE(enc.exit_code == 0);
  std::istringstream lines(enc.out);
  std::vector<std::string> out;
  for (std::string line; std::getline(lines, line);) out.push_back(line);
  REQUIRE(out.size() == 3);
  CHECK(out[0].rfind("2 ", 0) == 0);  // BOS first
  CHECK(out[1] == "2");               // empty line: BOS alone
  CHECK(out[2].rfind("2 ", 0) == 0);

  // Round trip through decode.
  auto dec = st::run_cli("tokenizer decode --model " + prefix + ".model", enc.out);
  REQUIRE(dec.exit_code == 0);
  CHECK(dec.out == "The old man walked to the river.\n\nthe river\n");

  // Training is deterministic: the same command gives the same bytes.
  auto again = st::run_cli("tokenizer train --input " + st::data_path("tokenizer/tiny_corpus.txt") +
                           " --vocab-size 256 --character-coverage 1 --out " + tmp.file("tok2"));
  REQUIRE(again.exit_code == 0);
  CHECK(st::read_file(tmp.file("tok2.model")) == st::read_file(prefix + ".model"));
}

TEST_CASE("tokenizer train reads every text column of a pairs file", "[cli][tokenizer]") {
  st::TempDir tmp;
  std::istringstream in(st::read_file(st::data_path("tokenizer/tiny_corpus.txt")));
  std::string pairs, a, b;
  int n = 0;
  while (std::getline(in, a) && std::getline(in, b)) {
    pairs += a + "\t" + b + "\n";
    ++n;
  }
  st::write_file(tmp.file("train.pairs.tsv"), pairs);
  auto res = st::run_cli("tokenizer train --input " + tmp.file("train.pairs.tsv") +
                         " --vocab-size 200 --model-type bpe --out " + tmp.file("bpe"));
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK_THAT(res.err,
             Catch::Contains(std::to_string(2 * n) + " sentences") && Catch::Contains("bpe"));
  // --format text reads each line as one sentence.
  res = st::run_cli("tokenizer train --input " + tmp.file("train.pairs.tsv") +
                    " --format text --vocab-size 200 --out " + tmp.file("uni"));
  REQUIRE(res.exit_code == 0);
  CHECK_THAT(res.err, Catch::Contains(std::to_string(n) + " sentences"));
}

TEST_CASE("tokenizer encode prints ids, pieces and truncates", "[cli][tokenizer]") {
  // Expected values from spm_encode with the committed tiny.model.
  const std::string text = "The caf\xc3\xa9 was na\xc3\xafve.\n";
  auto ids = st::run_cli("tokenizer encode --model " + tiny_model(), text);
  REQUIRE(ids.exit_code == 0);
  CHECK(ids.out == "2 17 14 40 29 109 89 16 143 8\n");

  auto pieces = st::run_cli("tokenizer encode --pieces --model " + tiny_model(), text);
  REQUIRE(pieces.exit_code == 0);
  CHECK(pieces.out ==
        "\xe2\x96\x81T he \xe2\x96\x81"
        "ca f \xc3\xa9 \xe2\x96\x81wa s \xe2\x96\x81na\xc3\xafve .\n");

  auto cut = st::run_cli("tokenizer encode --max-len 3 --model " + tiny_model(), text + text);
  REQUIRE(cut.exit_code == 0);
  CHECK(cut.out == "2 17 14\n2 17 14\n");

  // CRLF input gives the same ids.
  auto crlf = st::run_cli("tokenizer encode --model " + tiny_model(),
                          "The caf\xc3\xa9 was na\xc3\xafve.\r\n");
  CHECK(crlf.out == ids.out);
}

TEST_CASE("tokenizer encode rejects invalid UTF-8 with the line number", "[cli][tokenizer]") {
  auto res = st::run_cli("tokenizer encode --model " + tiny_model(),
                         "fine line\nalso fine\nbad \xff byte\nnever reached\n");
  CHECK(res.exit_code != 0);
  CHECK_THAT(res.err, Catch::Contains("<stdin>:3") && Catch::Contains("UTF-8"));
  // A truncated multi-byte sequence on line 1.
  res = st::run_cli("tokenizer encode --pieces --model " + tiny_model(), "caf\xc3\n");
  CHECK(res.exit_code != 0);
  CHECK_THAT(res.err, Catch::Contains("<stdin>:1"));
}

TEST_CASE("tokenizer decode turns ids into text and rejects bad ids", "[cli][tokenizer]") {
  auto res = st::run_cli("tokenizer decode --model " + tiny_model(),
                         "2 17 14 40 29 109 89 16 143 8\n\n2 17 14 3 0 0\n");
  REQUIRE(res.exit_code == 0);
  CHECK(res.out == "The caf\xc3\xa9 was na\xc3\xafve.\n\nThe\n");
  res = st::run_cli("tokenizer decode --model " + tiny_model(), "2 17\n2 x7 3\n");
  CHECK(res.exit_code != 0);
  CHECK_THAT(res.err, Catch::Contains("<stdin>:2") && Catch::Contains("x7"));
  res = st::run_cli("tokenizer decode --model " + tiny_model(), "2 256\n");
  CHECK(res.exit_code != 0);
  CHECK_THAT(res.err, Catch::Contains("<stdin>:1") && Catch::Contains("256"));
}

TEST_CASE("tokenizer errors: missing model, bad model, bad options", "[cli][tokenizer]") {
  st::TempDir tmp;
  auto res = st::run_cli("tokenizer encode --model " + tmp.file("none.model"), "x\n");
  CHECK(res.exit_code == 1);
  CHECK_THAT(res.err, Catch::Contains("none.model"));
  res =
      st::run_cli("tokenizer encode --model " + st::data_path("tokenizer/tiny_corpus.txt"), "x\n");
  CHECK(res.exit_code == 1);
  CHECK_THAT(res.err, Catch::Contains("SentencePiece"));
  res = st::run_cli("tokenizer train --input " + st::data_path("tokenizer/tiny_corpus.txt") +
                    " --vocab-size 256 --model-type wordpiece --out " + tmp.file("x"));
  CHECK(res.exit_code != 0);
  CHECK_FALSE(std::filesystem::exists(tmp.file("x.model")));
  res = st::run_cli("tokenizer train --input " + tmp.file("missing.txt") +
                    " --vocab-size 256 --out " + tmp.file("x"));
  CHECK(res.exit_code == 1);
  CHECK_THAT(res.err, Catch::Contains("missing.txt"));
  // Fewer pieces than the corpus has characters.
  res = st::run_cli("tokenizer train --input " + st::data_path("tokenizer/tiny_corpus.txt") +
                    " --vocab-size 20 --out " + tmp.file("x"));
  CHECK(res.exit_code == 2);
  CHECK_THAT(res.err, Catch::Contains("character"));
}

TEST_CASE("tokenizer --help lists every option with defaults", "[cli][tokenizer]") {
  auto res = st::run_cli("tokenizer train --help");
  REQUIRE(res.exit_code == 0);
  for (const char* option :
       {"--input", "--format", "--vocab-size", "--model-type", "--character-coverage",
        "--max-sentences", "--threads", "--hard-vocab-limit", "--out"}) {
    CHECK_THAT(res.out, Catch::Contains(option));
  }
  CHECK_THAT(res.out,
             Catch::Contains("unigram") && Catch::Contains("0.9995") && Catch::Contains("auto"));
  res = st::run_cli("tokenizer encode --help");
  REQUIRE(res.exit_code == 0);
  for (const char* option : {"--model", "--pieces", "--max-len"}) {
    CHECK_THAT(res.out, Catch::Contains(option));
  }
  res = st::run_cli("tokenizer --help");
  REQUIRE(res.exit_code == 0);
  CHECK_THAT(res.out,
             Catch::Contains("train") && Catch::Contains("encode") && Catch::Contains("decode"));
}
