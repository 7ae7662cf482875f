// oneDNN primitives whose shapes can't be runtime dimensions (layer norm,
// softmax, batched attention products) are built once per distinct shape and
// kept here, so the per-batch path only looks them up. Length-bucketed batches
// keep the number of distinct shapes small.
#pragma once

#include <array>
#include <cstdint>
#include <map>

namespace sentemb::nn {

using ShapeKey = std::array<std::int64_t, 4>;

template <typename Value>
class ShapeCache {
 public:
  template <typename Make>
  Value& get(const ShapeKey& key, Make&& make) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.emplace(key, make()).first;
    return it->second;
  }

 private:
  std::map<ShapeKey, Value> map_;
};

}  // namespace sentemb::nn
