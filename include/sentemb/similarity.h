// Similarity of embeddings and the statistics used to evaluate them: cosine,
// dot products of query × candidate rows, and Pearson and Spearman correlation
// (STS benchmarks). Retrieval metrics are in retrieval.h, top-k search in search.h.
#pragma once

#include <cstddef>
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

}  // namespace sentemb
