// Vector files. Writers are checked byte for byte against layouts built by hand
// here, and readers read hand-built files, so a bug shared by a writer and its
// reader cannot hide behind a round trip.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/vector_io.h"
#include "test_util.h"

using namespace sentemb;
using sentemb::test::read_file;
using sentemb::test::TempDir;
using sentemb::test::write_file;

namespace {

std::string raw_floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}
std::string raw_doubles(const std::vector<double>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}
std::string raw_int32(std::int32_t x) {
  return std::string(reinterpret_cast<const char*>(&x), 4);
}

// The 128-byte NumPy v1.0 header sentemb writes, spelled out: magic, version,
// little-endian uint16 length 118, the dict padded with spaces, '\n'.
std::string expected_npy_header(const std::string& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  dict += std::string(117 - dict.size(), ' ') + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + std::string("\x76\x00", 2) + dict;
}

// A NumPy header of any version with the given dict, padded like numpy does
// (total a multiple of 64) unless `pad` is false.
std::string npy_file_header(int major, const std::string& dict_text, bool pad = true) {
  std::string dict = dict_text;
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (pad) {
    while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
  }
  dict += '\n';
  std::string h("\x93NUMPY", 6);
  h += static_cast<char>(major);
  h += '\0';
  const std::uint32_t len = static_cast<std::uint32_t>(dict.size());
  h += static_cast<char>(len & 0xFF);
  h += static_cast<char>((len >> 8) & 0xFF);
  if (major != 1) {
    h += static_cast<char>((len >> 16) & 0xFF);
    h += static_cast<char>(len >> 24);
  }
  return h + dict;
}

}  // namespace

TEST_CASE("vector formats are named and guessed from suffixes", "[vector_io]") {
  CHECK(vector_format_from_string("npy") == VectorFormat::kNpy);
  CHECK(vector_format_from_string("jsonl") == VectorFormat::kJsonl);
  CHECK_THROWS_AS(vector_format_from_string("csv"), UsageError);
  CHECK(to_string(VectorFormat::kFvecs) == "fvecs");
  CHECK(vector_format_from_path("a/b.npy") == VectorFormat::kNpy);
  CHECK(vector_format_from_path("x.fvecs") == VectorFormat::kFvecs);
  CHECK(vector_format_from_path("x.txt") == VectorFormat::kTsv);
  CHECK(vector_format_from_path("x.tsv") == VectorFormat::kTsv);
  CHECK(vector_format_from_path("x.json") == VectorFormat::kJsonl);
  CHECK_FALSE(vector_format_from_path("-").has_value());
  CHECK_FALSE(vector_format_from_path("vectors.bin").has_value());
}

TEST_CASE("npy writer writes the documented bytes, across several writes", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("v.npy");
  const std::vector<float> rows = {1.0f, -2.5f, 0.125f, 3.0f, 1e-8f, -0.0f};
  auto w = VectorWriter::open(path, VectorFormat::kNpy, 3);
  w->write(rows.data(), 1);
  w->write(rows.data() + 3, 1);
  CHECK(w->rows_written() == 2);
  w->close();
  const std::string bytes = read_file(path);
  CHECK(bytes.size() == 128 + 6 * 4);
  CHECK(bytes == expected_npy_header("(2, 3)") + raw_floats(rows));
}

TEST_CASE("npy writer with no rows writes shape (0, D)", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("empty.npy");
  auto w = VectorWriter::open(path, VectorFormat::kNpy, 5);
  w->close();
  CHECK(read_file(path) == expected_npy_header("(0, 5)"));
}

TEST_CASE("npy writer to a pipe buffers the rows and writes the right shape", "[vector_io]") {
  TempDir tmp;
  const std::string fifo = tmp.file("pipe");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] { received = read_file(fifo); });
  std::vector<float> rows(4 * 2);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = 0.5f * static_cast<float>(i);
  {
    auto w = VectorWriter::open(fifo, VectorFormat::kNpy, 2);
    w->write(rows.data(), 3);
    w->write(rows.data() + 6, 1);
    w->close();
  }
  reader.join();
  CHECK(received == expected_npy_header("(4, 2)") + raw_floats(rows));
}

