// End-to-end runs of `sentemb encode` with a tiny random model: every format,
// order preservation, empty input, stdin/stdout, truncation and errors. The
// binary files are parsed here by hand, not with the library's readers.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_model.h"
#include "test_util.h"

namespace st = sentemb::test;

namespace {

using Rows = std::vector<std::vector<float>>;

using st::make_model;

Rows parse_tsv(const std::string& text) {
  Rows rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<float> row;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, '\t');)
      row.push_back(std::strtof(f.c_str(), nullptr));
    rows.push_back(row);
  }
  return rows;
}

// A .npy file as written by encode: 128-byte v1.0 header, then float32 rows.
Rows parse_npy(const std::string& bytes, std::size_t* rows_in_header = nullptr) {
  REQUIRE(bytes.size() >= 128);
  REQUIRE(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const std::size_t header_len =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  REQUIRE(10 + header_len == 128);
  const std::string dict = bytes.substr(10, header_len);
  CHECK(dict.back() == '\n');
  std::smatch m;
  REQUIRE(std::regex_search(
      dict, m,
      std::regex(
          R"(^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$)")));
  const std::size_t n = std::stoul(m[1]), d = std::stoul(m[2]);
  if (rows_in_header) *rows_in_header = n;
  REQUIRE(bytes.size() == 128 + n * d * 4);
  Rows rows(n, std::vector<float>(d));
  for (std::size_t i = 0; i < n; ++i)
    std::memcpy(rows[i].data(), bytes.data() + 128 + i * d * 4, d * 4);
  return rows;
}

Rows parse_fvecs(const std::string& bytes) {
  Rows rows;
  std::size_t at = 0;
  while (at < bytes.size()) {
    std::int32_t d;
    REQUIRE(at + 4 <= bytes.size());
    std::memcpy(&d, bytes.data() + at, 4);
    at += 4;
    REQUIRE(d > 0);
    REQUIRE(at + 4 * static_cast<std::size_t>(d) <= bytes.size());
    std::vector<float> row(d);
    std::memcpy(row.data(), bytes.data() + at, 4 * d);
    at += 4 * d;
    rows.push_back(row);
  }
  return rows;
}

float norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return static_cast<float>(std::sqrt(s));
}

