// `sentemb encode --quantize`, `search` over a quantized index and `eval
// --quantize`, end to end with a tiny random model: numpy reads the npy files
// back with the dtypes and codes of sentence-transformers' formulas (skipped
// where /usr/bin/python3 has no numpy), ranges reused for queries, bvecs and
// tsv layouts, and the errors of bad options and mismatched files.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "cli/cli_model.h"
#include "test_util.h"

namespace st = sentemb::test;

namespace {

const char* kPython = "/usr/bin/python3";

using st::make_model;

bool python_has_numpy() {
  const std::string cmd = std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

void run_ok(const std::string& args) {
  auto r = st::run_cli(args);
  INFO(args << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("encode --quantize writes the codes sentence-transformers computes, read by numpy",
          "[cli][quantize]") {
  if (!python_has_numpy()) {
    WARN("SENTEMB_TEST_SKIPPED: /usr/bin/python3 with numpy is not available");
    return;
  }
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const std::string base = "encode --model " + model + " --input " + input + " --output ";
  run_ok(base + tmp.file("f.npy"));
  run_ok(base + tmp.file("i8.npy") + " --quantize int8 --save-ranges " + tmp.file("r.npy"));
  run_ok(base + tmp.file("u8.npy") + " --quantize uint8 --ranges " + tmp.file("r.npy"));
  run_ok(base + tmp.file("b.npy") + " --quantize binary");
  run_ok(base + tmp.file("ub.npy") + " --quantize ubinary");
  const std::string check = std::string(kPython) + " " + SENTEMB_TEST_DATA +
                            "/../cli/check_quantized.py " + tmp.file("f.npy") + " " +
                            tmp.file("r.npy") + " " + tmp.file("i8.npy") + " " +
                            tmp.file("u8.npy") + " " + tmp.file("b.npy") + " " +
                            tmp.file("ub.npy") + " >" + tmp.file("check.txt") + " 2>&1";
  const int status = std::system(check.c_str());
  INFO(st::read_file(tmp.file("check.txt")));
  CHECK(status == 0);
  CHECK(st::read_file(tmp.file("check.txt")) == "OK\n");
}

TEST_CASE("encode --quantize: calibration file, bvecs and tsv layouts", "[cli][quantize]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const std::string base = "encode --model " + model + " --input " + input;
  // Ranges from another file give other codes than ranges from the input.
  st::write_file(tmp.file("cal.txt"), "a\nthe quick brown fox\n");
  run_ok(base + " --output " + tmp.file("own.tsv") + " --quantize uint8");
  run_ok(base + " --output " + tmp.file("cal.tsv") + " --quantize uint8 --calibration " +
         tmp.file("cal.txt") + " --save-ranges " + tmp.file("cal.npy"));
  CHECK(st::read_file(tmp.file("own.tsv")) != st::read_file(tmp.file("cal.tsv")));
  // The saved ranges give the same codes again (queries quantized like the corpus).
  run_ok(base + " --output " + tmp.file("again.tsv") + " --quantize uint8 --ranges " +
         tmp.file("cal.npy"));
  CHECK(st::read_file(tmp.file("again.tsv")) == st::read_file(tmp.file("cal.tsv")));
  // tsv: 9 lines of 32 integers in 0..255.
  const std::string tsv = st::read_file(tmp.file("own.tsv"));
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = tsv.find('\n', at)) != std::string::npos; ++at) ++lines;
  CHECK(lines == 9);
  CHECK(tsv.find_first_not_of("0123456789\t\n") == std::string::npos);
  // bvecs of ubinary: 9 x (int32 4, then 4 bytes).
  run_ok(base + " --output " + tmp.file("c.bvecs") + " --quantize ubinary");
  const std::string bvecs = st::read_file(tmp.file("c.bvecs"));
  REQUIRE(bvecs.size() == 9 * 8);
  CHECK(bvecs.compare(0, 4, std::string("\x04\x00\x00\x00", 4)) == 0);
  CHECK(bvecs.compare(8, 4, std::string("\x04\x00\x00\x00", 4)) == 0);
}

TEST_CASE("encode --quantize refuses bad options and inputs", "[cli][quantize]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const std::string base = "encode --model " + model + " --input " + input + " --output ";
  auto fails = [&](const std::string& args, const std::string& message) {
    auto r = st::run_cli(args);
    INFO(args << "\n" << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find(message) != std::string::npos);
  };
  st::write_file(tmp.file("empty.txt"), "");
  fails(base + tmp.file("a.npy") + " --quantize int8 --calibration " + tmp.file("empty.txt"),
        "no sentences to calibrate");
  CHECK_FALSE(std::ifstream(tmp.file("a.npy")).good());  // no output left behind
  fails(base + tmp.file("a.npy") + " --quantize binary --calibration " + input,
        "--calibration is for --quantize int8 or uint8");
  fails(base + tmp.file("a.npy") + " --save-ranges " + tmp.file("r.npy"),
        "--save-ranges is for --quantize int8 or uint8");
  fails(base + tmp.file("a.fvecs") + " --quantize uint8", "use bvecs");
  fails(base + tmp.file("a.bvecs") + " --quantize int8", "use i8vecs");
  fails("encode --model " + model + " --output " + tmp.file("a.npy") + " --quantize int8",
        "reads the input twice");
  // Binary needs a width that is a multiple of 8.
  const std::string narrow = make_model(tmp, 12);
  fails("encode --model " + narrow + " --input " + input + " --output " + tmp.file("b.npy") +
            " --quantize binary",
        "width 12 is not a multiple of 8");
  // Ranges of another width.
  run_ok(base + tmp.file("i8.npy") + " --quantize int8 --save-ranges " + tmp.file("r32.npy"));
  fails("encode --model " + narrow + " --input " + input + " --output " + tmp.file("c.npy") +
            " --quantize int8 --ranges " + tmp.file("r32.npy"),
        "calibrated with another model");
}

TEST_CASE("search over quantized indexes, with rescoring", "[cli][quantize]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string corpus = st::data_path("cli/corpus.txt");
  const std::string encode = "encode --model " + model + " --input " + corpus + " --output ";
  run_ok(encode + tmp.file("f.npy"));
  run_ok(encode + tmp.file("b.npy") + " --quantize binary");
  run_ok(encode + tmp.file("i8.npy") + " --quantize int8 --save-ranges " + tmp.file("r.npy"));
  const std::string search = "search --model " + model + " --corpus " + corpus + " -k 3 --index ";
  const std::string query = " --query 'Why is the wooden door so far away?'";
  auto top_line = [](const std::string& out) {
    const std::size_t tab = out.find('\t');
    return out.substr(tab + 1, out.find('\n') - tab - 1);
  };
  auto ok = [&](const std::string& args) {
    auto r = st::run_cli(args);
    INFO(args << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  // A corpus line as the query finds itself: Hamming 0 (score 1), cosine ~1.
  const std::string binary = ok(search + tmp.file("b.npy") + query);
  CHECK(binary.rfind("1.0000\tWhy is the wooden door so far away?\n", 0) == 0);
  const std::string int8 =
      ok(search + tmp.file("i8.npy") + " --ranges " + tmp.file("r.npy") + query);
  CHECK(top_line(int8) == "Why is the wooden door so far away?");
  // Rescoring every line with the float vectors gives the float search.
  const std::string exact = ok(search + tmp.file("f.npy") + query);
  CHECK(ok(search + tmp.file("b.npy") + " --rescore 9 --rescore-index " + tmp.file("f.npy") +
           query) == exact);
  CHECK(top_line(ok(search + tmp.file("b.npy") + " --rescore 5" + query)) ==
        "Why is the wooden door so far away?");

  auto fails = [&](const std::string& args, const std::string& message) {
    auto r = st::run_cli(args);
    INFO(args << "\n" << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find(message) != std::string::npos);
  };
  fails(search + tmp.file("i8.npy") + query, "--ranges FILE");
  fails(search + tmp.file("f.npy") + " --rescore 3" + query, "quantized vectors");
  // An index of another model's width.
  const std::string other = make_model(tmp, 16);
  fails("search --model " + other + " --corpus " + corpus + " --index " + tmp.file("b.npy") + query,
        "another model");
}

TEST_CASE("eval --quantize scores STS and retrieval with quantized vectors", "[cli][quantize]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string base = "eval --json --model " + model;
  auto json = [&](const std::string& args) {
    auto r = st::run_cli(base + args);
    INFO(args << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const std::string sts = " --sts " + st::data_path("cli/sts.tsv");
  const std::string pairs = " --pairs " + st::data_path("cli/pairs.tsv");
  const std::string cal = " --calibration " + st::data_path("cli/corpus.txt");
  CHECK(json(sts + " --quantize binary").find("\"spearman\"") != std::string::npos);
  CHECK(json(sts + " --quantize int8" + cal).find("\"spearman\"") != std::string::npos);
  const std::string binary = json(pairs + " --quantize binary");
  CHECK(binary.find("\"index_bytes\"") != std::string::npos);
  CHECK(json(pairs + " --quantize ubinary --rescore 5 --rescore-with float").find("\"mrr\"") !=
        std::string::npos);
  auto r = st::run_cli(base + pairs + " --quantize int8");
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("--calibration FILE or --ranges FILE") != std::string::npos);
  r = st::run_cli(base + pairs + " --rescore 5");
  CHECK(r.exit_code != 0);
}
