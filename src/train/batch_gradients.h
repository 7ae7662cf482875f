// The gradient of one batch's loss with respect to the parameters: forward, loss,
// backward. Plain, the whole batch at once; cached (GradCache, Gao et al. 2021, "Scaling
// Deep Contrastive Learning Batch Size under Memory Limited Setup"), in chunks:
//   1. embed every chunk without keeping its activations            (rows, C)
//   2. loss and dLoss/dembedding on the whole batch                  (rows, C)
//   3. per chunk: forward again (same dropout masks: they are keyed per sentence),
//      back-propagate the chunk's cached embedding gradients into the parameters.
// Memory is that of one chunk's activations; the cost is one more forward. The loss
// sees every in-batch negative, so the gradient equals the plain one up to rounding.
#pragma once

#include <cstdint>
#include <vector>

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
  // Adds dLoss/dparameters into grads and returns the loss (not checked for finiteness).
  // chunk_rows: rows per chunk of the cached computation; 0 or >= the batch's rows: plain.
  float compute(TrainingEncoder& encoder, const float* parameters, const LossBatch& batch,
                std::uint64_t dropout_seed, Loss& loss, float* grads, int chunk_rows = 0);

  const std::vector<float>& embeddings() const { return emb_; }  // (rows, C) of the last batch

 private:
  float loss_forward_backward(const LossBatch& batch, int C, Loss& loss);

  std::vector<float> emb_, demb_;  // (rows, C) embeddings and dLoss/dembeddings
  std::vector<const std::vector<int>*> chunk_;
};

}  // namespace sentemb::train
