// Embedding files: streaming writers for npy / fvecs / tsv / jsonl and readers
// for npy and fvecs. A writer takes rows a window at a time, so encoding a large
// corpus never holds all of its vectors in memory (except npy to a pipe, below).
//
// File layouts (all little-endian float32):
//   npy    NumPy format v1.0, float32 array of shape (N, D), C order. The header
//          is always 128 bytes: "\x93NUMPY" 0x01 0x00, uint16 header length 118,
//          then "{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }"
//          padded with spaces and ending in '\n'. N is patched in at close(),
//          so the output must be seekable; to a pipe the rows are buffered in
//          memory and written at close().
//   fvecs  per vector: int32 D, then D float32 (the TEXMEX / faiss layout).
//   tsv    per vector: one line, D floats separated by tabs, each the shortest
//          decimal that reads back as the same float32.
//   jsonl  per vector: {"text": "...", "embedding": [f, ...]} on one line.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sentemb {

enum class VectorFormat { kNpy, kFvecs, kTsv, kJsonl };

// "npy", "fvecs", "tsv", "jsonl"; throws UsageError otherwise.
VectorFormat vector_format_from_string(const std::string& name);
std::string to_string(VectorFormat format);
// The accepted names, comma separated, for help and error messages.
std::string vector_format_names();
// From a file name's suffix: .npy, .fvecs, .tsv / .txt, .jsonl / .json.
// nullopt for "-" and for unknown suffixes.
std::optional<VectorFormat> vector_format_from_path(const std::string& path);

// Writes N vectors of a fixed width D, a window of rows at a time.
//   auto w = VectorWriter::open("out.npy", VectorFormat::kNpy, 256);
//   w->write(rows, n, texts);  // any number of times
//   w->close();
// A writer destroyed without close() (e.g. while an exception unwinds) closes
// its file and removes it, so no half-written output with a wrong shape is left
// behind; stdout is just flushed.
class VectorWriter {
 public:
  // path "-" writes stdout (messages then name it "<stdout>"). Throws IoError
  // naming the path if it cannot be created, UsageError if dim < 1.
  static std::unique_ptr<VectorWriter> open(const std::string& path, VectorFormat format, int dim);

  virtual ~VectorWriter();
  VectorWriter(const VectorWriter&) = delete;
  VectorWriter& operator=(const VectorWriter&) = delete;

  // rows: (n, dim) row-major. texts: empty, or one per row; jsonl needs them
  // (UsageError otherwise), the other formats ignore them. Throws IoError
  // naming the path when the write fails (e.g. disk full).
  void write(const float* rows, std::size_t n, const std::vector<std::string>& texts = {});
  // Finalises the file (npy: patches the row count) and closes it. Throws
  // IoError naming the path. Further calls do nothing.
  void close();

  const std::string& path() const { return path_; }
  VectorFormat format() const { return format_; }
  int dim() const { return dim_; }
  std::size_t rows_written() const { return rows_written_; }

 protected:
  VectorWriter(std::string path, VectorFormat format, int dim);
  virtual void write_rows(const float* rows, std::size_t n,
                          const std::vector<std::string>& texts) = 0;
  virtual void finish() = 0;  // called once by close(): flush, patch, close

 private:
  std::string path_;
  VectorFormat format_;
  int dim_;
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

}  // namespace sentemb
