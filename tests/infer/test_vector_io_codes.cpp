// Vector files of quantized codes (vector_io.h): npy with dtype '|i1' / '|u1',
// bvecs and i8vecs, integers in tsv and jsonl, read back with read_codes; and
// the formats that cannot hold an element type refused. Bytes are checked by
// hand, not only through the library's own readers.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/vector_io.h"
#include "test_util.h"

using namespace sentemb;

namespace {

const std::vector<std::uint8_t> kCodes = {0, 127, 128, 255, 1, 200};  // (2, 3)

std::string write(const std::string& path, VectorFormat format, ElementType type,
                  const std::vector<std::string>& texts = {}) {
  auto w = VectorWriter::open(path, format, 3, type);
  w->write_codes(kCodes.data(), 2, texts);
  w->close();
  return test::read_file(path);
}

}  // namespace

TEST_CASE("npy of int8 and uint8 codes carries the dtype and reads back", "[quantization]") {
  test::TempDir tmp;
  for (ElementType type : {ElementType::kInt8, ElementType::kUint8}) {
    const std::string path = tmp.file(to_string(type) + ".npy");
    const std::string bytes = write(path, VectorFormat::kNpy, type);
    REQUIRE(bytes.size() == 128 + 6);
    const std::string descr = type == ElementType::kInt8 ? "'|i1'" : "'|u1'";
    CHECK(bytes.find("{'descr': " + descr + ", 'fortran_order': False, 'shape': (2, 3), }") == 10);
    CHECK(bytes.substr(128) == std::string(kCodes.begin(), kCodes.end()));
    CHECK(vector_file_element_type(path) == type);
    const CodeMatrix m = read_codes(path);
    CHECK(m.rows == 2);
    CHECK(m.width == 3);
    CHECK(m.type == type);
    CHECK(m.data == kCodes);
    // A float reader refuses it, naming the dtype.
    CHECK_THROWS_WITH(read_npy(path), Catch::Contains(descr.substr(1, 3)));
  }
}

TEST_CASE("bvecs and i8vecs: int32 width, then the bytes", "[quantization]") {
  test::TempDir tmp;
  for (auto [format, type] : {std::pair{VectorFormat::kBvecs, ElementType::kUint8},
                              std::pair{VectorFormat::kI8vecs, ElementType::kInt8}}) {
    const std::string path = tmp.file("c." + to_string(format));
    CHECK(vector_format_from_path(path) == format);
    const std::string bytes = write(path, format, type);
    const std::string width("\x03\x00\x00\x00", 4);
    CHECK(bytes == width + std::string(kCodes.begin(), kCodes.begin() + 3) + width +
                       std::string(kCodes.begin() + 3, kCodes.end()));
    CHECK(vector_file_element_type(path) == type);
    const CodeMatrix m = read_codes(path);
    CHECK(m.type == type);
    CHECK(m.width == 3);
    CHECK(m.data == kCodes);
  }
  test::write_file(tmp.file("bad.bvecs"), std::string("\x03\x00\x00\x00\x01\x02", 6));
  CHECK_THROWS_WITH(read_codes(tmp.file("bad.bvecs")), Catch::Contains("truncated"));
}

TEST_CASE("tsv and jsonl print codes as integers", "[quantization]") {
  test::TempDir tmp;
  CHECK(write(tmp.file("i.tsv"), VectorFormat::kTsv, ElementType::kInt8) ==
        "0\t127\t-128\n-1\t1\t-56\n");
  CHECK(write(tmp.file("u.tsv"), VectorFormat::kTsv, ElementType::kUint8) ==
        "0\t127\t128\n255\t1\t200\n");
  CHECK(write(tmp.file("u.jsonl"), VectorFormat::kJsonl, ElementType::kUint8, {"a", "b"}) ==
        "{\"text\": \"a\", \"embedding\": [0, 127, 128]}\n"
        "{\"text\": \"b\", \"embedding\": [255, 1, 200]}\n");
}

TEST_CASE("a format that cannot hold the elements is refused", "[quantization]") {
  test::TempDir tmp;
  CHECK_THROWS_WITH(
      VectorWriter::open(tmp.file("a.fvecs"), VectorFormat::kFvecs, 3, ElementType::kUint8),
      Catch::Contains("use bvecs"));
  CHECK_THROWS_WITH(
      VectorWriter::open(tmp.file("a.bvecs"), VectorFormat::kBvecs, 3, ElementType::kInt8),
      Catch::Contains("use i8vecs"));
  CHECK_THROWS_AS(VectorWriter::open(tmp.file("a.i8vecs"), VectorFormat::kI8vecs, 3), UsageError);
  auto floats = VectorWriter::open(tmp.file("f.npy"), VectorFormat::kNpy, 3);
  CHECK_THROWS_AS(floats->write_codes(kCodes.data(), 2), UsageError);
  auto bytes = VectorWriter::open(tmp.file("b.npy"), VectorFormat::kNpy, 3, ElementType::kInt8);
  const float row[3] = {1, 2, 3};
  CHECK_THROWS_AS(bytes->write(row, 1), UsageError);
  CHECK_THROWS_AS(read_codes(tmp.file("x.fvecs")), UsageError);
}
