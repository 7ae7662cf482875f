// Cosine similarity of every pair of a corpus file, streamed a window at a time
// (score --pairs, eval --sts).
#pragma once

#include <functional>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/encoder.h"

namespace sentemb::cli {

// Reads up to kEncodeWindow records of `reader` at a time, encodes both sides of
// the window in one call (a's then b's, so length sorting spans them all) and
// calls on_window(records, cosines) with cos(a_i, b_i) for each record, in input
// order. Memory stays flat whatever the file's size.
void for_each_pair_window(
    CorpusReader& reader, Encoder& encoder,
    const std::function<void(const std::vector<Record>&, const std::vector<double>&)>& on_window);

}  // namespace sentemb::cli
