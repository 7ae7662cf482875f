// Training losses over sentence embeddings: InfoNCE (multiple-negatives ranking,
// optionally symmetric), triplet, pairwise contrastive, and a weighted sum of them.
//
// Every loss takes raw embeddings (B, D), row-major float32, as the encoder outputs
// them, and computes what it needs itself: the cosine losses L2-normalise each row
// inside and backpropagate through that normalisation, so they are correct whether
// or not the model already normalised its output. Internally all sums are done in
// double; the returned loss is rounded to float once.
//
// Protocol (llm.c style): forward(batch) computes the loss and saves exactly what
// backward needs (it keeps pointers to the batch's arrays, which must stay alive and
// unchanged until backward); backward(scale, grads) then ADDS scale * dLoss/dInput
// into the gradient arrays, never overwriting them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sentemb {

// One batch of embeddings; views, not owned.
struct EmbeddingBatch {
  const float* anchor = nullptr;    // (B, D) first sentence of each example
  const float* positive = nullptr;  // (B, D) second sentence (of pairs, triplets, labeled pairs)
  const float* negative = nullptr;  // (B, D) hard negative, or nullptr
  const float* label = nullptr;     // (B) 1 = similar, 0 = dissimilar; or nullptr
  const std::int64_t* group = nullptr;  // (B) group id per example, -1 = none; or nullptr
  int batch = 0;                        // B
  int dim = 0;                          // D
};

// Gradient arrays, same shapes as the inputs; backward ADDS into them. A nullptr
// array is skipped (its gradient is not wanted).
struct EmbeddingGrads {
  float* anchor = nullptr;    // (B, D)
  float* positive = nullptr;  // (B, D)
  float* negative = nullptr;  // (B, D)
};

class Loss {
 public:
  virtual ~Loss() = default;
  // Name for logs, e.g. "infonce", "triplet", "contrastive", "sum".
  virtual std::string name() const = 0;
  // What the batch must carry; forward throws UsageError when it is missing.
  virtual bool needs_negative() const { return false; }
  virtual bool needs_label() const { return false; }
  // Computes the loss of the batch and saves what backward needs.
  virtual float forward(const EmbeddingBatch& batch) = 0;
  // The last forward's loss in double, before rounding to float (0 before any
  // forward). Finite-difference gradient checks need the extra digits.
  virtual double value() const = 0;
  // grads += scale * dLoss/dInputs, for the batch of the last forward.
  virtual void backward(float scale, const EmbeddingGrads& grads) = 0;
  // The values of the last forward, per term, for logging. A single loss reports
  // {name, value}; a weighted sum reports each term's own (unweighted) value.
  virtual std::vector<std::pair<std::string, float>> terms() const = 0;
};

// ---------------------------------------------------------------------------
// InfoNCE / multiple-negatives ranking loss.
//   candidates c = [p_1..p_B] followed by [n_1..n_B] when negatives are given (M = B or 2B)
//   logits_ij = cos(a_i, c_j) / temperature                     (B, M)
//   loss_ab   = mean_i [ logsumexp_j logits_ij - logits_ii ]    cross-entropy, target i
// symmetric (sentence-transformers' MultipleNegativesSymmetricRankingLoss):
//   loss_ba   = mean_j [ logsumexp_i cos(p_j, a_i)/t - cos(p_j, a_j)/t ]   anchors only
//   loss      = (loss_ab + loss_ba) / 2
// Groups: for row i, a candidate p_j or n_j with j != i and group_j == group_i >= 0
// is another positive of the same group, not a negative: it is masked out of the
// softmax (likewise, in the symmetric direction, anchors a_i with i != j of p_j's
// group). Row i's own hard negative n_i stays. Softmax subtracts the row max.
struct InfoNceOptions {
  float temperature = 0.05f;  // sentence-transformers' scale 20 = 1 / 0.05
  bool symmetric = false;
};

class InfoNceLoss : public Loss {
 public:
  explicit InfoNceLoss(InfoNceOptions options = {});  // throws UsageError if temperature <= 0
  ~InfoNceLoss() override;
  std::string name() const override;
  float forward(const EmbeddingBatch& batch) override;
  double value() const override;
  void backward(float scale, const EmbeddingGrads& grads) override;
  std::vector<std::pair<std::string, float>> terms() const override;

 private:
  struct Saved;
  InfoNceOptions options_;
  std::unique_ptr<Saved> saved_;  // set by forward
};

// ---------------------------------------------------------------------------
// Triplet loss: loss = mean_i max(0, d(a_i, p_i) - d(a_i, neg_i) + margin).
//   cosine distance     d(x, y) = 1 - cos(x, y)        (in [0, 2])
//   euclidean distance  d(x, y) = ||x - y||_2          on the raw embeddings, as given
// Default margin: 0.5 for cosine (a margin above 2 could never be met),
// 5 for euclidean (sentence-transformers' TripletLoss default).
// neg_i is n_i; with batch_hard it is instead the hardest (closest to a_i) of all
// p_j (j != i) and all n_j in the batch, skipping p_j / n_j with j != i of a_i's
// group (>= 0). A row with no candidate at all (B = 1 and no negatives) adds 0.
enum class TripletDistance { kCosine, kEuclidean };
TripletDistance triplet_distance_from_string(const std::string& name);  // "cosine", "euclidean"
std::string to_string(TripletDistance distance);

