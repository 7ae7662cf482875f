#include "train/augment.h"

#include <fmt/format.h>

#include <cmath>

#include "sentemb/errors.h"
#include "splitmix.h"

namespace sentemb::train {

namespace {

// The stream of one augmentation.
using SplitMix = SplitMix64;

float parse_rate(const std::string& spec, const std::string& part, const std::string& text) {
  std::size_t used = 0;
  float rate = -1;
  try {
    rate = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(rate >= 0 && rate < 1))
    throw UsageError(fmt::format(
        "--augment '{}': the rate of {} must be a number in [0, 1), got '{}'", spec, part, text));
  return rate;
}

}  // namespace

AugmentOptions augment_options_from_string(const std::string& spec) {
  AugmentOptions options;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string part = spec.substr(start, comma - start);
    const std::size_t colon = part.find(':');
    const std::string name = part.substr(0, colon);
    if (colon == std::string::npos || (name != "delete" && name != "crop"))
      throw UsageError(fmt::format(
          "--augment '{}': expected delete:RATE and/or crop:RATE, comma separated, got '{}'", spec,
          part));
    (name == "delete" ? options.delete_rate : options.crop_rate) =
        parse_rate(spec, name, part.substr(colon + 1));
    start = comma + 1;
  }
  return options;
}

std::uint64_t augment_key(std::uint64_t seed, std::int64_t step, std::int64_t row) {
  SplitMix a{seed ^ 0x61756721ull};
  SplitMix b{a.next() ^ static_cast<std::uint64_t>(step)};
  return b.next() ^ static_cast<std::uint64_t>(row) * 0xd1b54a32d192ed03ull;
}

std::vector<int> augment(const std::vector<int>& ids, const AugmentOptions& options,
                         std::uint64_t key) {
  const std::size_t n = ids.size() > 0 ? ids.size() - 1 : 0;  // tokens after BOS
  if (n == 0) return ids;
  SplitMix random{key};
  std::size_t begin = 1, end = ids.size();
  if (options.crop_rate > 0) {
    const auto keep = std::max<std::size_t>(1, std::lround((1.0 - options.crop_rate) * n));
    begin = 1 + static_cast<std::size_t>(random.uniform() * double(n - keep + 1));
    end = begin + keep;
  }
  std::vector<int> out{ids[0]};
  for (std::size_t i = begin; i < end; ++i)
    if (!(options.delete_rate > 0 && random.uniform() < options.delete_rate)) out.push_back(ids[i]);
  if (out.size() == 1) out.push_back(ids[begin + random.next() % (end - begin)]);  // keep one
  return out;
}

}  // namespace sentemb::train
