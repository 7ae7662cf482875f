// Similarity of embeddings and the statistics used to evaluate them: cosine,
// Pearson and Spearman correlation (STS benchmarks), and retrieval metrics
// (recall@k, mean reciprocal rank) from query × candidate scores.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace sentemb {

// a · b over dim floats.
float dot(const float* a, const float* b, int dim);
// a · b / (|a| |b|); 0 when either vector is all zeros.
float cosine(const float* a, const float* b, int dim);
// Scales each of the n rows of (n, dim) to unit L2 norm; all-zero rows stay zero.
void l2_normalize_rows(float* rows, std::size_t n, int dim);

// scores (nq, nc) = queries (nq, dim) · candidates (nc, dim)ᵀ, a matrix product.
// With unit-norm rows these are cosine similarities.
void dot_scores(const float* queries, std::size_t nq, const float* candidates, std::size_t nc,
                int dim, float* scores);

// The k highest of n scores as (index, score), best first; equal scores in
// index order. k larger than n gives all n. O(n log k) via a partial sort.
std::vector<std::pair<std::size_t, float>> top_k(const float* scores, std::size_t n, std::size_t k);

// Pearson correlation  r = Σ(x-x̄)(y-ȳ) / sqrt(Σ(x-x̄)² Σ(y-ȳ)²)  over paired
// samples. NaN when either side is constant or there are fewer than 2 pairs.
// Throws UsageError when the sizes differ.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks of x (smallest is 1); tied values all get the average of the
// ranks they span, e.g. {10, 20, 20, 30} → {1, 2.5, 2.5, 4}.
std::vector<double> average_ranks(const std::vector<double>& x);
// Spearman's rank correlation: Pearson of the average ranks, which handles ties
// exactly (the 1 - 6Σd²/(n(n²-1)) shortcut does not).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// Retrieval: each query has exactly one correct candidate.
//
// The 1-based rank of the correct candidate in a row of n scores: 1 + the number
// of other candidates scoring at least as high. Ties count against the query, so
// a model that scores everything equal gets rank n, not 1.
std::size_t rank_of_correct(const float* scores, std::size_t n, std::size_t correct);
// Fraction of ranks <= k; 0 for no ranks.
double recall_at_k(const std::vector<std::size_t>& ranks, std::size_t k);
// Mean of 1 / rank; 0 for no ranks.
double mean_reciprocal_rank(const std::vector<std::size_t>& ranks);

struct RetrievalMetrics {
  double recall_at_1 = 0;
  double recall_at_10 = 0;
  double mrr = 0;
  std::size_t queries = 0;
};
// From a (queries, candidates) score matrix, row-major, and the correct
// candidate of each query (correct.size() == queries, each < candidates;
// UsageError otherwise).
RetrievalMetrics retrieval_metrics(const float* scores, std::size_t queries, std::size_t candidates,
                                   const std::vector<std::size_t>& correct);
RetrievalMetrics retrieval_metrics(const std::vector<std::size_t>& ranks);

}  // namespace sentemb
