// Batches of training examples: which examples go together in one step.
//
// The batcher sees only keys (a 64-bit hash per text field and a group id), never
// texts or token ids, and hands out indices. Its rules:
//   - each batch is drawn from ONE source (one training file);
//   - within a batch no two examples share a text (in any of their fields: identical
//     texts would be false negatives for in-batch losses) nor a group id >= 0;
//   - an example that conflicts with the batch being built is deferred to a later
//     batch of its source, never dropped (deferred examples are tried first next time;
//     an example always fits an empty batch, so at worst it comes in a smaller batch);
//   - deterministic for a seed, and resumable: save_state() captures everything
//     (epoch, positions, deferred examples, RNG state) in a small byte string, and
//     load_state() makes a fresh batcher over the same data continue identically.
//
// Mixing of sources:
//   - by size (weights empty): within an epoch, each batch's source is drawn with
//     probability proportional to the examples that source has left in the epoch.
//     Every example of every source appears exactly once per epoch, sources finish
//     together, and the mix is proportional to their sizes. epoch() increments when
//     all sources are used up; every source is reshuffled for the next epoch.
//   - by weight: each batch's source is drawn with probability proportional to its
//     weight. Each source runs through its own shuffled passes (every example once
//     per pass, reshuffled when used up), so small, heavily weighted sources repeat.
//     An epoch is then nominal: batches_per_epoch() batches.
// Batches are full (batch_size examples) except at the end of a source's pass or
// when conflicts leave nothing that fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sentemb {

// What the batcher knows about one example.
struct BatchItemKey {
  std::uint64_t text_hash[3] = {0, 0, 0};  // hash_text() of each text field
  int n_texts = 0;                         // fields used, 1..3
  std::int64_t group = -1;                 // group id, -1 = none
};

// Stable 64-bit hash of a text (the same on every platform and run).
std::uint64_t hash_text(std::string_view text);

class Batcher {
 public:
  struct Batch {
    int source = 0;                  // index into the sources
    std::vector<std::size_t> items;  // indices into that source, in batch order
    std::int64_t epoch = 0;          // the epoch this batch belongs to
  };

  // sources: the keys of each source's examples. weights: one per source (>= 0,
  // finite, some nonempty source > 0) or empty for mixing by size. batch_size >= 1.
  // Throws UsageError for bad arguments or when every source is empty.
  Batcher(std::vector<std::vector<BatchItemKey>> sources, std::vector<double> weights,
          int batch_size, std::uint64_t seed);

  Batch next();
  // Epochs completed so far (= the epoch of the next batch).
  std::int64_t epoch() const;
  // Nominal batches per epoch: sum over nonempty sources of ceil(size / batch_size).
  // Deferrals can add a few smaller batches to an epoch mixed by size.
  std::size_t batches_per_epoch() const { return batches_per_epoch_; }
  int batch_size() const { return batch_size_; }
  std::uint64_t batches_emitted() const { return batches_emitted_; }

  // The complete iteration state as bytes (binary; O(sources + deferred examples)).
  std::string save_state() const;
  // Restores a saved state. The batcher must have been built over the same sources
  // (same keys), weights and batch size; throws ModelFileError otherwise, or when
  // the bytes are truncated or corrupt. The seed comes from the state.
  void load_state(const std::string& state);

 private:
  struct SourceState {
    std::uint64_t pass = 0;               // which shuffle of the source is being used
    std::size_t pos = 0;                  // next position in order
    std::vector<std::uint32_t> order;     // the pass's permutation (derived, not saved)
    std::vector<std::uint32_t> deferred;  // conflicting examples waiting, oldest first
    std::size_t remaining() const { return order.size() - pos + deferred.size(); }
  };

  void start_pass(int source, std::uint64_t pass);
  std::vector<std::size_t> fill_batch(int source);
  int choose_source();

  std::vector<std::vector<BatchItemKey>> sources_;
  std::vector<double> weights_;  // empty: by size
  int batch_size_;
  std::uint64_t seed_;
  std::uint64_t fingerprint_;  // of the keys, weights and batch size
  std::size_t batches_per_epoch_ = 0;
  std::size_t max_deferred_;  // per source; beyond it, filling stops at a conflict

  std::int64_t epoch_ = 0;  // by size: completed epochs
  std::uint64_t batches_emitted_ = 0;
  std::uint64_t rng_[4];  // xoshiro256** state for choosing sources
  std::vector<SourceState> state_;
};

}  // namespace sentemb
