// End-to-end runs of `sentemb index build` and `sentemb search --index` with a
// tiny random model: a flat index prints what brute-force search prints.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace st = sentemb::test;

namespace {

struct Fixture {
  st::TempDir tmp;
  std::string model = tmp.file("m.semb");
  std::string corpus = st::data_path("cli/corpus.txt");

  explicit Fixture(int seed = 42) {
    auto r = st::run_cli("init --tokenizer " + st::data_path("tokenizer/tiny.model") + " --seed " +
                         std::to_string(seed) + " --layers 1 --dim 32" +
                         " --heads 2 --ffn-dim 64 --max-len 16 --out " + model);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  st::RunResult build(const std::string& out, const std::string& flags = "") const {
    return st::run_cli("index build --model " + model + " --corpus " + corpus + " --out " + out +
                       " --threads 1 " + flags);
  }
};

const std::string kQueries = "the old man\nZürich\ntrain\n";

}  // namespace

TEST_CASE("search --index with a flat index prints what brute-force search prints",
          "[cli][index]") {
  Fixture f;
  const std::string brute =
      st::run_cli("search --model " + f.model + " --corpus " + f.corpus + " -k 4", kQueries).out;
  REQUIRE(!brute.empty());
  for (const std::string kind : {"flat", "hnsw"}) {
    INFO(kind);
    const std::string index = f.tmp.file(kind + ".index");
    auto b = f.build(index, "--kind " + kind);
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    CHECK_THAT(b.err, Catch::Contains("9 vectors of width 32"));
    const auto meta = nlohmann::json::parse(st::read_file(index + ".json"));
    CHECK(meta["kind"] == kind);
    CHECK(meta["corpus_lines"] == 9);
    CHECK(meta["dim"] == 32);
    auto s = st::run_cli(
        "search --model " + f.model + " --corpus " + f.corpus + " -k 4 --index " + index, kQueries);
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
    // 9 lines: HNSW's candidate list (at least 64) holds the whole graph, so it is exact.
    CHECK(s.out == brute);
  }
}

TEST_CASE("index build and search --index reject bad input with clear errors", "[cli][index]") {
  Fixture f;
  const std::string index = f.tmp.file("c.index");
  SECTION("unknown kind or quantizer") {
    auto r = f.build(index, "--kind annoy");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--kind annoy"));
    r = f.build(index, "--kind hnsw --quantize pq8");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--kind ivf"));
  }
  SECTION("an index of another model") {
    REQUIRE(f.build(index, "--kind flat").exit_code == 0);
    Fixture other(7);  // same sizes, other weights
    auto r = st::run_cli("search --model " + other.model + " --corpus " + f.corpus + " --index " +
                         index + " -q x");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(other.model) && Catch::Contains("sentemb index build"));
    CHECK(r.out.empty());
  }
  SECTION("an index of another corpus") {
    REQUIRE(f.build(index, "--kind flat").exit_code == 0);
    const std::string corpus = f.tmp.file("other.txt");
    st::write_file(corpus, "one\ntwo\n");
    auto r = st::run_cli("search --model " + f.model + " --corpus " + corpus + " --index " + index +
                         " -q x");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("9 vectors") && Catch::Contains("2 lines"));
  }
  SECTION("a missing index names the file and how to build it") {
    auto r = st::run_cli("search --model " + f.model + " --corpus " + f.corpus + " --index " +
                         f.tmp.file("none.index") + " -q x");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("none.index") && Catch::Contains("index build"));
  }
  SECTION("--ef-search needs a faiss index") {
    auto r =
        st::run_cli("search --model " + f.model + " --corpus " + f.corpus + " --ef-search 32 -q x");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--ef-search"));
  }
  SECTION("a corpus line that is not UTF-8") {
    const std::string bad = f.tmp.file("bad.txt");
    st::write_file(bad, "fine\nbad \xff\n");
    auto r = st::run_cli("index build --model " + f.model + " --corpus " + bad + " --out " + index);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains(bad + ":2"));
  }
}

TEST_CASE("index build --help lists every option with its default", "[cli][index][help]") {
  auto r = st::run_cli("index build --help");
  REQUIRE(r.exit_code == 0);
  for (const char* name :
       {"--model", "--corpus", "--out", "--kind", "=hnsw", "--quantize", "=none", "--hnsw-m", "=32",
        "--ef-construction", "=200", "--ivf-lists", "--threads"})
    CHECK_THAT(r.out, Catch::Contains(name));
  r = st::run_cli("search --help");
  CHECK_THAT(r.out, Catch::Contains("--ef-search") && Catch::Contains("--nprobe"));
}