struct TripletOptions {
  TripletDistance distance = TripletDistance::kCosine;
  float margin = -1;  // < 0: the distance's default (0.5 cosine, 5 euclidean)
  bool batch_hard = false;
};

class TripletLoss : public Loss {
 public:
  explicit TripletLoss(TripletOptions options = {});  // throws UsageError if margin is not finite
  ~TripletLoss() override;
  std::string name() const override;
  bool needs_negative() const override { return !options_.batch_hard; }
  float forward(const EmbeddingBatch& batch) override;
  double value() const override;
  void backward(float scale, const EmbeddingGrads& grads) override;
  std::vector<std::pair<std::string, float>> terms() const override;
  float margin() const { return options_.margin; }

 private:
  struct Saved;
  TripletOptions options_;
  std::unique_ptr<Saved> saved_;  // set by forward
};

// ---------------------------------------------------------------------------
// Pairwise contrastive loss over labeled pairs (a_i, p_i) with label y_i (1 similar,
// 0 dissimilar):
//   d_i  = 1 - cos(a_i, p_i)
//   loss = mean_i 1/2 [ y_i d_i^2 + (1 - y_i) max(0, margin - d_i)^2 ]
// (sentence-transformers' ContrastiveLoss with cosine distance; margin default 0.5.)
struct ContrastiveOptions {
  float margin = 0.5f;
};

class ContrastiveLoss : public Loss {
 public:
  explicit ContrastiveLoss(ContrastiveOptions options = {});  // throws UsageError if margin < 0
  ~ContrastiveLoss() override;
  std::string name() const override;
  bool needs_label() const override { return true; }
  float forward(const EmbeddingBatch& batch) override;
  double value() const override;
  void backward(float scale, const EmbeddingGrads& grads) override;
  std::vector<std::pair<std::string, float>> terms() const override;

 private:
  struct Saved;
  ContrastiveOptions options_;
  std::unique_ptr<Saved> saved_;  // set by forward
};

// ---------------------------------------------------------------------------
// loss = sum_k w_k * loss_k over the same batch. terms() lists each loss's own value.
class WeightedSumLoss : public Loss {
 public:
  void add(std::unique_ptr<Loss> loss, float weight);
  std::size_t size() const { return parts_.size(); }
  std::string name() const override;  // e.g. "1*infonce+0.5*triplet"
  bool needs_negative() const override;
  bool needs_label() const override;
  float forward(const EmbeddingBatch& batch) override;
  double value() const override;
  void backward(float scale, const EmbeddingGrads& grads) override;
  std::vector<std::pair<std::string, float>> terms() const override;

 private:
  std::vector<std::pair<std::unique_ptr<Loss>, float>> parts_;
};

// ---------------------------------------------------------------------------
// Matryoshka (Kusupati et al. 2022; sentence-transformers' MatryoshkaLoss): the inner
// loss summed over prefix widths k of every embedding, each prefix renormalised, so a
// vector's first k values are a usable embedding of their own.
//   u_k = x[:k] / ||x[:k]||            per row of anchor, positive, negative
//   loss = sum_k inner_k(u_k)          (weights 1, as sentence-transformers' default)
//   dx[:k] += (du_k - u_k (u_k · du_k)) / ||x[:k]||
// terms() reports each width's inner loss as "matryoshka@k".
class MatryoshkaLoss : public Loss {
 public:
  // dims: decreasing, each <= the batch's width (forward throws UsageError otherwise).
  // make_inner builds one inner loss per width (each keeps its own saved state).
  MatryoshkaLoss(std::vector<int> dims, const std::function<std::unique_ptr<Loss>()>& make_inner);
  ~MatryoshkaLoss() override;
  std::string name() const override;
  bool needs_negative() const override;
  bool needs_label() const override;
  float forward(const EmbeddingBatch& batch) override;
  double value() const override;
  void backward(float scale, const EmbeddingGrads& grads) override;
  std::vector<std::pair<std::string, float>> terms() const override;

 private:
  struct Prefix;
  std::vector<std::unique_ptr<Prefix>> prefixes_;
  EmbeddingBatch batch_;  // the last forward's
};

// ---------------------------------------------------------------------------
// Building a loss from a command-line spec: a comma-separated list of NAME or
// NAME:WEIGHT, e.g. "infonce", "infonce:1,triplet:0.5". Names:
//   infonce             InfoNceLoss (symmetric if options.infonce.symmetric)
//   symmetric_infonce   InfoNceLoss, symmetric
//   triplet             TripletLoss (batch-hard if options.triplet.batch_hard)
//   batch_hard_triplet  TripletLoss, batch-hard
//   contrastive         ContrastiveLoss
// A single name without a weight gives that loss itself; anything else gives a
// WeightedSumLoss (a missing weight is 1). Throws UsageError naming the bad part.
struct LossOptions {
  InfoNceOptions infonce;
  TripletOptions triplet;
  ContrastiveOptions contrastive;
};
std::unique_ptr<Loss> make_loss(const std::string& spec, const LossOptions& options = {});
// The loss names of a spec, in order (weights dropped); UsageError for an empty term.
std::vector<std::string> loss_spec_names(const std::string& spec);
// The accepted names, comma separated, for help and error messages.
std::string loss_names();

}  // namespace sentemb
