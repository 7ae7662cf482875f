// End-to-end runs of `sentemb score`, `eval` and `search` with a tiny random
// model. Scores are cross-checked against vectors from `sentemb encode`.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace st = sentemb::test;

namespace {

using Rows = std::vector<std::vector<float>>;

// Single-quotes an argument for the shell run_cli goes through.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A random 1-layer, max_len-16 model in tmp.
std::string make_model(const st::TempDir& tmp, int dim = 32) {
  const std::string path = tmp.file("m" + std::to_string(dim) + ".semb");
  auto r = st::run_cli("init --tokenizer " + st::data_path("tokenizer/tiny.model") +
                       " --layers 1 --dim " + std::to_string(dim) +
                       " --heads 2 --ffn-dim 64 --max-len 16 --out " + path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return path;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, sep);) fields.push_back(f);
  if (!line.empty() && line.back() == sep) fields.push_back("");
  return fields;
}

Rows parse_tsv(const std::string& text) {
  Rows rows;
  for (const auto& line : split_lines(text)) {
    std::vector<float> row;
    for (const auto& f : split(line, '\t')) row.push_back(std::strtof(f.c_str(), nullptr));
    rows.push_back(row);
  }
  return rows;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

// The vectors of `sentences` from `sentemb encode` (tsv on stdout).
Rows encode(const std::string& model, const std::vector<std::string>& sentences) {
  std::string text;
  for (const auto& s : sentences) text += s + "\n";
  auto r = st::run_cli("encode --model " + model, text);
  REQUIRE(r.exit_code == 0);
  Rows rows = parse_tsv(r.out);
  REQUIRE(rows.size() == sentences.size());
  return rows;
}

struct SearchHit {
  double score;
  std::string line;
};
std::vector<SearchHit> parse_hits(const std::vector<std::string>& lines) {
  std::vector<SearchHit> hits;
  for (const auto& line : lines) {
    const auto tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    hits.push_back({std::stod(line.substr(0, tab)), line.substr(tab + 1)});
  }
  return hits;
}

}  // namespace

// ---------------------------------------------------------------- score

TEST_CASE("score prints the cosine of two sentences", "[cli][score]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string a = "The little dog painted the green hills at night.";
  const std::string b = "Why is the wooden door so far away?";
  auto same = st::run_cli("score --model " + model + " " + q(a) + " " + q(a));
  INFO(same.err);
  REQUIRE(same.exit_code == 0);
  CHECK(same.out == "1.0000\n");

  auto diff = st::run_cli("score --model " + model + " " + q(a) + " " + q(b));
  REQUIRE(diff.exit_code == 0);
  const double score = std::stod(diff.out);
  CHECK(score >= -1.0);
  CHECK(score < 0.9999);
  const Rows v = encode(model, {a, b});
  CHECK(score == Approx(cosine(v[0], v[1])).margin(1e-4));
}

TEST_CASE("score --pairs prints one score per pair, in order", "[cli][score]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string path = st::data_path("cli/pairs.tsv");
  auto r = st::run_cli("score --model " + model + " --pairs " + path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto scores = split_lines(r.out);
  const auto pairs = split_lines(st::read_file(path));
  REQUIRE(scores.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto cols = split(pairs[i], '\t');  // two or three columns; the third is ignored
    REQUIRE(cols.size() >= 2);
    auto one = st::run_cli("score --model " + model + " " + q(cols[0]) + " " + q(cols[1]));
    REQUIRE(one.exit_code == 0);
    INFO("pair " << i + 1);
    CHECK(std::stod(scores[i]) == Approx(std::stod(one.out)).margin(2e-4));
  }
  // The same from stdin.
  auto piped = st::run_cli("score --model " + model + " --pairs -", st::read_file(path));
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.out == r.out);
}

TEST_CASE("score errors", "[cli][score]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  CHECK(st::run_cli("score --model " + model + " 'only one'").exit_code == 2);
  CHECK(st::run_cli("score --model " + model + " a b --pairs " + st::data_path("cli/pairs.tsv"))
            .exit_code == 2);
  auto bad = st::run_cli("score --model " + model + " --pairs -", "a\tb\nonly one column\n");
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("<stdin>:2:"));
}

// ---------------------------------------------------------------- eval

