// Nearest-neighbour search over quantized corpus vectors (`sentemb search
// --index` of a file that `sentemb encode --quantize` wrote), brute force:
//   int8, uint8      cosine of the float query with each row dequantized at its
//                    bucket centres (quantization.h): 4x smaller than float32.
//   binary, ubinary  Hamming distance h between the sign bits of the query and
//                    each row (popcount over 64-bit words), reported as the
//                    similarity 1 - 2h/dim, the cosine of the two ±1 sign
//                    vectors: 32x smaller.
// Rescoring (as sentence-transformers' semantic_search_*): the top N rows by the
// index are re-ranked by a finer score of the float query against
//   * the row's own bits as 0/1 values (binary only: query · unpackbits(row),
//     sentence-transformers' rescoring), or
//   * the same rows of another file: float32 vectors (exact cosine) or int8 /
//     uint8 codes (cosine with the dequantized row).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sentemb/encoder.h"
#include "sentemb/quantization.h"
#include "sentemb/search.h"
#include "sentemb/vector_io.h"

namespace sentemb {

// Hamming distances between one packed code of `width` bytes and each of the
// `rows` codes (rows, width): the number of differing bits.
void hamming_distances(const std::uint8_t* query, const std::uint8_t* codes, std::size_t rows,
                       int width, std::uint32_t* distances);

// The k smallest of n Hamming distances as hits, best first, ties in row
// order, scored 1 - 2h/dim: top_k by counting (distances are 0..dim), O(n).
std::vector<SearchHit> hamming_top_k(const std::uint32_t* distances, std::size_t n, std::size_t k,
                                     int dim);

// sentence-transformers' rescoring of a binary row: query · the row's bits as
// 0/1 values (np.unpackbits of the ubinary bytes; binary codes are flipped back
// first), over dim floats.
float dot_with_bits(const float* query, const std::uint8_t* code, Quantization kind, int dim);

// Quantized corpus vectors and their similarity to float queries.
class QuantizedIndex {
 public:
  // codes: (rows, code_width(kind, dim)) of kind's element type; ranges: for
  // int8 / uint8 (of width dim), ignored by the binary kinds. UsageError when
  // they do not fit.
  QuantizedIndex(Quantization kind, int dim, CodeMatrix codes, QuantizationRanges ranges = {});

  Quantization kind() const { return kind_; }
  int dim() const { return dim_; }
  std::size_t rows() const { return codes_.rows; }
  const CodeMatrix& codes() const { return codes_; }

  // The similarity of the query (dim floats; need not be unit length) to every
  // row, into scores (rows()): the cosine with the dequantized row, or 1 - 2h/dim.
  void scores(const float* query, float* scores) const;
  // The same for one row.
  float score(const float* query, std::size_t row) const;
  // Binary kinds: the Hamming distance of the query's sign bits to every row,
  // into distances (rows()). UsageError for int8 / uint8.
  void distances(const float* query, std::uint32_t* distances) const;

 private:
  // int8 / uint8: query · dequantized row = offset + Σ_j w_j center(c_j), with
  // w_j = q_j step_j and offset = Σ_j q_j min_j (computed per query).
  struct ScaledQuery {
    std::vector<float> weights;
    float offset = 0;
  };
  ScaledQuery scale(const float* unit_query) const;
  float scaled_score(const ScaledQuery& q, std::size_t row) const;

  Quantization kind_;
  int dim_;
  CodeMatrix codes_;
  QuantizationRanges ranges_;
  Quantizer query_quantizer_;        // binary kinds: the query's sign bits
  float center_[256] = {};           // int8 / uint8: bucket_center of each byte
  std::vector<float> step_;          // int8 / uint8: (dim)
  std::vector<float> inverse_norm_;  // int8 / uint8: 1 / |dequantized row| (0 for a zero row)
};

// Search over a QuantizedIndex, with optional rescoring of the top candidates.
class QuantizedSearch {
 public:
  // Scores a candidate row for a unit query, finer than the index does.
  using Rescorer = std::function<float(const float* unit_query, std::size_t row)>;

  explicit QuantizedSearch(QuantizedIndex index);
  // Re-rank the top `candidates` rows (>= 1) of each search by `rescorer`; an
  // empty one: sentence-transformers' rescoring of a binary index by the row's
  // own bits (dot_with_bits; UsageError for int8 / uint8 indexes).
  void set_rescoring(std::size_t candidates, Rescorer rescorer = {});

  const QuantizedIndex& index() const { return index_; }
  std::size_t rescore_candidates() const { return candidates_; }

  // The k best rows for the query (dim floats), best first: by the index's
  // score, ties in row order; with rescoring, the max(k, candidates) best so,
  // re-ranked by the rescorer (ties in that order) and cut to k.
  std::vector<SearchHit> search(const float* query, std::size_t k) const;
  // The 1-based rank of `row` in the order search() returns, ties counted
  // against it (retrieval evaluation, as rank_of_correct): among the rescored
  // candidates by its rescored score, else by the index's score.
  std::size_t rank_of(const float* query, std::size_t row) const;

 private:
  std::vector<float> unit(const float* query) const;
  // The k best rows by the index's own score (ties in row order).
  std::vector<SearchHit> best_by_index(const float* unit_query, std::size_t k) const;
  float rescore(const float* unit_query, std::size_t row) const;

  QuantizedIndex index_;
  std::size_t candidates_ = 0;  // 0: no rescoring
  Rescorer rescorer_;           // empty with candidates: the index's own bits
};

// search() for a query sentence, encoded with `encoder`.
std::vector<SearchHit> search(Encoder& encoder, const QuantizedSearch& quantized,
                              const std::string& query, std::size_t k);

// Rescorers over the rows of a corpus: float32 vectors (rows scaled to unit
// length here; cosine), or another quantized index (its score()). The vectors
// are moved into the rescorer.
QuantizedSearch::Rescorer float_rescorer(VectorMatrix vectors);
QuantizedSearch::Rescorer index_rescorer(QuantizedIndex index);

// True if the file holds quantized codes: an npy of dtype '|i1' or '|u1', a
// .bvecs or an .i8vecs file.
bool is_quantized_vector_file(const std::string& path);

// The quantization of codes of width W made from vectors of width dim: int8 /
// uint8 when W = dim, binary / ubinary when 8W = dim, by the element type.
// UsageError naming `codes_path` and `model_path` otherwise (another model).
Quantization quantization_of(const CodeMatrix& codes, int dim, const std::string& codes_path,
                             const std::string& model_path);

// Files of a quantized search (`sentemb search --index ... --ranges ...`).
struct QuantizedSearchFiles {
  std::string index;          // codes: .npy (|i1, |u1), .bvecs, .i8vecs
  std::string ranges;         // the ranges of int8 / uint8 codes (index or rescore_index)
  std::size_t rescore = 0;    // candidates to rescore; 0: none
  std::string rescore_index;  // float32 or int8 / uint8 vectors of the same rows; empty:
                              // the index's own bits (binary only)
};

// Loads and checks the files against the corpus and the model (as check_index:
// the row count must be the corpus's line count, the width the model's), with
// errors naming the files and options.
QuantizedSearch load_quantized_search(const QuantizedSearchFiles& files, std::size_t corpus_lines,
                                      int model_dim, const std::string& corpus_path,
                                      const std::string& model_path);

}  // namespace sentemb
