// Retrieval evaluation (`sentemb eval --pairs`): each query has exactly one
// correct candidate among all candidates; how high does the model rank it?
// recall@1, recall@10 and mean reciprocal rank, from a score matrix, from
// vectors, or from a pairs file and an Encoder.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"

namespace sentemb {

// The 1-based rank of the correct candidate in a row of n scores: 1 + the number
// of other candidates scoring at least as high. Ties count against the query, so
// a model that scores everything equal gets rank n, not 1. UsageError when
// correct >= n.
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

// The rank of each query's correct candidate by dot product, queries (nq, dim)
// against candidates (nc, dim), both row-major (unit rows: by cosine). Scores a
// block of queries at a time, never the whole (nq, nc) matrix, so memory stays
// bounded for large sets. UsageError when correct.size() != nq or an index is
// out of range.
std::vector<std::size_t> ranks_of_correct(const float* queries, std::size_t nq,
                                          const float* candidates, std::size_t nc, int dim,
                                          const std::vector<std::size_t>& correct);

// A retrieval task: queries, the distinct candidates, and the index of each
// query's correct candidate.
struct RetrievalSet {
  std::vector<std::string> queries;
  std::vector<std::string> candidates;
  std::vector<std::size_t> correct;  // (queries.size()), each < candidates.size()
};

// From pairs (a, b): the queries are the a's; the candidates the distinct b's,
// in first-seen order; a query's correct answer is the candidate equal to its b.
RetrievalSet retrieval_set_from_pairs(std::vector<Record> pairs);
// The same from a pairs file (`a TAB b` lines, later columns ignored; "-":
// stdin). Throws Error when it holds no pairs, InputError on a bad line.
RetrievalSet read_retrieval_set(const std::string& path);

// Encodes the queries and candidates (on_progress told the sentences done, out of
// queries.size() + candidates.size()) and ranks the candidates for each query by
// cosine similarity.
RetrievalMetrics evaluate_retrieval(Encoder& encoder, const RetrievalSet& set,
                                    const ProgressCallback& on_progress = {});

}  // namespace sentemb