void check_close(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  REQUIRE(a.size() == b.size());
  float worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  CHECK(worst <= tol);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::istringstream in(st::read_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("encode writes the same vectors in every format", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const auto lines = read_lines(input);
  REQUIRE(lines.size() == 9);

  for (const char* ext : {"npy", "fvecs", "tsv", "jsonl"}) {
    auto r = st::run_cli("encode --model " + model + " --input " + input + " --output " +
                         tmp.file(std::string("v.") + ext));
    INFO(ext << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("encoded 9 lines"));
  }
  const Rows tsv = parse_tsv(st::read_file(tmp.file("v.tsv")));
  REQUIRE(tsv.size() == 9);
  for (const auto& row : tsv) {
    REQUIRE(row.size() == 32);
    CHECK(norm(row) == Approx(1.0).epsilon(1e-4));  // the model normalises by default
  }
  const Rows npy = parse_npy(st::read_file(tmp.file("v.npy")));
  const Rows fvecs = parse_fvecs(st::read_file(tmp.file("v.fvecs")));
  REQUIRE(npy.size() == 9);
  REQUIRE(fvecs.size() == 9);
  for (std::size_t i = 0; i < 9; ++i) {
    // tsv prints the shortest decimal that reads back as the same float.
    CHECK(npy[i] == tsv[i]);
    CHECK(fvecs[i] == tsv[i]);
  }
  std::istringstream jsonl(st::read_file(tmp.file("v.jsonl")));
  std::size_t i = 0;
  for (std::string line; std::getline(jsonl, line); ++i) {
    REQUIRE(i < 9);
    auto j = nlohmann::json::parse(line);
    CHECK(j.at("text").get<std::string>() == lines[i]);
    CHECK(j.at("embedding").get<std::vector<float>>() == tsv[i]);
  }
  CHECK(i == 9);
}

TEST_CASE("encode keeps input order across length-sorted batches", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const auto lines = read_lines(input);
  // --batch 2: the 9 lines of very different lengths are sorted into 5 batches.
  auto all = st::run_cli("encode --batch 2 --model " + model + " --input " + input);
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  const Rows together = parse_tsv(all.out);
  REQUIRE(together.size() == lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto one = st::run_cli("encode --model " + model, lines[i] + "\n");
    REQUIRE(one.exit_code == 0);
    const Rows alone = parse_tsv(one.out);
    REQUIRE(alone.size() == 1);
    INFO("line " << i + 1 << ": " << lines[i]);
    check_close(together[i], alone[0], 1e-5f);
  }
  // Different sentences really get different vectors (the check above is not vacuous).
  CHECK(together[0] != together[1]);
}

TEST_CASE("encode of empty input writes zero vectors", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = tmp.file("empty.txt");
  st::write_file(input, "");
  for (const char* ext : {"npy", "fvecs", "tsv", "jsonl"}) {
    const std::string out = tmp.file(std::string("e.") + ext);
    auto r = st::run_cli("encode --model " + model + " --input " + input + " --output " + out);
    INFO(ext << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(std::filesystem::exists(out));
  }
  std::size_t rows = 99;
  const std::string npy = st::read_file(tmp.file("e.npy"));
  CHECK(parse_npy(npy, &rows).empty());
  CHECK(rows == 0);
  CHECK(npy.find("'shape': (0, 32)") != std::string::npos);
  CHECK(st::read_file(tmp.file("e.fvecs")).empty());
  CHECK(st::read_file(tmp.file("e.tsv")).empty());
  CHECK(st::read_file(tmp.file("e.jsonl")).empty());
}

TEST_CASE("encode reads stdin and writes stdout", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const std::string text = st::read_file(input);
  auto to_file = st::run_cli("encode --model " + model + " --input " + input + " --output " +
                             tmp.file("v.tsv"));
  REQUIRE(to_file.exit_code == 0);
  // Default input and output are '-'; stdout defaults to tsv.
  auto piped = st::run_cli("encode --model " + model + " --input - --output -", text);
  INFO(piped.err);
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.out == st::read_file(tmp.file("v.tsv")));
  auto defaults = st::run_cli("encode --model " + model, text);
  CHECK(defaults.out == piped.out);
  CHECK_THAT(defaults.err, Catch::Contains("<stdin>") && Catch::Contains("<stdout>"));

  // npy to stdout: a complete array.
  auto npy = st::run_cli("encode --model " + model + " --format npy", text);
  REQUIRE(npy.exit_code == 0);
  const Rows rows = parse_npy(npy.out);
  const Rows tsv = parse_tsv(piped.out);
  REQUIRE(rows.size() == 9);
  CHECK(rows == tsv);

  // npy to a pipe (not seekable): the rows are buffered and the header is right.
  const std::string piped_npy = tmp.file("piped.npy");
  const std::string cmd = std::string(SENTEMB_BIN) + " encode --model " + model + " --input " +
                          input + " --format npy --output - 2>/dev/null | cat > " + piped_npy;
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(parse_npy(st::read_file(piped_npy)) == tsv);
}

TEST_CASE("encode: empty lines get a vector, long lines are truncated", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  // The model's max_len is 16 tokens (BOS included): both long lines share
  // their first 15 pieces, so they encode identically.
  const std::string long_line =
      "The teacher visited a red apple, and then the baker cleaned the morning train";
  const std::string input = "\n" + long_line + " and the old man watched the empty field.\n" +
                            long_line + " while the little dog painted the green hills.\nx\n\n";
  auto r = st::run_cli("encode --model " + model, input);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Rows rows = parse_tsv(r.out);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].size() == 32);
  CHECK(norm(rows[0]) == Approx(1.0).epsilon(1e-4));
  check_close(rows[0], rows[4], 1e-6f);  // both empty lines: the BOS-only vector
  check_close(rows[1], rows[2], 1e-6f);
  CHECK(rows[0] != rows[3]);
  auto help = st::run_cli("encode --help");
  CHECK_THAT(help.out, Catch::Contains("truncated"));
}

TEST_CASE("encode --no-normalize writes raw pooled vectors", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string text = "The little dog painted the green hills at night.\nWhy?\n";
  auto normed = st::run_cli("encode --model " + model, text);
  auto raw = st::run_cli("encode --no-normalize --model " + model, text);
  REQUIRE(raw.exit_code == 0);
  const Rows a = parse_tsv(normed.out), b = parse_tsv(raw.out);
  REQUIRE(b.size() == 2);
  for (int i = 0; i < 2; ++i) {
    const float n = norm(b[i]);
    CHECK(std::abs(n - 1.0f) > 1e-3f);
    // Same direction: raw / |raw| is the normalised vector.
    std::vector<float> scaled = b[i];
    for (float& x : scaled) x /= n;
    check_close(scaled, a[i], 1e-5f);
  }
}

