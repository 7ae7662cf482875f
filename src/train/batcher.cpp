// The batcher: per-source shuffled passes, conflict-free batches, resumable state.
#include "train/batcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "sentemb/errors.h"

namespace sentemb {
namespace {

// splitmix64: a seed scrambler (Steele, Lea, Flood) and the finaliser of hash_text.
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// xoshiro256** (Blackman, Vigna): small, fast, and its state is four words to save.
struct Xoshiro256 {
  std::uint64_t s[4];

  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& word : s) word = seed = splitmix64(seed);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  // Uniform in [0, n), n >= 1, without modulo bias (rejection of the short tail).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (true) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

std::uint64_t mix(std::uint64_t h, std::uint64_t value) {
  return splitmix64(h ^ value);
}

// ---- little-endian byte packing for save_state / load_state
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  std::uint64_t u64() {
    if (bytes_.size() - pos_ < 8) throw ModelFileError("batcher state: truncated");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  std::size_t pos_ = 0;
};

constexpr std::uint64_t kStateMagic = 0x3174617462455353ULL;  // "SSEbtat1" little-endian

}  // namespace

std::uint64_t hash_text(std::string_view text) {
  // FNV-1a over the bytes, then a splitmix64 finaliser to spread the bits.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return splitmix64(h ^ text.size());
}

Batcher::Batcher(std::vector<std::vector<BatchItemKey>> sources, std::vector<double> weights,
                 int batch_size, std::uint64_t seed)
    : sources_(std::move(sources)),
      weights_(std::move(weights)),
      batch_size_(batch_size),
      seed_(seed) {
  if (batch_size_ < 1)
    throw UsageError(fmt::format("batch size must be >= 1, got {}", batch_size_));
  if (sources_.empty()) throw UsageError("batcher: no training sources");
  if (!weights_.empty() && weights_.size() != sources_.size())
    throw UsageError(
        fmt::format("batcher: {} weights for {} sources", weights_.size(), sources_.size()));
  std::size_t total = 0;
  double usable_weight = 0;
  fingerprint_ = mix(0, static_cast<std::uint64_t>(batch_size_));
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    const auto& keys = sources_[s];
    if (keys.size() >= std::numeric_limits<std::uint32_t>::max())
      throw UsageError(
          fmt::format("batcher: source {} has {} examples, more than supported", s, keys.size()));
    if (!weights_.empty()) {
      const double w = weights_[s];
      if (!(w >= 0) || !std::isfinite(w))
        throw UsageError(
            fmt::format("batcher: weight {} of source {} must be finite and >= 0", w, s));
      if (!keys.empty()) usable_weight += w;
      std::uint64_t bits;
      std::memcpy(&bits, &w, sizeof bits);
      fingerprint_ = mix(fingerprint_, bits);
    }
    for (const BatchItemKey& key : keys) {
      if (key.n_texts < 0 || key.n_texts > 3)
        throw UsageError(
            fmt::format("batcher: example key with {} texts (expected 0..3)", key.n_texts));
      for (int t = 0; t < key.n_texts; ++t) fingerprint_ = mix(fingerprint_, key.text_hash[t]);
      fingerprint_ = mix(fingerprint_, static_cast<std::uint64_t>(key.group));
    }
    fingerprint_ = mix(fingerprint_, keys.size());
    total += keys.size();
    batches_per_epoch_ += (keys.size() + batch_size_ - 1) / batch_size_;
  }
  if (total == 0) throw UsageError("batcher: every training source is empty");
  if (!weights_.empty() && !(usable_weight > 0))
    throw UsageError("batcher: every nonempty source has weight 0");
  max_deferred_ = std::max<std::size_t>(1024, 8 * static_cast<std::size_t>(batch_size_));

  Xoshiro256 rng(mix(seed_, 0x736f75726365ULL));  // "source"
  std::copy(rng.s, rng.s + 4, rng_);
  state_.resize(sources_.size());
  for (int s = 0; s < static_cast<int>(sources_.size()); ++s) start_pass(s, 0);
}

void Batcher::start_pass(int source, std::uint64_t pass) {
  SourceState& st = state_[source];
  st.pass = pass;
  st.pos = 0;
  st.deferred.clear();
  const std::size_t n = sources_[source].size();
  st.order.resize(n);
  for (std::size_t i = 0; i < n; ++i) st.order[i] = static_cast<std::uint32_t>(i);
  // Fisher-Yates with a generator derived from (seed, source, pass) alone, so a
  // restored state can rebuild the permutation instead of storing it.
  Xoshiro256 rng(mix(mix(seed_, static_cast<std::uint64_t>(source)), pass));
  for (std::size_t i = n; i > 1; --i) std::swap(st.order[i - 1], st.order[rng.below(i)]);
}

int Batcher::choose_source() {
  Xoshiro256 rng(0);
  std::copy(rng_, rng_ + 4, rng.s);
  const int n = static_cast<int>(sources_.size());
  int chosen = -1;
  if (weights_.empty()) {
    // Proportional to what each source has left in this epoch.
    std::uint64_t total = 0;
    for (const SourceState& st : state_) total += st.remaining();
    std::uint64_t r = rng.below(total);
    for (int s = 0; s < n && chosen < 0; ++s) {
      if (r < state_[s].remaining())
        chosen = s;
      else
        r -= state_[s].remaining();
    }
  } else {
    double total = 0;
    for (int s = 0; s < n; ++s)
      if (!sources_[s].empty()) total += weights_[s];
    double r = rng.uniform() * total;
    for (int s = 0; s < n; ++s) {
      if (sources_[s].empty() || !(weights_[s] > 0)) continue;
      chosen = s;  // the last positive one absorbs rounding at the top end
      if (r < weights_[s]) break;
      r -= weights_[s];
    }
  }
  std::copy(rng.s, rng.s + 4, rng_);
  return chosen;
}

