// Encoding many sentences a window at a time, so that length-sorted batches pad
// little while memory stays flat however long the input is: the loop under
// `sentemb encode`, `search` (the corpus) and `eval --pairs`.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/encoder.h"

namespace sentemb {

// Sentences read, encoded and written per step when streaming a file: large
// enough that length-sorted batches pad little, small enough that memory stays
// flat (10k sentences × 1024 floats = 40 MB of vectors).
inline constexpr std::size_t kEncodeWindow = 10000;

// Told after each step how many more items (sentences, pairs) are done, e.g. to
// advance a progress display. May be empty.
using ProgressCallback = std::function<void(std::size_t done)>;

// The embeddings of `texts`, (texts.size(), encoder.dim()) row-major, in input
// order, encoded kEncodeWindow sentences per call (on_progress after each).
std::vector<float> encode_all(Encoder& encoder, const std::vector<std::string>& texts,
                              const ProgressCallback& on_progress = {});

// Called with a window of sentences and their vectors, (texts.size(), dim).
using EncodedWindowFn =
    std::function<void(const std::vector<std::string>& texts, const float* vectors)>;

// Reads `reader`'s records (kText: the sentence is record.a) kEncodeWindow at a
// time, encodes each window in one call and hands it to on_window, in input
// order. Returns the number of sentences encoded.
std::size_t encode_stream(Encoder& encoder, CorpusReader& reader, const EncodedWindowFn& on_window);

}  // namespace sentemb
