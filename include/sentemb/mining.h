// Hard-negative mining (`sentemb mine`): for each (anchor, positive) pair, the
// corpus texts a model ranks close to the anchor but not too close to its
// positive, written as triplets for `sentemb train --triplets`.
//
// The semantics follow sentence-transformers' `mine_hard_negatives`:
//   1. score every corpus text against the anchor (cosine) and rank, best first;
//   2. drop the anchor's own positive, any text equal to the anchor, any other
//      text paired with the anchor in the pairs file (either column), and (margins) any candidate
//      scoring above  positive − margin  (absolute) or above
//      (1 − relative_margin) × positive  (relative, as in NV-Retriever);
//   3. rank what is left 0, 1, 2, ... and keep ranks range_min ≤ r < range_max;
//   4. take num_negatives of them: the best (top) or a seeded random choice,
//      written best first.
// An anchor with nothing left writes nothing and is counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "sentemb/search.h"
#include "sentemb/vector_io.h"

namespace sentemb {

enum class NegativeSampling { kTop, kRandom };

// "top" or "random"; throws UsageError otherwise.
NegativeSampling negative_sampling_from_string(const std::string& name);

struct MiningOptions {
  std::size_t num_negatives = 1;  // negatives per pair (one triplet each)
  std::size_t range_min = 0;      // first admissible rank kept (0-based)
  std::size_t range_max = 50;     // admissible ranks kept are < range_max
  // Drop candidates scoring above positive − absolute_margin (0..2).
  std::optional<float> absolute_margin;
  // Drop candidates scoring above (1 − relative_margin) × positive (0 ≤ m < 1).
  std::optional<float> relative_margin;
  NegativeSampling sampling = NegativeSampling::kTop;
  // The random choice of a pair depends on the seed and the pair's position in
  // the pairs file only (not on windows, threads or precision).
  std::uint64_t seed = 42;
  std::size_t window = kEncodeWindow;  // pairs encoded per step
};

// UsageError naming the command-line option (--num-negatives, --range-min,
// --range-max, --margin, --relative-margin) when a value is out of range.
void check_mining_options(const MiningOptions& options);

// The texts to mine from and the pairs of the pairs file, known before mining:
// corpus lines deduplicated (first occurrence kept), empty lines dropped.
struct MiningCorpus {
  std::vector<std::string> lines;
  // (hash of one text, hash of the other) of every pair of the pairs file, both
  // ways, sorted: no text paired with an anchor anywhere in the file (as its
  // positive or as its anchor) is mined as its negative.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> known_pairs;
  std::size_t pairs = 0;  // records in the pairs file
};

// The corpus of `lines` (deduplicated, empty lines dropped) for the given pairs.
MiningCorpus make_mining_corpus(std::vector<std::string> lines, const std::vector<Record>& pairs);

// Reads the pairs file once (anchor TAB positive; errors name file:line unless
// options skip bad lines) and the corpus: the text file corpus_path, or when it
// is empty the pairs' positives.
MiningCorpus read_mining_corpus(const std::string& pairs_path, const std::string& corpus_path,
                                ReaderOptions reader_options = {});

// Told each triplet, in pairs-file order, negatives best first.
using TripletSink = std::function<void(const std::string& anchor, const std::string& positive,
                                       const std::string& negative, float negative_score)>;

struct MiningCounts {
  std::size_t pairs = 0;               // pairs read
  std::size_t triplets = 0;            // triplets written
  std::size_t without_negative = 0;    // pairs with no admissible candidate in the window
  std::size_t short_of_negatives = 0;  // pairs with some, but fewer than num_negatives
};

// One anchor's negatives from its scores against every corpus row (n rows):
// ranks by score (ties by row), skips rows excluded(row) and rows above the
// margins relative to positive_score, and chooses from admissible ranks
// [range_min, range_max) as options say. pair_index keys the random choice.
// Best first.
std::vector<SearchHit> choose_negatives(const float* scores, std::size_t n, float positive_score,
                                        const std::function<bool(std::size_t row)>& excluded,
                                        const MiningOptions& options, std::uint64_t pair_index);

// Mines the pairs of pairs_path against `corpus` (vectors: its lines' unit rows,
// from encode_corpus), options.window pairs at a time, so memory holds the
// corpus vectors and one window. on_progress is told the pairs done.
MiningCounts mine_hard_negatives(Encoder& encoder, const std::string& pairs_path,
                                 const MiningCorpus& corpus, const VectorMatrix& vectors,
                                 const MiningOptions& options, const TripletSink& sink,
                                 const ProgressCallback& on_progress = {},
                                 ReaderOptions reader_options = {});

// The same over pairs whose unit vectors are given ((pairs.size(), dim) each),
// the first being pair number first_pair_index of the file: the step
// mine_hard_negatives repeats per window. Adds to counts.
void mine_window(const std::vector<Record>& pairs, const float* anchor_vectors,
                 const float* positive_vectors, std::size_t first_pair_index,
                 const MiningCorpus& corpus, const VectorMatrix& vectors,
                 const MiningOptions& options, const TripletSink& sink, MiningCounts& counts);

}  // namespace sentemb
