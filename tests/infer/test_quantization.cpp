// Quantized embeddings (quantization.h): hand-computed codes of the four kinds
// (sentence-transformers' formulas, truncation toward zero included), range
// edge cases (values at min and max, beyond them, a constant dimension),
// dequantization, and the ranges file.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/quantization.h"
#include "sentemb/vector_io.h"
#include "test_util.h"

using namespace sentemb;

namespace {

// One dimension from -1 to -1 + 255/128: step (max - min) / 255 = 1/128 exactly,
// so v = (x - min) * 128 is exact and the codes can be worked out by hand.
QuantizationRanges one_dim_ranges() {
  return {{-1.0f}, {-1.0f + 255.0f / 128.0f}};
}

// x at v = (x - min) / step.
float at_v(float v) {
  return -1.0f + v / 128.0f;
}

std::vector<int> codes_of(Quantization kind, const QuantizationRanges& ranges,
                          const std::vector<float>& values) {
  const Quantizer q(kind, ranges.dim(), ranges);
  std::vector<int> out;
  const std::size_t n = values.size() / ranges.dim();
  const std::vector<std::uint8_t> codes = q.quantize(values.data(), n);
  for (std::uint8_t c : codes)
    out.push_back(is_signed(kind) ? static_cast<int>(static_cast<std::int8_t>(c)) : c);
  return out;
}

}  // namespace

TEST_CASE("quantization names, signedness and code widths", "[quantization]") {
  CHECK(quantization_from_string("int8") == Quantization::kInt8);
  CHECK(quantization_from_string("ubinary") == Quantization::kUbinary);
  CHECK(to_string(Quantization::kBinary) == "binary");
  CHECK_THROWS_AS(quantization_from_string("int4"), UsageError);
  CHECK(is_signed(Quantization::kInt8));
  CHECK(is_signed(Quantization::kBinary));
  CHECK_FALSE(is_signed(Quantization::kUbinary));
  CHECK(code_width(Quantization::kInt8, 12) == 12);
  CHECK(code_width(Quantization::kUbinary, 256) == 32);
  CHECK_THROWS_WITH(code_width(Quantization::kBinary, 12), Catch::Contains("not a multiple of 8"));
}

TEST_CASE("uint8 and int8 codes follow sentence-transformers, truncating toward zero",
          "[quantization]") {
  const QuantizationRanges r = one_dim_ranges();
  // v:                 0 (min)  0.5   1     127.5  128   128.5  254.5  255 (max)
  const std::vector<float> x = {at_v(0),   at_v(0.5),   at_v(1),     at_v(127.5),
                                at_v(128), at_v(128.5), at_v(254.5), at_v(255)};
  // uint8 = trunc(v)
  CHECK(codes_of(Quantization::kUint8, r, x) == std::vector<int>{0, 0, 1, 127, 128, 128, 254, 255});
  // int8 = trunc(v - 128): -127.5 -> -127 and -0.5 -> 0, not floor(v) - 128.
  CHECK(codes_of(Quantization::kInt8, r, x) ==
        std::vector<int>{-128, -127, -127, 0, 0, 0, 126, 127});
}

TEST_CASE("values beyond the ranges saturate", "[quantization]") {
  const QuantizationRanges r = one_dim_ranges();
  const std::vector<float> x = {at_v(-3), at_v(-0.25f), at_v(255.5f), at_v(400)};
  CHECK(codes_of(Quantization::kUint8, r, x) == std::vector<int>{0, 0, 255, 255});
  CHECK(codes_of(Quantization::kInt8, r, x) == std::vector<int>{-128, -128, 127, 127});
}

TEST_CASE("a constant dimension codes its value as the lowest code", "[quantization]") {
  const QuantizationRanges r{{0.25f, -1.0f}, {0.25f, -1.0f + 255.0f / 128.0f}};
  // Rows of two dimensions: the first constant (step 0), the second scaled.
  const std::vector<float> x = {0.25f, at_v(10), 0.5f, at_v(10), 0.0f, at_v(10)};
  CHECK(codes_of(Quantization::kUint8, r, x) == std::vector<int>{0, 10, 255, 10, 0, 10});
  CHECK(codes_of(Quantization::kInt8, r, x) == std::vector<int>{-128, -118, 127, -118, -128, -118});
  // Dequantized, the constant dimension is its value.
  const Quantizer q(Quantization::kInt8, 2, r);
  const std::vector<std::uint8_t> codes = q.quantize(x.data(), 1);
  std::vector<float> back(2);
  dequantize(Quantization::kInt8, r, codes.data(), 1, back.data());
  CHECK(back[0] == 0.25f);
}

