#include "sentemb/quantization.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"
#include "sentemb/vector_io.h"

namespace sentemb {

Quantization quantization_from_string(const std::string& name) {
  if (name == "int8") return Quantization::kInt8;
  if (name == "uint8") return Quantization::kUint8;
  if (name == "binary") return Quantization::kBinary;
  if (name == "ubinary") return Quantization::kUbinary;
  throw UsageError(
      fmt::format("unknown quantization '{}' (expected int8, uint8, binary or ubinary)", name));
}

std::string to_string(Quantization kind) {
  switch (kind) {
    case Quantization::kInt8:
      return "int8";
    case Quantization::kUint8:
      return "uint8";
    case Quantization::kBinary:
      return "binary";
    case Quantization::kUbinary:
      return "ubinary";
  }
  return "?";
}

bool is_binary(Quantization kind) {
  return kind == Quantization::kBinary || kind == Quantization::kUbinary;
}

bool is_signed(Quantization kind) {
  return kind == Quantization::kInt8 || kind == Quantization::kBinary;
}

int code_width(Quantization kind, int dim) {
  if (!is_binary(kind)) return dim;
  if (dim % 8 != 0)
    throw UsageError(fmt::format(
        "{} quantization packs 8 dimensions a byte: width {} is not a multiple of 8 (choose "
        "one with --dim)",
        to_string(kind), dim));
  return dim / 8;
}

// ---------------------------------------------------------------------------
// Ranges

RangeAccumulator::RangeAccumulator(int dim) {
  ranges_.min.assign(dim, std::numeric_limits<float>::infinity());
  ranges_.max.assign(dim, -std::numeric_limits<float>::infinity());
}

void RangeAccumulator::add(const float* rows, std::size_t n) {
  const int dim = ranges_.dim();
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = rows + i * dim;
    for (int j = 0; j < dim; ++j) {
      ranges_.min[j] = std::min(ranges_.min[j], row[j]);
      ranges_.max[j] = std::max(ranges_.max[j], row[j]);
    }
  }
  rows_ += n;
}

QuantizationRanges RangeAccumulator::ranges(const std::string& source) const {
  if (rows_ == 0)
    throw Error(fmt::format("{}: no sentences to calibrate the quantization ranges on", source));
  return ranges_;
}

QuantizationRanges calibrate_ranges(Encoder& encoder, const std::string& path,
                                    const ProgressCallback& on_progress) {
  // A line keeps only a little more than the tokenizer reads of it.
  ReaderOptions options;
  options.max_text_bytes = Tokenizer::max_input_bytes(encoder.config().max_len) + 4;
  CorpusReader reader(path, CorpusFormat::kText, options);
  RangeAccumulator ranges(encoder.dim());
  encode_stream(encoder, reader, [&](const std::vector<std::string>& texts, const float* vectors) {
    ranges.add(vectors, texts.size());
    if (on_progress) on_progress(texts.size());
  });
  return ranges.ranges(path == "-" ? "<stdin>" : path);
}

QuantizationRanges read_or_calibrate_ranges(Encoder& encoder, const std::string& ranges_path,
                                            const std::string& calibration_path,
                                            const ProgressCallback& on_progress) {
  if (!ranges_path.empty()) return read_ranges(ranges_path, encoder.dim());
  return calibrate_ranges(encoder, calibration_path, on_progress);
}

void write_ranges(const QuantizationRanges& ranges, const std::string& path) {
  auto writer = VectorWriter::open(path, VectorFormat::kNpy, ranges.dim());
  writer->write(ranges.min.data(), 1);
  writer->write(ranges.max.data(), 1);
  writer->close();
}

QuantizationRanges read_ranges(const std::string& path, int expected_dim) {
  if (vector_format_from_path(path) != VectorFormat::kNpy)
    throw UsageError(fmt::format(
        "ranges file {}: expected a .npy file of shape (2, dim) (written by `sentemb encode "
        "--save-ranges`)",
        path));
  const VectorMatrix m = read_npy(path);
  if (m.rows != 2)
    throw IoError(fmt::format(
        "ranges file {}: shape ({}, {}), expected (2, dim): row 0 the minima, row 1 the maxima",
        path, m.rows, m.dim));
  if (expected_dim > 0 && m.dim != expected_dim)
    throw UsageError(fmt::format(
        "ranges file {} has width {} but the vectors have width {}; it was calibrated with "
        "another model",
        path, m.dim, expected_dim));
  QuantizationRanges r;
  r.min.assign(m.row(0), m.row(0) + m.dim);
  r.max.assign(m.row(1), m.row(1) + m.dim);
  for (int j = 0; j < m.dim; ++j) {
    if (!std::isfinite(r.min[j]) || !std::isfinite(r.max[j]) || r.min[j] > r.max[j])
      throw IoError(fmt::format("ranges file {}: dimension {} has min {} and max {}", path, j,
                                r.min[j], r.max[j]));
  }
  return r;
}

