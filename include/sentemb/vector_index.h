// An approximate (or exact) nearest-neighbour index over a corpus's vectors, for
// corpora too large for brute-force search (search.h): a faiss index (flat, HNSW or
// IVF, optionally with SQ8 or PQ codes) under the inner product of unit vectors, so
// its scores are cosines. `sentemb index build` writes it, `sentemb search --index
// C.index` reads it.
//
// Two files: PATH is the faiss index itself, written by faiss::write_index, so
// faiss's own bindings load it as is (Python: faiss.read_index(PATH)); its rows
// are the corpus lines in order (row i = line i + 1). PATH.json says what it was
// built from (model checksum, width, corpus, line count, checksum of the lines,
// kind), so a search with another model or an edited corpus is an error, not
// silently wrong lines.
//
// The library sentemb_index holds this (src/index/); faiss is not a dependency of
// the inference library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/search.h"

namespace sentemb {

enum class IndexKind { kFlat, kHnsw, kIvf };

// "flat", "hnsw", "ivf"; UsageError naming the option otherwise.
IndexKind index_kind_from_string(const std::string& name);
std::string to_string(IndexKind kind);

// How an index is built.
struct IndexSpec {
  IndexKind kind = IndexKind::kHnsw;
  // How vectors are stored: "none" (float32), "sq8" (one byte a dimension), or
  // "pqM" (product quantization, M bytes a vector; M divides the width; flat and
  // ivf only).
  std::string quantize = "none";
  int hnsw_m = 32;            // HNSW: neighbours per node (2 * M on layer 0)
  int ef_construction = 200;  // HNSW: candidate list while inserting
  // IVF: inverted lists (k-means cells); 0: 4 * sqrt(rows), at least 1, at most rows.
  int ivf_lists = 0;
  // Vectors IVF / SQ / PQ train on: the first this many corpus lines (at most all);
  // 0: max(64 * lists, 10000), at most 200,000.
  std::size_t train_size = 0;
  int threads = 0;  // OpenMP threads for building (0: all cores / OMP_NUM_THREADS)
};

// The faiss index_factory description of a spec for vectors of width `dim`, e.g.
// "HNSW32", "HNSW32_SQ8", "IVF1024,PQ32", "Flat". `rows`: the corpus size (for the
// default IVF list count). UsageError for a bad quantize name, a PQ width that does
// not divide dim, HNSW over PQ, or non-positive sizes.
std::string faiss_description(const IndexSpec& spec, int dim, std::size_t rows);
// The IVF list count a spec gives for `rows` vectors (its ivf_lists, or the default).
int ivf_list_count(const IndexSpec& spec, std::size_t rows);

// What an index was built from: the contents of PATH.json.
struct IndexMeta {
  std::string kind;            // to_string(IndexKind)
  std::string quantize;        // IndexSpec::quantize
  std::string description;     // the faiss index_factory string
  std::string model;           // the model file's path at build time
  std::string model_checksum;  // the model file's own checksum (its last 8 bytes), hex
  int dim = 0;
  std::string precision;  // the encoder's precision (fp32, bf16, int8)
  std::string corpus;     // the corpus path at build time
  std::size_t corpus_lines = 0;
  std::string corpus_checksum;  // corpus_checksum() of its lines, hex
  int hnsw_m = 0, ef_construction = 0, ivf_lists = 0;
  std::size_t train_size = 0;

  std::string to_json() const;
  // Throws ModelFileError naming `source` for malformed JSON or missing fields.
  static IndexMeta from_json(const std::string& text, const std::string& source);
};

// The checksum a model file stores of itself (its last 8 bytes, over every byte
// before them), as 16 hex digits: identifies the model, whatever its path. IoError
// if unreadable, ModelFileError if too short to be a model file.
std::string model_file_checksum(const std::string& model_path);

// A 64-bit FNV-1a of lines, each followed by '\n', as 16 hex digits; incremental.
class LineChecksum {
 public:
  void add(const std::string& line);
  std::string hex() const;

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};
std::string corpus_checksum(const std::vector<std::string>& lines);

// Whether `search --index PATH` means a faiss index (this header) rather than
// vectors for brute-force search: true unless PATH ends in a vector file's suffix
// (.npy, .fvecs, .bvecs, .i8vecs, .tsv, .jsonl).
bool is_faiss_index_path(const std::string& path);

// The path of an index's metadata: index_path + ".json".
std::string index_meta_path(const std::string& index_path);

struct IndexBuildResult {
  IndexMeta meta;
  std::size_t vectors = 0;
  double train_seconds = 0, add_seconds = 0;
  std::uint64_t index_bytes = 0;  // the size of the faiss file written
};

// Encodes `corpus_path` (plain text, one sentence per line) with `encoder` a
// window (kEncodeWindow) at a time and adds the unit vectors to a new index of
// `spec`, training IVF / SQ / PQ first on the first spec.train_size lines (they
// are held until then; apart from that and the index itself memory stays one
// window). Writes out_path (via out_path.tmp, renamed when complete) and
// index_meta_path(out_path). on_progress: lines encoded. model_path is recorded.
IndexBuildResult build_index(Encoder& encoder, const std::string& model_path,
                             const std::string& corpus_path, const IndexSpec& spec,
                             const std::string& out_path, const ProgressCallback& on_progress = {});

// Search-time knobs; 0 keeps the index's own setting.
struct IndexSearchOptions {
  int ef_search = 0;  // HNSW: candidate list while searching (at least k is used); default 64
  int nprobe = 0;     // IVF: lists visited; default 16 (at most the list count)
  int threads = 0;    // OpenMP threads (0: the caller's count)
};

// An index opened for search: the faiss index and its metadata.
class VectorIndex {
 public:
  // Reads index_path and its metadata; IoError / ModelFileError naming the file
  // when either is missing or unreadable, or the two disagree (row count, width).
  static VectorIndex open(const std::string& index_path);
  // From vectors in memory (rows unit length, or normalised here): for tests and
  // benchmarks. meta gets kind, quantize, description, dim and corpus_lines.
  static VectorIndex build(const float* rows, std::size_t n, int dim, const IndexSpec& spec);
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;
  ~VectorIndex();

  const IndexMeta& meta() const;
  std::size_t size() const;
  // Writes the faiss index to path (no metadata); IoError naming it on failure.
  void write(const std::string& path) const;

  // UsageError unless the index was built with the model at model_path (same
  // checksum), at the width `dim`, from a corpus of these lines (count and
  // checksum); each message names the index, the corpus or the model and says
  // how to rebuild. A different precision is not an error (the vectors differ by
  // rounding): it is returned as a warning ("" when none).
  std::string check_matches(const std::string& model_path, int dim, const std::string& precision,
                            const std::vector<std::string>& corpus_lines,
                            const std::string& corpus_path) const;

  // The k rows nearest the query (dim floats, need not be unit length) by cosine,
  // best first, equal scores in row order. Fewer than k when the index has fewer
  // rows (or, approximate indexes, finds fewer).
  std::vector<SearchHit> search(const float* query, std::size_t k,
                                const IndexSearchOptions& options = {}) const;
  // The same for a query sentence, encoded with `encoder`.
  std::vector<SearchHit> search(Encoder& encoder, const std::string& query, std::size_t k,
                                const IndexSearchOptions& options = {}) const;

 private:
  struct Impl;
  explicit VectorIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentemb
