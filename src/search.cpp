#include "sentemb/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "sentemb/errors.h"
#include "sentemb/similarity.h"

namespace sentemb {

std::vector<SearchHit> top_k(const float* scores, std::size_t n, std::size_t k) {
  k = std::min(k, n);
  std::vector<std::size_t> index(n);
  std::iota(index.begin(), index.end(), 0);
  // Higher score first; equal scores by index so the order is deterministic.
  auto better = [scores](std::size_t a, std::size_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  std::partial_sort(index.begin(), index.begin() + k, index.end(), better);
  std::vector<SearchHit> best(k);
  for (std::size_t i = 0; i < k; ++i) best[i] = {index[i], scores[index[i]]};
  return best;
}

void check_index(VectorMatrix& index, std::size_t corpus_lines, int model_dim,
                 const std::string& index_path, const std::string& corpus_path,
                 const std::string& model_path) {
  if (index.rows != corpus_lines)
    throw UsageError(fmt::format(
        "index {} has {} vectors but corpus {} has {} lines; re-encode it with `sentemb "
        "encode --input {} --output {}`",
        index_path, index.rows, corpus_path, corpus_lines, corpus_path, index_path));
  if (index.rows > 0 && index.dim != model_dim)
    throw UsageError(fmt::format(
        "index {} has vectors of width {} but model {} makes width {}; it was encoded with "
        "another model",
        index_path, index.dim, model_path, model_dim));
  index.dim = model_dim;
}

VectorMatrix load_index(const std::string& index_path, std::size_t corpus_lines, int model_dim,
                        const std::string& corpus_path, const std::string& model_path) {
  VectorMatrix index = read_vectors(index_path);
  check_index(index, corpus_lines, model_dim, index_path, corpus_path, model_path);
  // Unit rows make the dot products cosines, whether or not the index normalised them.
  l2_normalize_rows(index.data.data(), index.rows, index.dim);
  return index;
}

VectorMatrix encode_corpus(Encoder& encoder, const std::vector<std::string>& lines,
                           const ProgressCallback& on_progress) {
  VectorMatrix m;
  m.rows = lines.size();
  m.dim = encoder.dim();
  m.data = encode_all(encoder, lines, on_progress);
  // Unit rows make the dot products cosines, whether or not the model normalises.
  l2_normalize_rows(m.data.data(), m.rows, m.dim);
  return m;
}

std::vector<SearchHit> search(const VectorMatrix& corpus, const float* query, std::size_t k) {
  std::vector<float> q(query, query + corpus.dim);
  l2_normalize_rows(q.data(), 1, corpus.dim);
  std::vector<float> scores(corpus.rows);
  if (corpus.rows > 0)
    dot_scores(q.data(), 1, corpus.data.data(), corpus.rows, corpus.dim, scores.data());
  return top_k(scores.data(), scores.size(), k);
}

std::vector<SearchHit> search(Encoder& encoder, const VectorMatrix& corpus,
                              const std::string& query, std::size_t k) {
  const std::vector<float> q = encoder.encode(std::vector<std::string>{query});  // (1, dim)
  return search(corpus, q.data(), k);
}

}  // namespace sentemb
