// Embedding files: streaming writers for npy / fvecs / bvecs / i8vecs / tsv /
// jsonl and readers for npy, fvecs, bvecs and i8vecs. A writer takes rows a
// window at a time, so encoding a large corpus never holds all of its vectors
// in memory (except npy to a pipe, below).
//
// Elements are float32 embeddings or the bytes of quantized ones (int8 or
// uint8, see quantization.h). File layouts (little-endian):
//   npy    NumPy format v1.0, array of shape (N, D), C order, dtype '<f4',
//          '|i1' or '|u1'. The header is always 128 bytes: "\x93NUMPY" 0x01
//          0x00, uint16 header length 118, then "{'descr': '<f4',
//          'fortran_order': False, 'shape': (N, D), }" padded with spaces and
//          ending in '\n'. N is patched in at close(), so the output must be
//          seekable; to a pipe the rows are buffered in memory and written at
//          close().
//   fvecs  per vector: int32 D, then D float32 (the TEXMEX / faiss layout).
//   bvecs  per vector: int32 D, then D uint8 (TEXMEX / faiss, e.g. SIFT1B).
//   i8vecs per vector: int32 D, then D int8: bvecs' layout for signed bytes.
//   tsv    per vector: one line, D numbers separated by tabs: floats as the
//          shortest decimal that reads back as the same float32, bytes as
//          integers (-128..127 or 0..255).
//   jsonl  per vector: {"text": "...", "embedding": [x, ...]} on one line.
// Binary quantized vectors are stored as their packed bytes: D is then the
// number of bytes, a eighth of the embedding's width.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sentemb {

enum class VectorFormat { kNpy, kFvecs, kTsv, kJsonl, kBvecs, kI8vecs };

// "npy", "fvecs", "tsv", "jsonl", "bvecs", "i8vecs"; throws UsageError otherwise.
VectorFormat vector_format_from_string(const std::string& name);
std::string to_string(VectorFormat format);
// The accepted names, comma separated, for help and error messages.
std::string vector_format_names();
// From a file name's suffix: .npy, .fvecs, .bvecs, .i8vecs, .tsv / .txt,
// .jsonl / .json. nullopt for "-" and for unknown suffixes.
std::optional<VectorFormat> vector_format_from_path(const std::string& path);

// The element type of a vector file: float32, or int8 / uint8 codes.
enum class ElementType { kFloat32, kInt8, kUint8 };
// "float32", "int8", "uint8".
std::string to_string(ElementType type);
// UsageError unless `format` can hold `type`: fvecs float32 only, bvecs uint8
// only, i8vecs int8 only; npy, tsv and jsonl any. The message names the format
// to use instead.
void check_format_holds(VectorFormat format, ElementType type);

// Writes N vectors of a fixed width D, a window of rows at a time.
//   auto w = VectorWriter::open("out.npy", VectorFormat::kNpy, 256);
//   w->write(rows, n, texts);  // any number of times
//   w->close();
// A writer of int8 / uint8 elements (open with that ElementType) takes bytes,
// write_codes(), instead of floats.
// A writer destroyed without close() (e.g. while an exception unwinds) closes
// its file and removes it, so no half-written output with a wrong shape is left
// behind; stdout is just flushed.
class VectorWriter {
 public:
  // path "-" writes stdout (messages then name it "<stdout>"). Throws IoError
  // naming the path if it cannot be created, UsageError if dim < 1 or the
  // format cannot hold the type (check_format_holds).
  static std::unique_ptr<VectorWriter> open(const std::string& path, VectorFormat format, int dim,
                                            ElementType type = ElementType::kFloat32);

  virtual ~VectorWriter();
  VectorWriter(const VectorWriter&) = delete;
  VectorWriter& operator=(const VectorWriter&) = delete;

  // rows: (n, dim) row-major. texts: empty, or one per row; jsonl needs them
  // (UsageError otherwise), the other formats ignore them. Throws IoError
  // naming the path when the write fails (e.g. disk full).
  void write(const float* rows, std::size_t n, const std::vector<std::string>& texts = {});
  // The same for a writer of int8 / uint8 elements: codes (n, dim) bytes, int8
  // as their two's-complement bytes. UsageError for a float32 writer, and
  // write() for a byte one.
  void write_codes(const std::uint8_t* codes, std::size_t n,
                   const std::vector<std::string>& texts = {});
  // Finalises the file (npy: patches the row count) and closes it. Throws
  // IoError naming the path. Further calls do nothing.
  void close();

  const std::string& path() const { return path_; }
  VectorFormat format() const { return format_; }
  int dim() const { return dim_; }
  ElementType element_type() const { return type_; }
  std::size_t rows_written() const { return rows_written_; }

 protected:
  VectorWriter(std::string path, VectorFormat format, int dim, ElementType type);
  // rows: (n, dim) elements of element_type().
  virtual void write_rows(const void* rows, std::size_t n,
                          const std::vector<std::string>& texts) = 0;
  virtual void finish() = 0;  // called once by close(): flush, patch, close

 private:
  std::string path_;
  void write_elements(const void* rows, ElementType type, std::size_t n,
                      const std::vector<std::string>& texts);

  VectorFormat format_;
  int dim_;
  ElementType type_;
  std::size_t rows_written_ = 0;
  bool closed_ = false;
};

// A (rows, dim) float32 matrix, row-major.
struct VectorMatrix {
  std::size_t rows = 0;
  int dim = 0;
  std::vector<float> data;  // (rows, dim)

  const float* row(std::size_t i) const { return data.data() + i * static_cast<std::size_t>(dim); }
  float* row(std::size_t i) { return data.data() + i * static_cast<std::size_t>(dim); }
};

// Reads a 2-D NumPy array of dtype float32 (or float64, converted), C order,
// format version 1.0 to 3.0. Throws IoError naming the path if the file cannot
// be read, is not such an array, or is truncated.
VectorMatrix read_npy(const std::string& path);
// Reads an fvecs file; every vector must have the same width. An empty file
// gives rows = 0, dim = 0. Throws like read_npy.
VectorMatrix read_fvecs(const std::string& path);
// read_npy or read_fvecs by the file's suffix; UsageError for other suffixes.
VectorMatrix read_vectors(const std::string& path);

// A (rows, width) matrix of int8 or uint8 codes (int8 as their two's-complement
// bytes), row-major.
struct CodeMatrix {
  std::size_t rows = 0;
  int width = 0;
  ElementType type = ElementType::kUint8;
  std::vector<std::uint8_t> data;  // (rows, width)

  const std::uint8_t* row(std::size_t i) const {
    return data.data() + i * static_cast<std::size_t>(width);
  }
};

// The element type of a vector file: an npy's dtype ('<f4' and '<f8' are
// float32), else by suffix (.fvecs float32, .bvecs uint8, .i8vecs int8). IoError
// naming the path for an unreadable npy, UsageError for another suffix.
ElementType vector_file_element_type(const std::string& path);
// Reads codes: a 2-D npy of dtype '|i1' or '|u1' (C order), a .bvecs or an
// .i8vecs file. Throws like read_npy.
CodeMatrix read_codes(const std::string& path);

}  // namespace sentemb
