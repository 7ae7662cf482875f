// `sentemb encode` on a single 50 MB line (issue 17): memory stays bounded (peak
// RSS of the child, from wait4, under 200 MB) and the vector is that of the
// sentence's start, truncated to max_len tokens like any long sentence.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace st = sentemb::test;

namespace {

struct Child {
  int exit_code;
  long max_rss_kb;
};

// Runs SENTEMB_BIN with `args` (stdout and stderr to files) and returns its exit
// code and peak resident set size, from wait4's rusage of that child alone.
Child run_measured(const std::vector<std::string>& args, const std::string& out,
                   const std::string& err) {
  std::vector<char*> argv;
  std::string bin = SENTEMB_BIN;
  argv.push_back(bin.data());
  std::vector<std::string> copies = args;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr))
      _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  REQUIRE(wait4(pid, &status, 0, &usage) == pid);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss};
}

std::vector<float> parse_tsv_row(const std::string& text) {
  std::vector<float> row;
  std::istringstream fields(text.substr(0, text.find('\n')));
  for (std::string f; std::getline(fields, f, '\t');)
    row.push_back(std::strtof(f.c_str(), nullptr));
  return row;
}

}  // namespace

// The bound of the issue: 200 MB (the unbounded reader needed 6.45 GB). Under
// AddressSanitizer (tools/sanitize.sh) the child's freed blocks wait in ASan's
// quarantine (256 MB by default) and its shadow memory adds 1/8 of what is touched:
// 212 MB were measured there, so that build is held to 200 + 256 MB.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kMaxRssKb = (200 + 256) * 1024;
#else
constexpr long kMaxRssKb = 200 * 1024;
#endif

TEST_CASE("encode: a 50 MB line stays under 200 MB and gives its start's vector", "[cli][bounds]") {
  st::TempDir tmp;
  const std::string model = tmp.file("m.semb");
  {
    auto r = st::run_cli("init --tokenizer " + st::data_path("tokenizer/tiny.model") +
                         " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 64 --out " + model);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  // Words of the tiny corpus in a fixed order, to 50 MB, on one line.
  const std::string corpus = st::read_file(st::data_path("tokenizer/tiny_corpus.txt"));
  std::string words;
  for (char c : corpus) words += (c == '\n' || c == '\t') ? ' ' : c;
  std::string block;
  while (block.size() < (1u << 20)) block += words + " ";
  const std::size_t total = 50u << 20;
  const std::string line_path = tmp.file("long.txt");
  {
    std::ofstream out(line_path, std::ios::binary);
    for (std::size_t written = 0; written < total; written += block.size()) out << block;
    out << "\n";
  }
  // The reference: the line's first characters, up to a space, 2000 bytes or so —
  // less than the tokenizer's cap (65 × 128 bytes) yet more than 64 tokens.
  std::string start = block.substr(0, block.rfind(' ', 2000));
  {
    auto r = st::run_cli("tokenizer encode --model " + st::data_path("tokenizer/tiny.model"),
                         start + "\n");
    REQUIRE(r.exit_code == 0);
    std::istringstream ids(r.out);
    std::size_t n = 0;
    for (std::string id; ids >> id;) ++n;
    INFO("ids of the start: " << n);
    REQUIRE(n > 64);
  }
  const std::string start_path = tmp.file("start.txt");
  st::write_file(start_path, start + "\n");

  const Child long_run = run_measured({"encode", "--model", model, "--input", line_path, "--output",
                                       tmp.file("long.tsv"), "--threads", "1"},
                                      tmp.file("long.out"), tmp.file("long.err"));
  INFO(st::read_file(tmp.file("long.err")));
  REQUIRE(long_run.exit_code == 0);
  WARN("peak RSS of `sentemb encode` on a 50 MB line: " << long_run.max_rss_kb / 1024 << " MB");
  CHECK(long_run.max_rss_kb < kMaxRssKb);

  const Child start_run = run_measured({"encode", "--model", model, "--input", start_path,
                                        "--output", tmp.file("start.tsv"), "--threads", "1"},
                                       tmp.file("start.out"), tmp.file("start.err"));
  REQUIRE(start_run.exit_code == 0);
  const auto got = parse_tsv_row(st::read_file(tmp.file("long.tsv")));
  const auto expected = parse_tsv_row(st::read_file(tmp.file("start.tsv")));
  REQUIRE(got.size() == 32);
  REQUIRE(expected.size() == 32);
  float most = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    most = std::max(most, std::abs(got[i] - expected[i]));
  CHECK(most < 1e-5f);
  // One line in, one vector out.
  const std::string vectors = st::read_file(tmp.file("long.tsv"));
  CHECK(std::count(vectors.begin(), vectors.end(), '\n') == 1);
}
