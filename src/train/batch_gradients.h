// The gradient of one batch's loss with respect to the parameters: forward, loss,
// backward. Plain, the whole batch at once; cached (GradCache, Gao et al. 2021, "Scaling
// Deep Contrastive Learning Batch Size under Memory Limited Setup"), in chunks:
//   1. embed every chunk without keeping its activations            (rows, C)
//   2. loss and dLoss/dembedding on the whole batch                  (rows, C)
//   3. per chunk: forward again (same dropout masks: they are keyed per sentence),
//      back-propagate the chunk's cached embedding gradients into the parameters.
// Memory is that of one chunk's activations; the cost is one more forward. The loss
// sees every in-batch negative, so the gradient equals the plain one up to rounding.
//
// Data-parallel (several processes, dist::Communicator): every process holds the same
// global batch and embeds only its own examples' rows (a contiguous share of the B
// examples: their anchors, positives and negatives), with those rows' global dropout
// keys. The embeddings are all-gathered into the global layout, every process computes
// the loss of the whole global batch, and back-propagates the embedding gradients of
// its own rows: the sum of the processes' parameter gradients (all-reduced by the
// caller) is the single-process gradient. With GradCache, the cached embeddings are
// what is gathered.
#pragma once

#include <cstdint>
#include <vector>

#include "dist/communicator.h"
#include "train/losses.h"
#include "train/training_encoder.h"

namespace sentemb::train {

// A batch laid out as the losses read it: rows [0, B) anchors, [B, 2B) positives,
// [2B, 3B) negatives (triplets only).
struct LossBatch {
  const std::vector<const std::vector<int>*>* sequences = nullptr;  // (2B or 3B)
  const std::uint64_t* keys = nullptr;  // (2B or 3B) dropout key of each row
  int batch = 0;                        // B
  bool triplets = false;
  const float* labels = nullptr;         // (B) labeled pairs, else null
  const std::int64_t* groups = nullptr;  // (B)
};

class BatchGradients {
 public:
  explicit BatchGradients(const dist::Communicator& comm = dist::world()) : comm_(comm) {}

  // Adds dLoss/dparameters of this process's rows into grads and returns the loss of the
  // global batch (not checked for finiteness).
  // chunk_rows: rows per chunk of the cached computation; 0 or >= the batch's rows: plain.
  float compute(TrainingEncoder& encoder, const float* parameters, const LossBatch& batch,
                std::uint64_t dropout_seed, Loss& loss, float* grads, int chunk_rows = 0);

  const std::vector<float>& embeddings() const { return emb_; }  // (rows, C) of the last batch

 private:
  float loss_forward_backward(const LossBatch& batch, int C, Loss& loss);
  // This process's rows of the global layout: their sequences and keys, in order.
  void select_own_rows(const LossBatch& batch);
  // Own embeddings (own_emb_) → every process's, in the global layout (emb_).
  void gather_embeddings(const LossBatch& batch, int C);
  // The global dLoss/dembeddings (demb_) → those of own rows (own_demb_).
  void own_gradients(const LossBatch& batch, int C);
  int first_example(int rank, int B) const;

  const dist::Communicator& comm_;
  std::vector<float> emb_, demb_;                     // (rows, C) embeddings and dLoss/dembeddings
  std::vector<float> own_emb_, own_demb_, gathered_;  // (own rows, C), (rows, C)
  std::vector<const std::vector<int>*> own_rows_, chunk_;
  std::vector<std::uint64_t> own_keys_;
};

}  // namespace sentemb::train
