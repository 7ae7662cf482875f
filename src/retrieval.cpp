#include "sentemb/retrieval.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "sentemb/errors.h"
#include "sentemb/similarity.h"

namespace sentemb {

std::size_t rank_of_correct(const float* scores, std::size_t n, std::size_t correct) {
  if (correct >= n)
    throw UsageError(fmt::format("correct candidate {} out of range [0, {})", correct, n));
  const float target = scores[correct];
  std::size_t rank = 1;
  for (std::size_t j = 0; j < n; ++j)
    if (j != correct && scores[j] >= target) ++rank;
  return rank;
}

double recall_at_k(const std::vector<std::size_t>& ranks, std::size_t k) {
  if (ranks.empty()) return 0;
  std::size_t hits = 0;
  for (std::size_t r : ranks) hits += r <= k;
  return static_cast<double>(hits) / ranks.size();
}

double mean_reciprocal_rank(const std::vector<std::size_t>& ranks) {
  if (ranks.empty()) return 0;
  double sum = 0;
  for (std::size_t r : ranks) sum += 1.0 / r;
  return sum / ranks.size();
}

RetrievalMetrics retrieval_metrics(const std::vector<std::size_t>& ranks) {
  RetrievalMetrics m;
  m.recall_at_1 = recall_at_k(ranks, 1);
  m.recall_at_10 = recall_at_k(ranks, 10);
  m.mrr = mean_reciprocal_rank(ranks);
  m.queries = ranks.size();
  return m;
}

RetrievalMetrics retrieval_metrics(const float* scores, std::size_t queries, std::size_t candidates,
                                   const std::vector<std::size_t>& correct) {
  if (correct.size() != queries)
    throw UsageError(fmt::format("retrieval_metrics: {} queries but {} correct indices", queries,
                                 correct.size()));
  std::vector<std::size_t> ranks(queries);
  for (std::size_t q = 0; q < queries; ++q)
    ranks[q] = rank_of_correct(scores + q * candidates, candidates, correct[q]);
  return retrieval_metrics(ranks);
}

std::vector<std::size_t> ranks_of_correct(const float* queries, std::size_t nq,
                                          const float* candidates, std::size_t nc, int dim,
                                          const std::vector<std::size_t>& correct) {
  if (correct.size() != nq)
    throw UsageError(
        fmt::format("ranks_of_correct: {} queries but {} correct indices", nq, correct.size()));
  std::vector<std::size_t> ranks(nq);
  if (nq == 0) return ranks;
  // Scores a block of queries at a time: (block, nc) floats, never (nq, nc).
  const std::size_t block = std::max<std::size_t>(
      1, std::min<std::size_t>(512, (1u << 24) / std::max<std::size_t>(nc, 1)));
  std::vector<float> scores;
  for (std::size_t start = 0; start < nq; start += block) {
    const std::size_t rows = std::min(block, nq - start);
    scores.resize(rows * nc);
    dot_scores(queries + start * dim, rows, candidates, nc, dim, scores.data());
    for (std::size_t i = 0; i < rows; ++i)
      ranks[start + i] = rank_of_correct(scores.data() + i * nc, nc, correct[start + i]);
  }
  return ranks;
}

RetrievalSet retrieval_set_from_pairs(std::vector<Record> pairs) {
  RetrievalSet set;
  std::unordered_map<std::string, std::size_t> candidate_index;
  set.queries.reserve(pairs.size());
  set.correct.reserve(pairs.size());
  for (Record& rec : pairs) {
    auto [it, inserted] = candidate_index.emplace(rec.b, set.candidates.size());
    if (inserted) set.candidates.push_back(rec.b);
    set.correct.push_back(it->second);
    set.queries.push_back(std::move(rec.a));
  }
  return set;
}

RetrievalSet read_retrieval_set(const std::string& path) {
  ReaderOptions options;
  options.allow_extra_columns = true;
  std::vector<Record> pairs = read_corpus(path, CorpusFormat::kPairs, options);
  if (pairs.empty())
    throw Error(fmt::format("{}: no pairs to evaluate", path == "-" ? "<stdin>" : path));
  return retrieval_set_from_pairs(std::move(pairs));
}

RetrievalMetrics evaluate_retrieval(Encoder& encoder, const RetrievalSet& set,
                                    const ProgressCallback& on_progress) {
  const int dim = encoder.dim();
  std::vector<float> q = encode_all(encoder, set.queries, on_progress);     // (Q, dim)
  std::vector<float> c = encode_all(encoder, set.candidates, on_progress);  // (C, dim)
  // Unit rows make the dot products cosines (the model may not normalise).
  l2_normalize_rows(q.data(), set.queries.size(), dim);
  l2_normalize_rows(c.data(), set.candidates.size(), dim);
  return retrieval_metrics(ranks_of_correct(q.data(), set.queries.size(), c.data(),
                                            set.candidates.size(), dim, set.correct));
}

}  // namespace sentemb