TEST_CASE("encode with bf16 and int8 weights stays close to fp32", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  const Rows fp32 = parse_tsv(st::run_cli("encode --model " + model + " --input " + input).out);
  for (const char* precision : {"bf16", "int8"}) {
    auto r = st::run_cli("encode --precision " + std::string(precision) + " --model " + model +
                         " --input " + input);
    INFO(precision << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    const Rows rows = parse_tsv(r.out);
    REQUIRE(rows.size() == fp32.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      double dot = 0;
      for (std::size_t j = 0; j < rows[i].size(); ++j) dot += double(rows[i][j]) * fp32[i][j];
      CHECK(dot > 0.95);  // both unit vectors: this is their cosine
    }
  }
}

TEST_CASE("encode errors", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  SECTION("invalid UTF-8 names the line and leaves no output file") {
    const std::string input = tmp.file("bad.txt");
    st::write_file(input, "fine\nalso fine\nbad \xC3\x28 byte\n");
    const std::string out = tmp.file("out.npy");
    auto r = st::run_cli("encode --model " + model + " --input " + input + " --output " + out);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(input + ":3:") && Catch::Contains("UTF-8"));
    CHECK_FALSE(std::filesystem::exists(out));
  }
  SECTION("invalid UTF-8 on stdin") {
    auto r = st::run_cli("encode --model " + model, "ok\n\xFF\n");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("<stdin>:2:"));
  }
  SECTION("unknown output suffix without --format") {
    auto r = st::run_cli("encode --model " + model + " --output " + tmp.file("v.bin"), "x\n");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--format"));
    // With --format it is fine.
    auto ok = st::run_cli(
        "encode --format fvecs --model " + model + " --output " + tmp.file("v.bin"), "x\n");
    CHECK(ok.exit_code == 0);
    CHECK(parse_fvecs(st::read_file(tmp.file("v.bin"))).size() == 1);
  }
  SECTION("bad option values") {
    CHECK(st::run_cli("encode --model " + model + " --format csv", "x\n").exit_code != 0);
    CHECK(st::run_cli("encode --model " + model + " --precision fp16", "x\n").exit_code != 0);
    CHECK(st::run_cli("encode --model " + model + " --batch 0", "x\n").exit_code != 0);
  }
  SECTION("missing input and model files") {
    auto r = st::run_cli("encode --model " + model + " --input " + tmp.file("nope.txt"));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("nope.txt"));
    auto m = st::run_cli("encode --model " + tmp.file("nope.semb"), "x\n");
    CHECK(m.exit_code == 1);
    CHECK_THAT(m.err, Catch::Contains("nope.semb"));
  }
}

TEST_CASE("encode --help lists every option with defaults", "[cli][encode]") {
  auto r = st::run_cli("encode --help");
  REQUIRE(r.exit_code == 0);
  for (const char* option : {"--model", "--input", "--output", "--format", "--batch", "--threads",
                             "--precision", "--no-normalize", "npy", "fvecs", "tsv", "jsonl"})
    CHECK_THAT(r.out, Catch::Contains(option));
  CHECK_THAT(r.out, Catch::Contains("=64"));    // --batch
  CHECK_THAT(r.out, Catch::Contains("=fp32"));  // --precision
  CHECK_THAT(r.out, Catch::Contains("=0"));     // --threads
}

TEST_CASE("encode shows a progress bar only when stderr is a terminal", "[cli][encode]") {
  st::TempDir tmp;
  const std::string model = make_model(tmp);
  const std::string input = st::data_path("cli/corpus.txt");
  // Not a terminal (run_cli captures stderr into a file): just the summary line.
  auto plain = st::run_cli("encode --model " + model + " --input " + input + " --output " +
                           tmp.file("a.npy"));
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.err.find('\r') == std::string::npos);
  CHECK(plain.err.find("9/9") == std::string::npos);
  // A terminal, through util-linux `script` (a pseudo-terminal).
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    WARN("`script` not installed; terminal progress not checked");
    return;
  }
  const std::string log = tmp.file("tty.log");
  const std::string cmd = "script -qec '" + std::string(SENTEMB_BIN) + " encode --model " + model +
                          " --input " + input + " --output " + tmp.file("b.npy") +
                          "' /dev/null > " + log + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string shown = st::read_file(log);
  CHECK_THAT(shown, Catch::Contains("\rencode [") && Catch::Contains("9/9 lines") &&
                        Catch::Contains("100.0%") && Catch::Contains("lines/s"));
  CHECK(st::read_file(tmp.file("b.npy")) == st::read_file(tmp.file("a.npy")));
}