TEST_CASE("binary codes pack the sign bits high bit first", "[quantization]") {
  // Bits of row 0: 1001 0110 | 1111 1111 ; zero is not positive.
  const std::vector<float> x = {1, -1, 0, 2, -3, 4, 5, -6, .1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f,
                                // row 1: 0000 0001 | 1000 0000
                                -1, -1, -1, -1, -1, -1, -1, 1, 1, -1, -1, -1, -1, -1, -1, -1};
  const QuantizationRanges none;
  const Quantizer ubinary(Quantization::kUbinary, 16), binary(Quantization::kBinary, 16);
  CHECK(ubinary.width() == 2);
  const std::vector<std::uint8_t> u = ubinary.quantize(x.data(), 2);
  CHECK(std::vector<int>(u.begin(), u.end()) == std::vector<int>{0x96, 0xFF, 0x01, 0x80});
  // binary = ubinary - 128 as int8.
  const std::vector<std::uint8_t> b = binary.quantize(x.data(), 2);
  std::vector<int> signed_codes;
  for (std::uint8_t c : b) signed_codes.push_back(static_cast<std::int8_t>(c));
  CHECK(signed_codes == std::vector<int>{0x96 - 128, 0xFF - 128, 0x01 - 128, 0x80 - 128});
  CHECK_THROWS_AS(Quantizer(Quantization::kBinary, 12), UsageError);
}

TEST_CASE("bucket centres and dequantization", "[quantization]") {
  CHECK(bucket_center(Quantization::kUint8, 0) == 0.5f);
  CHECK(bucket_center(Quantization::kUint8, 254) == 254.5f);
  CHECK(bucket_center(Quantization::kUint8, 255) == 255.0f);
  auto int8 = [](int c) {
    return bucket_center(Quantization::kInt8, static_cast<std::uint8_t>(c));
  };
  CHECK(int8(-128) == 0.0f);
  CHECK(int8(-127) == 0.5f);  // v in (0, 1]
  CHECK(int8(-1) == 126.5f);  // v in (126, 127]
  CHECK(int8(0) == 128.0f);   // v in (127, 129)
  CHECK(int8(1) == 129.5f);   // v in [129, 130)
  CHECK(int8(127) == 255.0f);
  CHECK_THROWS_AS(bucket_center(Quantization::kBinary, 0), UsageError);

  // Every in-range value comes back within a step (uint8: half a step).
  const QuantizationRanges r = one_dim_ranges();
  for (float v = 0; v <= 255; v += 0.37f) {
    for (Quantization kind : {Quantization::kUint8, Quantization::kInt8}) {
      const float x = at_v(v);
      const Quantizer q(kind, 1, r);
      const std::vector<std::uint8_t> code = q.quantize(&x, 1);
      float back = 0;
      dequantize(kind, r, code.data(), 1, &back);
      const float tolerance = kind == Quantization::kUint8 ? 0.5f / 128 : 1.0f / 128;
      INFO("v " << v << " kind " << to_string(kind));
      CHECK(std::abs(back - x) <= tolerance * 1.0001f);
    }
  }
}

TEST_CASE("ranges: accumulated, saved and read back, bad files refused", "[quantization]") {
  RangeAccumulator acc(3);
  CHECK_THROWS_WITH(acc.ranges("cal.txt"),
                    Catch::Contains("cal.txt") && Catch::Contains("no sentences"));
  const std::vector<float> a = {1, -2, 3, 0.5f, 4, -1};
  acc.add(a.data(), 2);
  const std::vector<float> b = {-7, 0, 2};
  acc.add(b.data(), 1);
  const QuantizationRanges r = acc.ranges("cal.txt");
  CHECK(r.min == std::vector<float>{-7, -2, -1});
  CHECK(r.max == std::vector<float>{1, 4, 3});
  CHECK(acc.rows() == 3);

  test::TempDir tmp;
  const std::string path = tmp.file("ranges.npy");
  write_ranges(r, path);
  const QuantizationRanges back = read_ranges(path, 3);
  CHECK(back.min == r.min);
  CHECK(back.max == r.max);
  CHECK_THROWS_WITH(read_ranges(path, 4), Catch::Contains("width 3") && Catch::Contains("4"));
  CHECK_THROWS_AS(read_ranges(tmp.file("ranges.txt")), UsageError);

  // Three rows, and a minimum above its maximum.
  auto w = VectorWriter::open(tmp.file("three.npy"), VectorFormat::kNpy, 3);
  w->write(a.data(), 2);
  w->write(b.data(), 1);
  w->close();
  CHECK_THROWS_WITH(read_ranges(tmp.file("three.npy")), Catch::Contains("(2, dim)"));
  write_ranges({{0, 5, 0}, {1, 4, 1}}, tmp.file("inverted.npy"));
  CHECK_THROWS_WITH(read_ranges(tmp.file("inverted.npy")), Catch::Contains("dimension 1"));
  // A Quantizer needs ranges of its width.
  CHECK_THROWS_AS(Quantizer(Quantization::kInt8, 4, r), UsageError);
}
