// Nearest-neighbour search (`sentemb search`): the corpus lines most similar to
// a query by cosine similarity, brute force over the whole corpus (fine up to
// millions of lines). The corpus vectors are encoded now or read from an index
// written by `sentemb encode`, checked against the corpus and the model.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/vector_io.h"

namespace sentemb {

struct SearchHit {
  std::size_t index = 0;  // the corpus row (line)
  float score = 0;
};

// The k highest of n scores, best first; equal scores in index order. k larger
// than n gives all n. O(n log k) via a partial sort.
std::vector<SearchHit> top_k(const float* scores, std::size_t n, std::size_t k);

// Checks vectors read from an index against the corpus and the model they are
// to serve: UsageError when the index has another number of rows than the
// corpus has lines, or (rows > 0) another width than the model makes; the
// messages name the three files. An empty index takes the model's width.
void check_index(VectorMatrix& index, std::size_t corpus_lines, int model_dim,
                 const std::string& index_path, const std::string& corpus_path,
                 const std::string& model_path);

// The corpus vectors from an index file (.npy or .fvecs), checked as above, rows
// scaled to unit length.
VectorMatrix load_index(const std::string& index_path, std::size_t corpus_lines, int model_dim,
                        const std::string& corpus_path, const std::string& model_path);
// The corpus vectors encoded now (on_progress told the lines done), rows scaled
// to unit length.
VectorMatrix encode_corpus(Encoder& encoder, const std::vector<std::string>& lines,
                           const ProgressCallback& on_progress = {});

// The k corpus rows most similar to the query vector (corpus.dim floats; need
// not be unit length) by cosine, best first, ties in row order. `corpus` must
// have unit rows (load_index, encode_corpus).
std::vector<SearchHit> search(const VectorMatrix& corpus, const float* query, std::size_t k);
// The same for a query sentence, encoded with `encoder`.
std::vector<SearchHit> search(Encoder& encoder, const VectorMatrix& corpus,
                              const std::string& query, std::size_t k);

}  // namespace sentemb