TEST_CASE("eval --sts --json reports correlations and n", "[cli][eval]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  auto r =
      st::run_cli("eval --model " + model + " --sts " + st::data_path("cli/sts.tsv") + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.size() == 3);
  REQUIRE(j.at("spearman").is_number());
  REQUIRE(j.at("pearson").is_number());
  CHECK(j.at("n").get<int>() == 6);
  for (const char* key : {"spearman", "pearson"}) {
    const double v = j.at(key).get<double>();
    CHECK(v >= -1.0);
    CHECK(v <= 1.0);
  }
  // The plain output shows the same numbers.
  auto plain = st::run_cli("eval --model " + model + " --sts " + st::data_path("cli/sts.tsv"));
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.out, Catch::Contains("spearman") && Catch::Contains("pearson") &&
                            Catch::Contains("6 pairs"));
  CHECK_THAT(plain.out, Catch::Contains(fmt::format("{:.4f}", j.at("spearman").get<double>())));
}

TEST_CASE("eval --sts: identical sentences score 1.0 and rank on top", "[cli][eval]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  // 4 identical pairs (gold 5) and 4 different pairs (gold 0). Every model
  // gives the identical pairs cosine 1 and the others less, so with average
  // ranks for ties Spearman is exactly sqrt(32/37) (see tests/data/cli/README.md).
  auto r = st::run_cli("eval --json --model " + model + " --sts " +
                       st::data_path("cli/sts_identical.tsv"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("n").get<int>() == 8);
  CHECK(j.at("spearman").get<double>() == Approx(std::sqrt(32.0 / 37.0)).margin(1e-6));
  CHECK(j.at("pearson").get<double>() > 0.0);
}

TEST_CASE("eval --pairs reports recall@1, recall@10 and MRR", "[cli][eval]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  SECTION("identical sides: perfect retrieval") {
    auto r = st::run_cli("eval --json --model " + model + " --pairs " +
                         st::data_path("cli/pairs_identical.tsv"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j.at("n").get<int>() == 5);
    CHECK(j.at("candidates").get<int>() == 5);
    CHECK(j.at("recall@1").get<double>() == 1.0);
    CHECK(j.at("recall@10").get<double>() == 1.0);
    CHECK(j.at("mrr").get<double>() == 1.0);
  }
  SECTION("real pairs: metrics are consistent") {
    auto r =
        st::run_cli("eval --json --model " + model + " --pairs " + st::data_path("cli/pairs.tsv"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    const double r1 = j.at("recall@1").get<double>(), r10 = j.at("recall@10").get<double>(),
                 mrr = j.at("mrr").get<double>();
    CHECK(j.at("n").get<int>() == 5);
    CHECK(r1 >= 0.0);
    CHECK(r10 == 1.0);  // 5 candidates: the answer is always in the top 10
    CHECK(mrr >= r1);   // a hit at rank 1 contributes 1 to both
    CHECK(mrr >= 0.2);  // the worst rank is 5
    CHECK(mrr <= 1.0);
    auto plain =
        st::run_cli("eval --model " + model + " --pairs " + st::data_path("cli/pairs.tsv"));
    CHECK_THAT(plain.out, Catch::Contains("recall@1") && Catch::Contains("recall@10") &&
                              Catch::Contains("mrr") && Catch::Contains("5 queries"));
  }
  SECTION("duplicate answers are one candidate") {
    const std::string path = tmp.file("dup.pairs.tsv");
    st::write_file(path, "a dog\tthe dog\nthe old dog\tthe dog\nthe harbour\tthe river\n");
    auto r = st::run_cli("eval --json --model " + model + " --pairs " + path);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j.at("n").get<int>() == 3);
    CHECK(j.at("candidates").get<int>() == 2);
  }
}

TEST_CASE("eval errors", "[cli][eval]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  CHECK(st::run_cli("eval --model " + model).exit_code == 2);
  CHECK(st::run_cli("eval --model " + model + " --sts " + st::data_path("cli/sts.tsv") +
                    " --pairs " + st::data_path("cli/pairs.tsv"))
            .exit_code != 0);
  const std::string bad = tmp.file("bad.sts.tsv");
  st::write_file(bad, "4.0\ta\tb\nhigh\ta\tb\n");
  auto r = st::run_cli("eval --model " + model + " --sts " + bad);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(bad + ":2:"));
  const std::string empty = tmp.file("empty.sts.tsv");
  st::write_file(empty, "");
  CHECK(st::run_cli("eval --model " + model + " --sts " + empty).exit_code == 1);
}

// ---------------------------------------------------------------- search

TEST_CASE("search prints the k best corpus lines, best first", "[cli][search]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string corpus = st::data_path("cli/corpus.txt");
  const auto lines = split_lines(st::read_file(corpus));
  const std::string query = "The old man watched the empty field.";  // line 7 of the corpus

  auto r =
      st::run_cli("search --model " + model + " --corpus " + corpus + " -k 3 --query " + q(query));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto hits = parse_hits(split_lines(r.out));
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].line == query);
  CHECK(hits[0].score == Approx(1.0).margin(1e-4));
  CHECK(hits[0].score >= hits[1].score);
  CHECK(hits[1].score >= hits[2].score);
  // The scores are the cosines of the encoded lines, and nothing better was left out.
  const Rows v = encode(model, lines);
  const Rows qv = encode(model, {query});
  std::vector<double> all;
  for (const auto& row : v) all.push_back(cosine(qv[0], row));
  std::sort(all.rbegin(), all.rend());
  for (int i = 0; i < 3; ++i) CHECK(hits[i].score == Approx(all[i]).margin(2e-4));
  for (const auto& hit : hits)
    CHECK(std::find(lines.begin(), lines.end(), hit.line) != lines.end());

  // k larger than the corpus prints every line (the empty one too).
  auto all_lines = st::run_cli("search --model " + model + " --corpus " + corpus + " -k 100 -q x");
  REQUIRE(all_lines.exit_code == 0);
  CHECK(split_lines(all_lines.out).size() == lines.size());
}

