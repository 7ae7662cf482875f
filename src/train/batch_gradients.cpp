#include "train/batch_gradients.h"

#include <algorithm>

namespace sentemb::train {

float BatchGradients::loss_forward_backward(const LossBatch& batch, int C, Loss& loss) {
  const std::int64_t BC = std::int64_t(batch.batch) * C;
  EmbeddingBatch eb;
  eb.anchor = emb_.data();
  eb.positive = emb_.data() + BC;
  eb.negative = batch.triplets ? emb_.data() + 2 * BC : nullptr;
  eb.label = batch.labels;
  eb.group = batch.groups;
  eb.batch = batch.batch;
  eb.dim = C;
  const float value = loss.forward(eb);
  std::fill(demb_.begin(), demb_.end(), 0.0f);
  loss.backward(
      1.0f, {demb_.data(), demb_.data() + BC, batch.triplets ? demb_.data() + 2 * BC : nullptr});
  return value;
}

// Rank r's examples: [first_example(r), first_example(r + 1)) of the B.
int BatchGradients::first_example(int rank, int B) const {
  return static_cast<int>(std::int64_t(B) * rank / comm_.size());
}

void BatchGradients::select_own_rows(const LossBatch& batch) {
  const auto& rows = *batch.sequences;
  const int B = batch.batch, blocks = static_cast<int>(rows.size()) / B;
  const int begin = first_example(comm_.rank(), B), end = first_example(comm_.rank() + 1, B);
  own_rows_.clear();
  own_keys_.clear();
  for (int block = 0; block < blocks; ++block)
    for (int i = begin; i < end; ++i) {
      own_rows_.push_back(rows[std::size_t(block) * B + i]);
      own_keys_.push_back(batch.keys ? batch.keys[std::size_t(block) * B + i]
                                     : std::uint64_t(block) * B + i);
    }
}

void BatchGradients::gather_embeddings(const LossBatch& batch, int C) {
  if (comm_.size() == 1) {
    emb_ = own_emb_;
    return;
  }
  const int B = batch.batch, blocks = static_cast<int>(emb_.size()) / (B * C);
  std::vector<int> counts(comm_.size());
  for (int r = 0; r < comm_.size(); ++r)
    counts[r] = (first_example(r + 1, B) - first_example(r, B)) * blocks * C;
  gathered_.resize(emb_.size());
  comm_.allgather(own_emb_.data(), counts, gathered_.data());
  const float* from = gathered_.data();  // rank after rank, each block after block
  for (int r = 0; r < comm_.size(); ++r) {
    const int begin = first_example(r, B), n = first_example(r + 1, B) - begin;
    for (int block = 0; block < blocks; ++block, from += std::size_t(n) * C)
      std::copy(from, from + std::size_t(n) * C,
                emb_.begin() + (std::size_t(block) * B + begin) * C);
  }
}

void BatchGradients::own_gradients(const LossBatch& batch, int C) {
  if (comm_.size() == 1) {
    own_demb_ = demb_;
    return;
  }
  const int B = batch.batch, blocks = static_cast<int>(demb_.size()) / (B * C);
  const int begin = first_example(comm_.rank(), B), n = first_example(comm_.rank() + 1, B) - begin;
  own_demb_.resize(own_emb_.size());
  for (int block = 0; block < blocks; ++block) {
    const auto from = demb_.begin() + (std::size_t(block) * B + begin) * C;
    std::copy(from, from + std::size_t(n) * C, own_demb_.begin() + std::size_t(block) * n * C);
  }
}

float BatchGradients::compute(TrainingEncoder& encoder, const float* parameters,
                              const LossBatch& batch, std::uint64_t dropout_seed, Loss& loss,
                              float* grads, int chunk_rows) {
  const int C = encoder.config().dim;
  emb_.assign(batch.sequences->size() * C, 0.0f);   // (rows, C)
  demb_.assign(batch.sequences->size() * C, 0.0f);  // (rows, C)
  select_own_rows(batch);
  const int R = static_cast<int>(own_rows_.size());
  own_emb_.assign(std::size_t(R) * C, 0.0f);
  if (chunk_rows <= 0 || chunk_rows >= R) {  // plain: one forward keeps what backward needs
    // A batch of fewer examples than processes (the end of an epoch) leaves some with none.
    if (R > 0)
      encoder.forward(parameters, own_rows_, own_emb_.data(), dropout_seed, own_keys_.data());
    gather_embeddings(batch, C);
    const float value = loss_forward_backward(batch, C, loss);
    own_gradients(batch, C);
    if (R > 0) encoder.backward(parameters, own_demb_.data(), grads);
    return value;
  }
  auto for_each_chunk = [&](auto&& body) {
    for (int start = 0; start < R; start += chunk_rows) {
      const int end = std::min(R, start + chunk_rows);
      chunk_.assign(own_rows_.begin() + start, own_rows_.begin() + end);
      body(start);
    }
  };
  for_each_chunk([&](int start) {  // 1. embeddings only
    encoder.forward(parameters, chunk_, own_emb_.data() + std::size_t(start) * C, dropout_seed,
                    own_keys_.data() + start);
  });
  gather_embeddings(batch, C);
  const float value = loss_forward_backward(batch, C, loss);  // 2. on the whole batch
  own_gradients(batch, C);
  std::vector<float> redone(std::size_t(chunk_rows) * C);
  for_each_chunk([&](int start) {  // 3. forward again, backward the cached gradients
    encoder.forward(parameters, chunk_, redone.data(), dropout_seed, own_keys_.data() + start);
    encoder.backward(parameters, own_demb_.data() + std::size_t(start) * C, grads);
  });
  return value;
}

}  // namespace sentemb::train
