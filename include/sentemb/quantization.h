// Quantized embeddings, with the semantics of sentence-transformers'
// `quantize_embeddings` (sentence_transformers/quantization.py):
//
//   int8, uint8  each dimension j is cut into 256 buckets between the ranges
//                min_j and max_j (calibrated on a set of embeddings), in float32:
//                  step_j = (max_j - min_j) / 255
//                  v      = (x_j - min_j) / step_j
//                  uint8  = trunc(v)            (numpy's astype(np.uint8))
//                  int8   = trunc(v - 128)      (numpy's astype(np.int8))
//                Truncation is toward zero, so int8 is not uint8 - 128: v = 0.5
//                gives uint8 0 but int8 -127 (the int8 buckets below code 0 are
//                (k-1, k] in v, above it [k, k+1), and code 0 spans (127, 129)).
//   binary,      the sign bits x_j > 0, packed 8 dimensions a byte, the first
//   ubinary      dimension in the high bit (np.packbits); ubinary is that byte,
//                binary the byte - 128 as int8 (the same bits with the top one
//                flipped). The width must be a multiple of 8.
//
// Where sentence-transformers' numpy cast is undefined, sentemb decides:
// values outside the ranges saturate (v clamped to [0, 255]) instead of
// wrapping around, and a constant dimension (min = max, step 0) codes every
// value at or below min as the lowest code, above it as the highest.
//
// The ranges of a corpus must also quantize its queries, so they are a file of
// their own: a (2, dim) float32 .npy, row 0 the minima, row 1 the maxima: the
// `ranges` argument of quantize_embeddings (np.load it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/vector_io.h"

namespace sentemb {

enum class Quantization { kInt8, kUint8, kBinary, kUbinary };

// "int8", "uint8", "binary", "ubinary"; UsageError otherwise.
Quantization quantization_from_string(const std::string& name);
std::string to_string(Quantization kind);
// binary, ubinary: one bit per dimension.
bool is_binary(Quantization kind);
// int8, binary: signed bytes (npy '|i1'); uint8, ubinary: unsigned ('|u1').
bool is_signed(Quantization kind);
// Bytes per vector of width dim: dim, or dim / 8 for the binary kinds
// (UsageError naming the width when dim is not a multiple of 8).
int code_width(Quantization kind, int dim);

// Per-dimension calibration ranges of int8 / uint8 quantization.
struct QuantizationRanges {
  std::vector<float> min, max;  // (dim) each
  int dim() const { return static_cast<int>(min.size()); }
};

// The minimum and maximum of every dimension over the rows added, a window at a time.
class RangeAccumulator {
 public:
  explicit RangeAccumulator(int dim);
  void add(const float* rows, std::size_t n);  // (n, dim)
  std::size_t rows() const { return rows_; }
  // Error naming `source` when no rows were added (nothing to calibrate on).
  QuantizationRanges ranges(const std::string& source) const;

 private:
  QuantizationRanges ranges_;
  std::size_t rows_ = 0;
};

// The ranges of the sentences of a text file (one a line; "-": stdin) encoded
// with `encoder`, streamed (memory holds one window); on_progress told the
// sentences done. Error naming the file when it holds no sentence.
QuantizationRanges calibrate_ranges(Encoder& encoder, const std::string& path,
                                    const ProgressCallback& on_progress = {});
// read_ranges(ranges_path, encoder.dim()) when ranges_path is given, else
// calibrate_ranges(encoder, calibration_path, on_progress).
QuantizationRanges read_or_calibrate_ranges(Encoder& encoder, const std::string& ranges_path,
                                            const std::string& calibration_path,
                                            const ProgressCallback& on_progress = {});

// Writes ranges as a (2, dim) float32 .npy; IoError naming the path.
void write_ranges(const QuantizationRanges& ranges, const std::string& path);
// Reads a ranges file (a (2, dim) float32 or float64 .npy). Error naming the
// path when it is not one, when a minimum is above its maximum or not finite,
// or when dim is not `expected_dim` (> 0: the model's width).
QuantizationRanges read_ranges(const std::string& path, int expected_dim = 0);

// Quantizes (n, dim) float rows into (n, code_width(kind, dim)) bytes (int8
// codes as their two's-complement bytes). ranges: needed by int8 / uint8
// (its dim must be dim: UsageError), ignored by the binary kinds.
class Quantizer {
 public:
  Quantizer(Quantization kind, int dim, QuantizationRanges ranges = {});
  void quantize(const float* rows, std::size_t n, std::uint8_t* codes) const;
  std::vector<std::uint8_t> quantize(const float* rows, std::size_t n) const;

  // The codes as a matrix of their element type (int8 or uint8).
  CodeMatrix quantize_matrix(const float* rows, std::size_t n) const;

  Quantization kind() const { return kind_; }
  int dim() const { return dim_; }
  int width() const { return width_; }  // bytes per vector
  ElementType element_type() const;
  const QuantizationRanges& ranges() const { return ranges_; }

 private:
  void quantize_scaled(const float* row, std::uint8_t* code) const;
  void quantize_signs(const float* row, std::uint8_t* code) const;

  Quantization kind_;
  int dim_, width_;
  QuantizationRanges ranges_;
  std::vector<float> step_;  // (dim): (max - min) / 255, int8 / uint8 only
};

// The bucket of an int8 / uint8 code as a value of v = (x - min) / step: the
// middle of the v interval that truncates to the code (see the top of this
// file: int8 code 0 is 128, uint8 code c is c + 0.5). Dequantizing is
// x = min + bucket_center(code) * step.
float bucket_center(Quantization kind, std::uint8_t code_byte);
// int8 / uint8 codes (n, dim) back to floats (n, dim) at their bucket centres
// (a constant dimension gives its min).
void dequantize(Quantization kind, const QuantizationRanges& ranges, const std::uint8_t* codes,
                std::size_t n, float* rows);

}  // namespace sentemb
