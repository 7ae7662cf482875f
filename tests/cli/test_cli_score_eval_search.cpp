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

#include "cli/cli_model.h"
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

using st::make_model;

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

// `sentemb eval --json --model MODEL ARGS`, parsed; the run must succeed.
nlohmann::json eval_json(const std::string& model, const std::string& args) {
  auto r = st::run_cli("eval --json --model " + model + " " + args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// Ranks with ties averaged (1-based), as Spearman's rho needs.
std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = (i + j) / 2.0 + 1;
    i = j + 1;
  }
  return ranks;
}

double pearson_of(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / x.size(), my += y[i] / y.size();
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx),
        syy += (y[i] - my) * (y[i] - my);
  return sxy / std::sqrt(sxx * syy);
}

// What `eval --pairs` must report, computed here from `sentemb encode` vectors:
// each first column retrieves its second column among the distinct second
// columns; rank = 1 + the other candidates scoring at least as high.
struct Retrieval {
  double recall_at_1 = 0, recall_at_10 = 0, mrr = 0;
  std::vector<std::size_t> ranks;
};
Retrieval expected_retrieval(const std::string& model, const std::string& pairs_path) {
  std::vector<std::string> queries, candidates;
  std::vector<std::size_t> correct;
  for (const auto& line : split_lines(st::read_file(pairs_path))) {
    const auto cols = split(line, '\t');
    REQUIRE(cols.size() >= 2);
    auto at = std::find(candidates.begin(), candidates.end(), cols[1]);
    if (at == candidates.end()) at = candidates.insert(candidates.end(), cols[1]);
    correct.push_back(at - candidates.begin());
    queries.push_back(cols[0]);
  }
  const Rows q = encode(model, queries), c = encode(model, candidates);
  Retrieval r;
  for (std::size_t i = 0; i < q.size(); ++i) {
    const double target = cosine(q[i], c[correct[i]]);
    std::size_t rank = 1;
    for (std::size_t j = 0; j < c.size(); ++j)
      if (j != correct[i] && cosine(q[i], c[j]) >= target) ++rank;
    r.ranks.push_back(rank);
    r.recall_at_1 += (rank == 1) / double(q.size());
    r.recall_at_10 += (rank <= 10) / double(q.size());
    r.mrr += 1.0 / rank / q.size();
  }
  return r;
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
  // The right answer, from the cosines of `sentemb encode` vectors: Pearson of
  // cosine and gold, and Spearman as Pearson of their (average) ranks.
  std::vector<double> gold, cosines;
  std::vector<std::string> sentences;  // a1, b1, a2, b2, ...
  for (const auto& line : split_lines(st::read_file(st::data_path("cli/sts.tsv")))) {
    const auto cols = split(line, '\t');
    REQUIRE(cols.size() == 3);
    gold.push_back(std::stod(cols[0]));
    sentences.insert(sentences.end(), {cols[1], cols[2]});
  }
  const Rows v = encode(model, sentences);
  for (std::size_t i = 0; i < gold.size(); ++i) cosines.push_back(cosine(v[2 * i], v[2 * i + 1]));
  CHECK(j.at("pearson").get<double>() == Approx(pearson_of(cosines, gold)).margin(1e-4));
  CHECK(j.at("spearman").get<double>() ==
        Approx(pearson_of(average_ranks(cosines), average_ranks(gold))).margin(1e-6));
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
  SECTION("real pairs: the metrics of the ranks the encoded vectors give") {
    const auto j = eval_json(model, "--pairs " + st::data_path("cli/pairs.tsv"));
    CHECK(j.at("n").get<int>() == 5);
    const Retrieval want = expected_retrieval(model, st::data_path("cli/pairs.tsv"));
    CHECK(j.at("recall@1").get<double>() == Approx(want.recall_at_1).margin(1e-9));
    CHECK(j.at("recall@10").get<double>() == Approx(want.recall_at_10).margin(1e-9));
    CHECK(j.at("mrr").get<double>() == Approx(want.mrr).margin(1e-9));
    auto plain =
        st::run_cli("eval --model " + model + " --pairs " + st::data_path("cli/pairs.tsv"));
    CHECK_THAT(plain.out, Catch::Contains("recall@1") && Catch::Contains("recall@10") &&
                              Catch::Contains("mrr") && Catch::Contains("5 queries"));
  }
  SECTION("12 candidates: a query equal to another pair's answer misses recall@1") {
    // 12 pairs whose two sides are equal (each rank 1), then the first sentence
    // asking for the twelfth: the candidate equal to the query itself (cosine 1)
    // outranks the answer, so recall@1 is 12/13 exactly, whatever the model.
    const std::string path = st::data_path("cli/pairs_rank.tsv");
    const auto j = eval_json(model, "--pairs " + path);
    CHECK(j.at("n").get<int>() == 13);
    CHECK(j.at("candidates").get<int>() == 12);
    CHECK(j.at("recall@1").get<double>() == Approx(12.0 / 13).margin(1e-12));
    const Retrieval want = expected_retrieval(model, path);
    REQUIRE(want.ranks.size() == 13);
    CHECK(want.ranks.back() >= 2);
    CHECK(j.at("recall@10").get<double>() == Approx(want.recall_at_10).margin(1e-9));
    CHECK(j.at("mrr").get<double>() == Approx(want.mrr).margin(1e-9));
    // The last query's rank r is 2..12: MRR = (12 + 1/r) / 13.
    CHECK(j.at("mrr").get<double>() >= (12 + 1.0 / 12) / 13 - 1e-12);
    CHECK(j.at("mrr").get<double>() <= (12 + 1.0 / 2) / 13 + 1e-12);
  }
  SECTION("11 candidates: ten of them outrank an answer, recall@10 = 10/11") {
    // Ten pairs of a sentence with extra spaces (each its own candidate), then
    // the plain sentence asking for an unrelated one. SentencePiece drops the
    // extra spaces, so all ten candidates encode as the query does: cosine 1,
    // above the answer, which ranks 11th. Each of the ten others finds itself
    // among the ten ties (rank 1..10, ties count against the query).
    const std::string path = st::data_path("cli/pairs_whitespace.tsv");
    const auto lines = split_lines(st::read_file(path));
    REQUIRE(lines.size() == 11);
    const std::string query = split(lines.back(), '\t')[0];
    const Rows same = encode(model, {query, split(lines[0], '\t')[0], split(lines[9], '\t')[0]});
    REQUIRE(cosine(same[0], same[1]) == Approx(1.0).margin(1e-6));  // the fixture's premise
    REQUIRE(cosine(same[0], same[2]) == Approx(1.0).margin(1e-6));
    const auto j = eval_json(model, "--pairs " + path);
    CHECK(j.at("n").get<int>() == 11);
    CHECK(j.at("candidates").get<int>() == 11);
    CHECK(j.at("recall@10").get<double>() == Approx(10.0 / 11).margin(1e-12));
    // The last query adds 1/11; the ten others 1/10 to 1 each.
    const double mrr = j.at("mrr").get<double>();
    CHECK(mrr >= (10 * 0.1 + 1.0 / 11) / 11 - 1e-12);
    CHECK(mrr <= (10 + 1.0 / 11) / 11 + 1e-12);
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

TEST_CASE("search: each corpus line as a query finds itself first, with cosine 1",
          "[cli][search]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string corpus = st::data_path("cli/corpus.txt");
  std::vector<std::string> queries;
  for (const auto& line : split_lines(st::read_file(corpus)))
    if (!line.empty()) queries.push_back(line);
  REQUIRE(queries.size() == 8);
  std::string stdin_text;
  for (const auto& query : queries) stdin_text += query + "\n";
  auto r = st::run_cli("search --model " + model + " --corpus " + corpus + " -k 2", stdin_text);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // One block of 2 hits per query, blocks separated by an empty line.
  const auto out = split_lines(r.out);
  REQUIRE(out.size() == queries.size() * 3 - 1);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    INFO("query " << i + 1 << ": " << queries[i]);
    const auto hits = parse_hits({out.begin() + 3 * i, out.begin() + 3 * i + 2});
    CHECK(hits[0].line == queries[i]);
    CHECK(hits[0].score == Approx(1.0).margin(1e-4));
    CHECK(hits[1].line != queries[i]);
    CHECK(hits[1].score < 0.9999);  // distinct lines: the runner-up is no tie
    if (i + 1 < queries.size()) CHECK(out[3 * i + 2].empty());
  }
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
