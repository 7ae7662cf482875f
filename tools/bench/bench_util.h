// Small helpers shared by the benchmark subcommands: a flag parser, a timer that
// reports the median of repeated iterations, and one-line JSON results that
// tools/bench/run.sh collects.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace sentemb::bench {

// --name value pairs after the subcommand; every flag takes a value.
class Flags {
 public:
  Flags(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string key = argv[i];
      if (key.rfind("--", 0) != 0 || i + 1 >= argc)
        throw std::runtime_error(fmt::format("expected --flag value, got '{}'", key));
      values_[key.substr(2)] = argv[++i];
    }
  }
  std::string str(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  std::string required(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::runtime_error(fmt::format("--{} is required", name));
    return it->second;
  }
  int integer(const std::string& name, int fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::stoi(it->second);
  }
  double real(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::stod(it->second);
  }

 private:
  std::map<std::string, std::string> values_;
};

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  double median_s = 0;  // median time of one iteration
  double min_s = 0;
  double mean_s = 0;
  int iterations = 0;
};

// Runs `body` `warmup` times untimed, then repeatedly until at least
// `min_iterations` ran and `min_seconds` passed; returns per-iteration stats.
// The median, not the mean, so that a burst of load from another process on a
// shared machine moves the result little.
inline Timing time_iterations(const std::function<void()>& body, int warmup, int min_iterations,
                              double min_seconds) {
  for (int i = 0; i < warmup; ++i) body();
  std::vector<double> times;
  const double start = now_seconds();
  while (static_cast<int>(times.size()) < min_iterations || now_seconds() - start < min_seconds) {
    const double t0 = now_seconds();
    body();
    times.push_back(now_seconds() - t0);
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  Timing t;
  t.iterations = static_cast<int>(sorted.size());
  t.min_s = sorted.front();
  for (double x : sorted) t.mean_s += x / sorted.size();
  const std::size_t n = sorted.size();
  t.median_s = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  return t;
}

// Forward FLOPs of one sequence of T tokens through the encoder: per layer the
// four linear layers (2·C·3C + 2·C·C + 2·C·F + 2·F·C per token) and the two
// attention products (q·kᵀ and P·v, 2·T·C each per token). LayerNorm, softmax,
// GELU and pooling are O(T·C) and left out, as in the usual 6·N·T accounting.
inline double forward_flops_per_sequence(int layers, int C, int F, int T) {
  const double per_token_layer =
      2.0 * C * 3 * C + 2.0 * C * C + 2.0 * C * F + 2.0 * F * C + 4.0 * static_cast<double>(T) * C;
  return per_token_layer * layers * T;
}

// B sequences of exactly T ids: BOS (2) then T-1 random piece ids in [4, vocab).
inline std::vector<std::vector<int>> random_fixed_ids(int B, int T, int vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> piece(4, vocab - 1);
  std::vector<std::vector<int>> ids(B, std::vector<int>(T));
  for (auto& s : ids) {
    s[0] = 2;
    for (int t = 1; t < T; ++t) s[t] = piece(rng);
  }
  return ids;
}

}  // namespace sentemb::bench