TEST_CASE("search with --index gives the same results as encoding the corpus", "[cli][search]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string corpus = st::data_path("cli/corpus.txt");
  for (const char* ext : {"npy", "fvecs"}) {
    const std::string index = tmp.file(std::string("index.") + ext);
    REQUIRE(st::run_cli("encode --model " + model + " --input " + corpus + " --output " + index)
                .exit_code == 0);
    const std::string queries = "the old man\nZürich\ntrain\n";
    auto without =
        st::run_cli("search --model " + model + " --corpus " + corpus + " -k 4", queries);
    auto with = st::run_cli(
        "search --model " + model + " --corpus " + corpus + " -k 4 --index " + index, queries);
    INFO(ext << ": " << with.err);
    REQUIRE(without.exit_code == 0);
    REQUIRE(with.exit_code == 0);
    CHECK(with.out == without.out);
    // Three queries on stdin: three blocks of 4 lines separated by empty lines.
    const auto out = split_lines(with.out);
    REQUIRE(out.size() == 3 * 4 + 2);
    CHECK(out[4].empty());
    CHECK(out[9].empty());
    CHECK(parse_hits({out.begin(), out.begin() + 4}).size() == 4);
    CHECK(parse_hits({out.begin() + 10, out.end()}).size() == 4);
  }
}

TEST_CASE("search rejects an index that does not match", "[cli][search]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string corpus = st::data_path("cli/corpus.txt");
  SECTION("row count differs from the corpus line count") {
    const std::string index = tmp.file("short.npy");
    REQUIRE(st::run_cli("encode --model " + model + " --output " + index, "one\ntwo\nthree\n")
                .exit_code == 0);
    auto r = st::run_cli("search --model " + model + " --corpus " + corpus + " --index " + index +
                         " -q x");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(index) && Catch::Contains("3 vectors") &&
                          Catch::Contains("9 lines"));
    CHECK(r.out.empty());
  }
  SECTION("width differs from the model's") {
    const std::string other = make_model(tmp, 16);
    const std::string index = tmp.file("narrow.npy");
    REQUIRE(st::run_cli("encode --model " + other + " --input " + corpus + " --output " + index)
                .exit_code == 0);
    auto r = st::run_cli("search --model " + model + " --corpus " + corpus + " --index " + index +
                         " -q x");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("width 16") && Catch::Contains("width 32"));
  }
  SECTION("not a vector file") {
    const std::string index = tmp.file("bad.npy");
    st::write_file(index, "not numpy");
    auto r = st::run_cli("search --model " + model + " --corpus " + corpus + " --index " + index +
                         " -q x");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(index));
  }
  SECTION("k must be positive") {
    CHECK(st::run_cli("search --model " + model + " --corpus " + corpus + " -k 0 -q x").exit_code !=
          0);
  }
}

// ---------------------------------------------------------------- help

TEST_CASE("score, eval and search --help list every option with defaults", "[cli][help]") {
  struct Expect {
    const char* command;
    std::vector<const char*> names;
  };
  const std::vector<Expect> expected = {
      {"score", {"--model", "--pairs", "--threads", "--precision", "--batch", "=64", "=fp32"}},
      {"eval",
       {"--model", "--sts", "--pairs", "--json", "--threads", "--precision", "--batch", "=64"}},
      {"search",
       {"--model", "--corpus", "--index", "--query", "-k", "--top-k", "=10", "--threads",
        "--precision", "--batch", "=64"}},
  };
  for (const auto& e : expected) {
    auto r = st::run_cli(std::string(e.command) + " --help");
    INFO(e.command);
    REQUIRE(r.exit_code == 0);
    for (const char* name : e.names) CHECK_THAT(r.out, Catch::Contains(name));
  }
}
