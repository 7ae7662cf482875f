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

float BatchGradients::compute(TrainingEncoder& encoder, const float* parameters,
                              const LossBatch& batch, std::uint64_t dropout_seed, Loss& loss,
                              float* grads, int chunk_rows) {
  const auto& rows = *batch.sequences;
  const int R = static_cast<int>(rows.size()), C = encoder.config().dim;
  emb_.assign(std::size_t(R) * C, 0.0f);     // (R, C)
  demb_.assign(std::size_t(R) * C, 0.0f);    // (R, C)
  if (chunk_rows <= 0 || chunk_rows >= R) {  // plain: one forward keeps what backward needs
    encoder.forward(parameters, rows, emb_.data(), dropout_seed, batch.keys);
    const float value = loss_forward_backward(batch, C, loss);
    encoder.backward(parameters, demb_.data(), grads);
    return value;
  }
  auto for_each_chunk = [&](auto&& body) {
    for (int start = 0; start < R; start += chunk_rows) {
      const int end = std::min(R, start + chunk_rows);
      chunk_.assign(rows.begin() + start, rows.begin() + end);
      body(start);
    }
  };
  for_each_chunk([&](int start) {  // 1. embeddings only
    encoder.forward(parameters, chunk_, emb_.data() + std::size_t(start) * C, dropout_seed,
                    batch.keys + start);
  });
  const float value = loss_forward_backward(batch, C, loss);  // 2. on the whole batch
  std::vector<float> redone(std::size_t(chunk_rows) * C);
  for_each_chunk([&](int start) {  // 3. forward again, backward the cached gradients
    encoder.forward(parameters, chunk_, redone.data(), dropout_seed, batch.keys + start);
    encoder.backward(parameters, demb_.data() + std::size_t(start) * C, grads);
  });
  return value;
}

}  // namespace sentemb::train