TEST_CASE("fvecs writer writes int32 width then the floats", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("v.fvecs");
  const std::vector<float> rows = {0.5f, 1.5f, -3.0f, 4.25f};
  auto w = VectorWriter::open(path, VectorFormat::kFvecs, 2);
  w->write(rows.data(), 2);
  w->close();
  CHECK(read_file(path) ==
        raw_int32(2) + raw_floats({0.5f, 1.5f}) + raw_int32(2) + raw_floats({-3.0f, 4.25f}));
}

TEST_CASE("tsv writer prints round-trippable floats, one row a line", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("v.tsv");
  std::vector<float> rows = {0.5f, -1.25f, 3.0f, 0.1f, 1.0f / 3.0f, -7.123456e-5f};
  auto w = VectorWriter::open(path, VectorFormat::kTsv, 3);
  w->write(rows.data(), 2);
  w->close();
  const std::string text = read_file(path);
  // Simple values print exactly.
  CHECK(text.rfind("0.5\t-1.25\t3\n", 0) == 0);
  // Every value parses back to the same float.
  std::istringstream lines(text);
  std::string line;
  std::size_t i = 0, line_count = 0;
  while (std::getline(lines, line)) {
    ++line_count;
    std::istringstream fields(line);
    std::string field;
    int columns = 0;
    while (std::getline(fields, field, '\t')) {
      ++columns;
      REQUIRE(i < rows.size());
      CHECK(std::strtof(field.c_str(), nullptr) == rows[i++]);
    }
    CHECK(columns == 3);
  }
  CHECK(line_count == 2);
  CHECK(i == rows.size());
}

TEST_CASE("jsonl writer writes text and embedding per line", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("v.jsonl");
  std::vector<float> rows = {0.25f, -1.0f, 0.1f, 2.0f};
  std::vector<std::string> texts = {"say \"hi\"\tthere\\", "caf\xc3\xa9 \xe2\x9c\x93"};
  auto w = VectorWriter::open(path, VectorFormat::kJsonl, 2);
  w->write(rows.data(), 2, texts);
  w->close();
  std::istringstream lines(read_file(path));
  std::string line;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(std::getline(lines, line));
    auto j = nlohmann::json::parse(line);
    CHECK(j.size() == 2);
    CHECK(j.at("text").get<std::string>() == texts[i]);
    auto e = j.at("embedding").get<std::vector<float>>();
    REQUIRE(e.size() == 2);
    CHECK(e[0] == rows[2 * i]);
    CHECK(e[1] == rows[2 * i + 1]);
  }
  CHECK_FALSE(std::getline(lines, line));
}

