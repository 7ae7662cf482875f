// SplitMix64 (Steele, Lea, Flood): a small random stream that gives the same
// numbers on every platform and standard library (std distributions do not),
// for choices that must be reproducible from a seed. Private to the libraries.
#pragma once

#include <cstdint>

namespace sentemb {

struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

}  // namespace sentemb
