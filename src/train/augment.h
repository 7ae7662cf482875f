// Text augmentation on token ids (--augment): token deletion and span cropping, the
// usual companions of a contrastive loss (SimCSE's "delete one word", crop in Gao et al.
// 2021, table 1). Each draw is keyed by (seed, step, row of the batch), like dropout: a
// resumed run draws the same augmentations, whatever the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sentemb::train {

struct AugmentOptions {
  float delete_rate = 0;  // each token (BOS excepted) deleted with this probability
  float crop_rate = 0;    // a contiguous span of (1 - rate) of the tokens is kept
  bool enabled() const { return delete_rate > 0 || crop_rate > 0; }
};

// Parses "delete:0.1,crop:0.2" (either part may be left out); rates in [0, 1).
// Throws UsageError naming --augment and the bad part.
AugmentOptions augment_options_from_string(const std::string& spec);

// ids: BOS first. The result keeps BOS and at least one other token when ids has one.
// Crop first, then deletion; key: from augment_key().
std::vector<int> augment(const std::vector<int>& ids, const AugmentOptions& options,
                         std::uint64_t key);
std::uint64_t augment_key(std::uint64_t seed, std::int64_t step, std::int64_t row);

}  // namespace sentemb::train