TEST_CASE("writer misuse and failures are reported", "[vector_io]") {
  TempDir tmp;
  std::vector<float> row = {1, 2};
  SECTION("jsonl needs texts") {
    auto w = VectorWriter::open(tmp.file("a.jsonl"), VectorFormat::kJsonl, 2);
    CHECK_THROWS_AS(w->write(row.data(), 1), UsageError);
  }
  SECTION("texts must match the rows") {
    auto w = VectorWriter::open(tmp.file("a.tsv"), VectorFormat::kTsv, 2);
    CHECK_THROWS_AS(w->write(row.data(), 1, {"a", "b"}), UsageError);
  }
  SECTION("width must be positive") {
    CHECK_THROWS_AS(VectorWriter::open(tmp.file("a.npy"), VectorFormat::kNpy, 0), UsageError);
  }
  SECTION("an uncreatable path names the path") {
    const std::string bad = tmp.file("no/such/dir/v.npy");
    try {
      VectorWriter::open(bad, VectorFormat::kNpy, 2);
      FAIL("expected IoError");
    } catch (const IoError& e) {
      CHECK_THAT(e.what(), Catch::Contains(bad));
    }
  }
  SECTION("a writer dropped without close removes its incomplete file") {
    const std::string path = tmp.file("partial.npy");
    {
      auto w = VectorWriter::open(path, VectorFormat::kNpy, 2);
      w->write(row.data(), 1);
      CHECK(std::filesystem::exists(path));
    }
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("read_npy reads hand-built float32 and float64 files", "[vector_io]") {
  TempDir tmp;
  const std::vector<float> f = {1.5f, -2.0f, 0.0f, 7.25f, 1e-3f, -9.0f};
  SECTION("version 1.0, numpy's padding") {
    const std::string path = tmp.file("a.npy");
    write_file(path,
               npy_file_header(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }") +
                   raw_floats(f));
    VectorMatrix m = read_npy(path);
    CHECK(m.rows == 3);
    CHECK(m.dim == 2);
    CHECK(m.data == f);
    CHECK(m.row(1)[1] == 7.25f);
  }
  SECTION("version 2.0, unpadded, keys in another order, no trailing comma") {
    const std::string path = tmp.file("b.npy");
    write_file(path, npy_file_header(2, "{'shape': (2,3), 'fortran_order': False, 'descr': '<f4'}",
                                     false) +
                         raw_floats(f));
    VectorMatrix m = read_npy(path);
    CHECK(m.rows == 2);
    CHECK(m.dim == 3);
    CHECK(m.data == f);
  }
  SECTION("float64 is converted") {
    const std::string path = tmp.file("c.npy");
    write_file(path,
               npy_file_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }") +
                   raw_doubles({0.5, -0.25, 1.0 / 3.0}));
    VectorMatrix m = read_npy(path);
    REQUIRE(m.rows == 1);
    CHECK(m.data == std::vector<float>{0.5f, -0.25f, static_cast<float>(1.0 / 3.0)});
  }
  SECTION("shape (0, D)") {
    const std::string path = tmp.file("d.npy");
    write_file(path,
               npy_file_header(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 16), }"));
    VectorMatrix m = read_npy(path);
    CHECK(m.rows == 0);
    CHECK(m.dim == 16);
    CHECK(m.data.empty());
  }
  SECTION("shape (0, 2^30) in float64 allocates nothing (found by fuzz_vector_io)") {
    const std::string path = tmp.file("e.npy");
    write_file(
        path,
        npy_file_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1073741824), }"));
    VectorMatrix m = read_npy(path);
    CHECK(m.rows == 0);
    CHECK(m.dim == 1073741824);
    CHECK(m.data.empty());
  }
}

TEST_CASE("read_npy rejects what it cannot read, naming the file", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("bad.npy");
  auto header = [](const std::string& descr, const std::string& order, const std::string& shape) {
    return npy_file_header(
        1, "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }");
  };
  const std::string four = raw_floats({1, 2, 3, 4});
  std::string content, expect;
  SECTION("magic") {
    content = "PK\x03\x04 not numpy at all", expect = "magic";
  }
  SECTION("too short") {
    content = "\x93NU", expect = "too short";
  }
  SECTION("truncated data") {
    content = header("<f4", "False", "(3, 2)") + four, expect = "truncated";
  }
  SECTION("extra data") {
    content = header("<f4", "False", "(1, 2)") + four, expect = "needs 8 bytes";
  }
  SECTION("big-endian") {
    content = header(">f4", "False", "(2, 2)") + four, expect = ">f4";
  }
  SECTION("integers") {
    content = header("<i4", "False", "(2, 2)") + four, expect = "<i4";
  }
  SECTION("fortran order") {
    content = header("<f4", "True", "(2, 2)") + four, expect = "Fortran";
  }
  SECTION("1-D") {
    content = header("<f4", "False", "(4,)") + four, expect = "dimensions";
  }
  SECTION("3-D") {
    content = header("<f4", "False", "(1, 2, 2)") + four, expect = "dimensions";
  }
  SECTION("huge shape") {
    content = header("<f4", "False", "(99999999999999999, 99999)") + four, expect = "needs";
  }
  SECTION("v2 header length of 4 GiB in a tiny file") {
    // Found by fuzz_vector_io: the reader allocated the declared header size first.
    content = std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{'descr': '<f4'}";
    expect = "truncated";
  }
  write_file(path, content);
  try {
    read_npy(path);
    FAIL("expected IoError");
  } catch (const IoError& e) {
    CHECK_THAT(e.what(), Catch::Contains(path));
    CHECK_THAT(e.what(), Catch::Contains(expect));
  }
}

