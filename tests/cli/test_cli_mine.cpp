// End-to-end runs of `sentemb mine` with the tiny golden model over the
// fixtures in tests/data/mine: the triplet format, that no negative is its
// anchor or one of the anchor's positives, determinism, atomic output and
// the errors of bad options and bad input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace st = sentemb::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, '\t');) fields.push_back(f);
  return fields;
}

std::string mine_args(const std::string& out) {
  return "mine --model " + st::data_path("golden/tiny.semb") + " --pairs " +
         st::data_path("mine/pairs.tsv") + " --out " + out;
}

// Every positive each anchor has in the pairs fixture.
std::map<std::string, std::set<std::string>> positives_by_anchor() {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& line : lines_of(st::read_file(st::data_path("mine/pairs.tsv")))) {
    const auto f = fields_of(line);
    out[f[0]].insert(f[1]);
  }
  return out;
}

// Checks the triplets: three fields, a pair of the fixture, a negative that is
// neither the anchor nor any positive of it, drawn from `candidates`, at most
// `per_pair` per pair. Returns the number of triplets.
std::size_t check_triplets(const std::string& text, const std::set<std::string>& candidates,
                           std::size_t per_pair) {
  const auto positives = positives_by_anchor();
  std::map<std::pair<std::string, std::string>, std::size_t> per;
  const auto lines = lines_of(text);
  for (const auto& line : lines) {
    INFO(line);
    const auto f = fields_of(line);
    REQUIRE(f.size() == 3);
    REQUIRE(positives.count(f[0]) == 1);
    CHECK(positives.at(f[0]).count(f[1]) == 1);
    CHECK(f[2] != f[0]);
    CHECK(f[2] != f[1]);
    CHECK(positives.at(f[0]).count(f[2]) == 0);
    CHECK(candidates.count(f[2]) == 1);
    CHECK(++per[{f[0], f[1]}] <= per_pair);
  }
  return lines.size();
}

}  // namespace

TEST_CASE("mine writes anchor TAB positive TAB negative from the pairs' positives", "[cli]") {
  st::TempDir tmp;
  const std::string out = tmp.file("t.tsv");
  const auto r = st::run_cli(mine_args(out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(out + ".tmp"));
  std::set<std::string> candidates;
  for (const auto& [anchor, set] : positives_by_anchor()) candidates.insert(set.begin(), set.end());
  const std::size_t n = check_triplets(st::read_file(out), candidates, 1);
  // Eight pairs, one negative each: every pair has candidates, whatever the model.
  CHECK(n == 8);
  CHECK_THAT(r.err, Catch::Contains("mined 8 triplets from 8 pairs"));
}

TEST_CASE("mine from a corpus file: several negatives, random and seeded", "[cli]") {
  st::TempDir tmp;
  const std::string corpus = st::data_path("mine/corpus.txt");
  const std::string args = mine_args(tmp.file("a.tsv")) + " --corpus " + corpus +
                           " --num-negatives 3 --range-max 6 --sampling random --seed 5";
  const auto a = st::run_cli(args);
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  std::set<std::string> candidates;
  for (const auto& line : lines_of(st::read_file(corpus)))
    if (!line.empty()) candidates.insert(line);
  const std::string first = st::read_file(tmp.file("a.tsv"));
  // 10 distinct corpus lines; each anchor loses at most 3 (itself, 2 positives).
  CHECK(check_triplets(first, candidates, 3) == 8 * 3);
  CHECK_THAT(a.err, Catch::Contains("against 10 corpus lines"));
  const auto b = st::run_cli(args);
  REQUIRE(b.exit_code == 0);
  CHECK(st::read_file(tmp.file("a.tsv")) == first);  // the same seed, the same triplets
}

TEST_CASE("mine counts the pairs a margin leaves without a negative", "[cli]") {
  st::TempDir tmp;
  const std::string out = tmp.file("t.tsv");
  const auto r = st::run_cli(mine_args(out) + " --margin 2");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(st::read_file(out).empty());
  CHECK_THAT(r.err, Catch::Contains("8 pair(s) had no admissible candidate"));
}

TEST_CASE("mine rejects bad options naming them", "[cli]") {
  st::TempDir tmp;
  const std::string out = tmp.file("t.tsv");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--range-min 5 --range-max 2", "--range-min"},
      {"--num-negatives 0", "--num-negatives"},
      {"--margin 3", "--margin"},
      {"--margin -0.1", "--margin"},
      {"--relative-margin 1", "--relative-margin"},
      {"--sampling best", "--sampling"},
  };
  for (const auto& [flags, name] : cases) {
    INFO(flags);
    const auto r = st::run_cli(mine_args(out) + " " + flags);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains(name));
    CHECK_FALSE(std::filesystem::exists(out));
    CHECK_FALSE(std::filesystem::exists(out + ".tmp"));
  }
}

TEST_CASE("mine names file:line of a bad pair and leaves no output", "[cli]") {
  st::TempDir tmp;
  const std::string out = tmp.file("t.tsv");
  const auto r = st::run_cli("mine --model " + st::data_path("golden/tiny.semb") + " --pairs " +
                             st::data_path("mine/bad.tsv") + " --out " + out);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("bad.tsv:2"));
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(out + ".tmp"));
}