// ---------------------------------------------------------------------------
// Quantizer

Quantizer::Quantizer(Quantization kind, int dim, QuantizationRanges ranges)
    : kind_(kind), dim_(dim), width_(code_width(kind, dim)), ranges_(std::move(ranges)) {
  if (is_binary(kind_)) return;
  if (ranges_.dim() != dim_)
    throw UsageError(fmt::format("{} quantization of width {} needs ranges of that width, not {}",
                                 to_string(kind_), dim_, ranges_.dim()));
  step_.resize(dim_);
  // float32 as in numpy: ranges and embeddings are float32 arrays there.
  for (int j = 0; j < dim_; ++j) step_[j] = (ranges_.max[j] - ranges_.min[j]) / 255.0f;
}

void Quantizer::quantize(const float* rows, std::size_t n, std::uint8_t* codes) const {
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = rows + i * dim_;
    std::uint8_t* code = codes + i * width_;
    if (is_binary(kind_))
      quantize_signs(row, code);
    else
      quantize_scaled(row, code);
  }
}

std::vector<std::uint8_t> Quantizer::quantize(const float* rows, std::size_t n) const {
  std::vector<std::uint8_t> codes(n * width_);
  quantize(rows, n, codes.data());
  return codes;
}

CodeMatrix Quantizer::quantize_matrix(const float* rows, std::size_t n) const {
  CodeMatrix codes;
  codes.rows = n;
  codes.width = width_;
  codes.type = element_type();
  codes.data = quantize(rows, n);
  return codes;
}

ElementType Quantizer::element_type() const {
  return is_signed(kind_) ? ElementType::kInt8 : ElementType::kUint8;
}

void Quantizer::quantize_scaled(const float* row, std::uint8_t* code) const {
  // int8 shifts v by 128 before truncating toward zero, as numpy's
  // ((x - starts) / steps - 128).astype(np.int8) does; uint8 truncates v itself.
  const float shift = kind_ == Quantization::kInt8 ? 128.0f : 0.0f;
  const float lowest = -shift, highest = 255.0f - shift;
  for (int j = 0; j < dim_; ++j) {
    float u = (row[j] - ranges_.min[j]) / step_[j] - shift;
    // NaN: 0 / 0, a value equal to a constant dimension's min (or a NaN input).
    if (std::isnan(u)) u = lowest;
    u = std::clamp(u, lowest, highest);
    const int c = static_cast<int>(u);       // truncates toward zero
    code[j] = static_cast<std::uint8_t>(c);  // int8: its two's-complement byte
  }
}

void Quantizer::quantize_signs(const float* row, std::uint8_t* code) const {
  // np.packbits: dimension 8b + i is bit 7 - i of byte b. binary = ubinary - 128
  // as int8, which is the same byte with bit 7 flipped.
  const std::uint8_t flip = kind_ == Quantization::kBinary ? 0x80 : 0x00;
  for (int b = 0; b < width_; ++b) {
    unsigned byte = 0;
    for (int i = 0; i < 8; ++i) byte = (byte << 1) | (row[8 * b + i] > 0.0f ? 1u : 0u);
    code[b] = static_cast<std::uint8_t>(byte ^ flip);
  }
}

// ---------------------------------------------------------------------------
// Dequantization

float bucket_center(Quantization kind, std::uint8_t code_byte) {
  if (kind == Quantization::kUint8) return code_byte == 255 ? 255.0f : code_byte + 0.5f;
  if (kind != Quantization::kInt8)
    throw UsageError(fmt::format("{} codes have no buckets to dequantize", to_string(kind)));
  // v - 128 truncated toward zero: code c < 0 holds v - 128 in (c - 1, c], code 0
  // holds (-1, 1), code c > 0 holds [c, c + 1); -128 and 127 only v = 0 and 255
  // (values beyond the ranges saturate there).
  const int c = static_cast<std::int8_t>(code_byte);
  if (c == -128) return 0.0f;
  if (c == 127) return 255.0f;
  if (c < 0) return c + 127.5f;
  if (c == 0) return 128.0f;
  return c + 128.5f;
}

void dequantize(Quantization kind, const QuantizationRanges& ranges, const std::uint8_t* codes,
                std::size_t n, float* rows) {
  const int dim = ranges.dim();
  float center[256];
  for (int c = 0; c < 256; ++c) center[c] = bucket_center(kind, static_cast<std::uint8_t>(c));
  for (std::size_t i = 0; i < n; ++i) {
    for (int j = 0; j < dim; ++j) {
      const float step = (ranges.max[j] - ranges.min[j]) / 255.0f;
      rows[i * dim + j] = ranges.min[j] + center[codes[i * dim + j]] * step;
    }
  }
}

}  // namespace sentemb
