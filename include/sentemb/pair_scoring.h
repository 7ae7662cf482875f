// Cosine similarity of sentence pairs: two sentences, or every pair of a corpus
// file streamed a window at a time (`sentemb score`), and the STS evaluation
// built on it, the correlation of those cosines with gold scores (`sentemb eval
// --sts`).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"

namespace sentemb {

// cos(a, b) of the two sentences' embeddings, both encoded in one call.
float sentence_cosine(Encoder& encoder, const std::string& a, const std::string& b);
// cos(a_i, b_i) for each i, a's and b's encoded in one call. Throws UsageError when
// the sizes differ.
std::vector<double> pair_cosines(Encoder& encoder, const std::vector<std::string>& a,
                                 const std::vector<std::string>& b);

// Called with a window of records and cos(a_i, b_i) of each, in input order.
using PairWindowFn =
    std::function<void(const std::vector<Record>& records, const std::vector<double>& cosines)>;

// Reads up to kEncodeWindow records of `reader` at a time (pairs, STS, labeled:
// any format with a and b), encodes both sides of the window in one call (a's
// then b's, so length sorting spans them all) and calls on_window with the
// cosine of each record's a and b. Memory stays flat whatever the file's size.
void for_each_pair_window(CorpusReader& reader, Encoder& encoder, const PairWindowFn& on_window);

// Called with a window of n records and their vectors, (2n, dim): the a's, then the b's.
using PairVectorsFn = std::function<void(const std::vector<Record>& records, const float* vectors)>;
// for_each_pair_window's loop, handing on the vectors instead of their cosines.
void for_each_pair_vectors(CorpusReader& reader, Encoder& encoder, const PairVectorsFn& on_window);

// The STS benchmark protocol: how well cos(a, b) follows the gold scores.
struct StsResult {
  double spearman = 0;  // NaN when undefined: fewer than 2 pairs, or constant scores
  double pearson = 0;   // likewise
  std::size_t pairs = 0;
};

// Scores every `score TAB a TAB b` line of an STS file ("-": stdin); on_progress
// is told the pairs done after each window. Throws Error when the file holds no
// pairs, InputError on a bad line.
StsResult evaluate_sts(Encoder& encoder, const std::string& path,
                       const ProgressCallback& on_progress = {});
// The correlations of predicted scores with gold ones; Error naming `path` when
// there are none.
StsResult sts_result(const std::vector<double>& predicted, const std::vector<double>& gold,
                     const std::string& path);

}  // namespace sentemb