TEST_CASE("read_fvecs reads hand-built files and rejects bad ones", "[vector_io]") {
  TempDir tmp;
  const std::string path = tmp.file("a.fvecs");
  SECTION("two vectors") {
    write_file(path,
               raw_int32(3) + raw_floats({1, 2, 3}) + raw_int32(3) + raw_floats({-1, 0.5f, 8}));
    VectorMatrix m = read_fvecs(path);
    CHECK(m.rows == 2);
    CHECK(m.dim == 3);
    CHECK(m.data == std::vector<float>{1, 2, 3, -1, 0.5f, 8});
    // read_vectors dispatches on the suffix.
    CHECK(read_vectors(path).data == m.data);
  }
  SECTION("empty file") {
    write_file(path, "");
    VectorMatrix m = read_fvecs(path);
    CHECK(m.rows == 0);
    CHECK(m.dim == 0);
  }
  SECTION("widths differ") {
    write_file(path, raw_int32(2) + raw_floats({1, 2}) + raw_int32(3) + raw_floats({1, 2, 3}));
    CHECK_THROWS_WITH(read_fvecs(path),
                      Catch::Contains(path) && Catch::Contains("vector 2 has width 3"));
  }
  SECTION("truncated") {
    write_file(path, raw_int32(2) + raw_floats({1, 2}) + raw_int32(2) + raw_floats({1}));
    CHECK_THROWS_WITH(read_fvecs(path), Catch::Contains(path) && Catch::Contains("truncated"));
  }
  SECTION("a huge declared width in a tiny file") {
    // Must be refused before the reader grows its matrix by 2^24 floats.
    write_file(path, raw_int32(1 << 24) + raw_floats({1}));
    CHECK_THROWS_WITH(read_fvecs(path), Catch::Contains(path) && Catch::Contains("truncated"));
  }
  SECTION("bad width") {
    write_file(path, raw_int32(-4) + raw_floats({1}));
    CHECK_THROWS_AS(read_fvecs(path), IoError);
  }
}

TEST_CASE("readers name a missing file, read_vectors rejects other suffixes", "[vector_io]") {
  TempDir tmp;
  CHECK_THROWS_WITH(read_npy(tmp.file("missing.npy")), Catch::Contains("missing.npy"));
  CHECK_THROWS_WITH(read_fvecs(tmp.file("missing.fvecs")), Catch::Contains("missing.fvecs"));
  CHECK_THROWS_AS(read_vectors(tmp.file("v.tsv")), UsageError);
}

TEST_CASE("npy and fvecs round-trip many random rows", "[vector_io]") {
  TempDir tmp;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const int dim = 7;
  std::vector<float> rows(1000 * dim);
  for (float& x : rows) x = normal(rng);
  for (VectorFormat format : {VectorFormat::kNpy, VectorFormat::kFvecs}) {
    const std::string path = tmp.file("r." + to_string(format));
    auto w = VectorWriter::open(path, format, dim);
    for (std::size_t start = 0; start < 1000; start += 300)
      w->write(rows.data() + start * dim, std::min<std::size_t>(300, 1000 - start));
    w->close();
    VectorMatrix m = read_vectors(path);
    CHECK(m.rows == 1000);
    CHECK(m.dim == dim);
    CHECK(m.data == rows);
  }
}