std::vector<std::size_t> Batcher::fill_batch(int source) {
  SourceState& st = state_[source];
  const auto& keys = sources_[source];
  const std::size_t capacity = static_cast<std::size_t>(batch_size_);
  std::vector<std::size_t> items;
  std::unordered_set<std::uint64_t> texts;
  std::unordered_set<std::int64_t> groups;
  auto fits = [&](const BatchItemKey& key) {
    if (key.group >= 0 && groups.count(key.group)) return false;
    for (int t = 0; t < key.n_texts; ++t)
      if (texts.count(key.text_hash[t])) return false;
    return true;
  };
  auto take = [&](std::uint32_t index) {
    const BatchItemKey& key = keys[index];
    items.push_back(index);
    if (key.group >= 0) groups.insert(key.group);
    for (int t = 0; t < key.n_texts; ++t) texts.insert(key.text_hash[t]);
  };
  // 1. Deferred examples first, oldest first; those that still conflict stay.
  std::vector<std::uint32_t> still_deferred;
  for (std::uint32_t index : st.deferred) {
    if (items.size() < capacity && fits(keys[index]))
      take(index);
    else
      still_deferred.push_back(index);
  }
  st.deferred = std::move(still_deferred);
  // 2. Then the pass's order. A conflicting example is deferred; once too many are
  // waiting (pathological data, e.g. one huge group) filling stops instead, which
  // bounds the work per batch.
  while (items.size() < capacity && st.pos < st.order.size()) {
    const std::uint32_t index = st.order[st.pos];
    if (fits(keys[index])) {
      take(index);
    } else if (st.deferred.size() < max_deferred_) {
      st.deferred.push_back(index);
    } else {
      break;
    }
    ++st.pos;
  }
  return items;
}

Batcher::Batch Batcher::next() {
  Batch batch;
  batch.epoch = epoch();
  const int source = choose_source();
  SourceState& st = state_[source];
  if (!weights_.empty() && st.remaining() == 0) start_pass(source, st.pass + 1);
  batch.source = source;
  batch.items = fill_batch(source);
  ++batches_emitted_;
  if (weights_.empty()) {
    std::uint64_t left = 0;
    for (const SourceState& s : state_) left += s.remaining();
    if (left == 0) {  // epoch complete: reshuffle every source
      ++epoch_;
      for (int s = 0; s < static_cast<int>(state_.size()); ++s)
        start_pass(s, static_cast<std::uint64_t>(epoch_));
    }
  }
  return batch;
}

std::int64_t Batcher::epoch() const {
  if (weights_.empty()) return epoch_;
  return static_cast<std::int64_t>(batches_emitted_ / batches_per_epoch_);
}

std::string Batcher::save_state() const {
  std::string out;
  put_u64(out, kStateMagic);
  put_u64(out, fingerprint_);
  put_u64(out, sources_.size());
  put_u64(out, seed_);
  put_u64(out, static_cast<std::uint64_t>(epoch_));
  put_u64(out, batches_emitted_);
  for (std::uint64_t word : rng_) put_u64(out, word);
  for (const SourceState& st : state_) {
    put_u64(out, st.pass);
    put_u64(out, st.pos);
    put_u64(out, st.deferred.size());
    for (std::uint32_t index : st.deferred) put_u64(out, index);
  }
  return out;
}

void Batcher::load_state(const std::string& bytes) {
  Reader in(bytes);
  if (in.u64() != kStateMagic) throw ModelFileError("batcher state: not a batcher state");
  if (in.u64() != fingerprint_ || in.u64() != sources_.size())
    throw ModelFileError(
        "batcher state: it was saved for different training data, source weights or batch "
        "size than this run's");
  const std::uint64_t seed = in.u64();
  const std::int64_t epoch = static_cast<std::int64_t>(in.u64());
  const std::uint64_t emitted = in.u64();
  std::uint64_t rng[4];
  for (auto& word : rng) word = in.u64();
  std::vector<std::uint64_t> passes, positions;
  std::vector<std::vector<std::uint32_t>> deferred(sources_.size());
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    const std::size_t n = sources_[s].size();
    passes.push_back(in.u64());
    positions.push_back(in.u64());
    const std::uint64_t n_deferred = in.u64();
    if (positions.back() > n || n_deferred > positions.back())
      throw ModelFileError(fmt::format("batcher state: corrupt position of source {}", s));
    for (std::uint64_t k = 0; k < n_deferred; ++k) {
      const std::uint64_t index = in.u64();
      if (index >= n) throw ModelFileError(fmt::format("batcher state: corrupt source {}", s));
      deferred[s].push_back(static_cast<std::uint32_t>(index));
    }
  }
  if (!in.at_end() || epoch < 0) throw ModelFileError("batcher state: corrupt (trailing bytes)");
  seed_ = seed;
  epoch_ = epoch;
  batches_emitted_ = emitted;
  std::copy(rng, rng + 4, rng_);
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    start_pass(static_cast<int>(s), passes[s]);
    state_[s].pos = positions[s];
    state_[s].deferred = std::move(deferred[s]);
  }
}

}  // namespace sentemb
