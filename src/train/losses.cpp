// The embedding losses: forward in double over L2-normalised rows, backward adds
// scale * dLoss/dEmbedding into float gradient arrays. See losses.h for the math.
#include "train/losses.h"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "sentemb/errors.h"

namespace sentemb {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Below this norm a row is treated as having norm kNormEps (a zero row has cosine 0
// with everything instead of NaN).
constexpr double kNormEps = 1e-12;

// Row-wise L2 normalisation: u_i = x_i / n_i with n_i = max(||x_i||, eps).
struct UnitRows {
  MatrixD u;                  // (N, D)
  std::vector<double> norm;   // (N) n_i
  std::vector<bool> clamped;  // (N) ||x_i|| < eps

  void forward(const float* x, int rows, int dim) {  // x: (N, D)
    u.resize(rows, dim);
    norm.assign(rows, 0.0);
    clamped.assign(rows, false);
    for (int i = 0; i < rows; ++i) {
      const float* xi = x + static_cast<std::size_t>(i) * dim;
      double ss = 0;
      for (int d = 0; d < dim; ++d) ss += static_cast<double>(xi[d]) * xi[d];
      double n = std::sqrt(ss);
      if (n < kNormEps) {
        n = kNormEps;
        clamped[i] = true;
      }
      norm[i] = n;
      for (int d = 0; d < dim; ++d) u(i, d) = xi[d] / n;
    }
  }

  // dx_i += scale * (du_i - u_i (u_i . du_i)) / n_i, the transposed Jacobian of
  // x -> x / ||x|| applied to du (for a clamped row the map is x / eps: du_i / eps).
  void backward(const MatrixD& du, double scale, float* dx) const {  // du, dx: (N, D)
    if (dx == nullptr) return;
    const int rows = static_cast<int>(u.rows()), dim = static_cast<int>(u.cols());
    for (int i = 0; i < rows; ++i) {
      const double radial = clamped[i] ? 0.0 : u.row(i).dot(du.row(i));
      float* dxi = dx + static_cast<std::size_t>(i) * dim;
      for (int d = 0; d < dim; ++d)
        dxi[d] += static_cast<float>(scale * (du(i, d) - u(i, d) * radial) / norm[i]);
    }
  }
};

void check_shape(const EmbeddingBatch& batch, const std::string& loss) {
  if (batch.batch < 1 || batch.dim < 1)
    throw UsageError(fmt::format("{} loss: batch of {} rows of dimension {}; both must be >= 1",
                                 loss, batch.batch, batch.dim));
  if (batch.anchor == nullptr || batch.positive == nullptr)
    throw UsageError(fmt::format("{} loss: the batch needs anchor and positive embeddings", loss));
}

// Row i and candidate row j (j != i) are of the same group, so j is not a negative of i.
bool same_group(const std::int64_t* group, int i, int j) {
  return group != nullptr && i != j && group[i] >= 0 && group[i] == group[j];
}

void require_forward(bool has_saved, const std::string& loss) {
  if (!has_saved)
    throw UsageError(fmt::format("{} loss: backward() called before forward()", loss));
}

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

}  // namespace

// ===========================================================================
// InfoNCE
//
// The (B, M) logits are never held whole: at B = 4096 with hard negatives they are
// 268 MB of doubles, more than the encoder's activations of a 128-row mini-batch
// (issue 18: GradCache's peak memory). Forward keeps each row's logsumexp, backward
// recomputes the logits a block of rows at a time and turns them into
// probabilities with it: exp(logit - logsumexp) is the softmax entry.

namespace {

constexpr int kLogitRowBlock = 256;  // rows of logits alive at once: (256, M) doubles

// logsumexp of one row of logits, skipping -inf (masked) entries; subtracts the max.
double logsumexp_row(const double* logits, int n) {
  double max = kMinusInf;
  for (int j = 0; j < n; ++j) max = std::max(max, logits[j]);
  double sum = 0;
  for (int j = 0; j < n; ++j)
    if (logits[j] != kMinusInf) sum += std::exp(logits[j] - max);
  return max + std::log(sum);
}

}  // namespace

struct InfoNceLoss::Saved {
  int batch = 0, dim = 0;
  bool has_negative = false;
  UnitRows a, p, n;                 // (B, D) each
  std::vector<std::int64_t> group;  // (B) or empty
  std::vector<double> lse_ab;       // (B) logsumexp over candidates, per anchor
  std::vector<double> lse_ba;       // (B) symmetric only: logsumexp over anchors, per positive
  double loss = 0;

  int candidates() const { return has_negative ? 2 * batch : batch; }  // M
  const std::int64_t* group_ids() const { return group.empty() ? nullptr : group.data(); }

  // Column j of row r (of rows starting at row0) is set to -inf when candidate
  // j mod B is another positive of row row0 + r's group.
  void mask_same_group(int row0, MatrixD& logits) const {
    if (group.empty()) return;
    for (int r = 0; r < logits.rows(); ++r)
      for (int j = 0; j < logits.cols(); ++j)
        if (same_group(group.data(), row0 + r, j % batch)) logits(r, j) = kMinusInf;
  }

  // logits (rows, M) = [ua up^T | ua un^T] / t for anchors row0 .. row0 + rows - 1.
  void anchor_logits(int row0, int rows, double inv_t, MatrixD& logits) const {
    logits.resize(rows, candidates());
    const auto ua = a.u.middleRows(row0, rows);
    logits.leftCols(batch).noalias() = ua * p.u.transpose();
    if (has_negative) logits.rightCols(batch).noalias() = ua * n.u.transpose();
    logits *= inv_t;
    mask_same_group(row0, logits);
  }

  // logits (rows, B) = up a^T / t for positives row0 .. row0 + rows - 1 (symmetric).
  void positive_logits(int row0, int rows, double inv_t, MatrixD& logits) const {
    logits.noalias() = p.u.middleRows(row0, rows) * a.u.transpose();
    logits *= inv_t;
    mask_same_group(row0, logits);
  }
};

InfoNceLoss::InfoNceLoss(InfoNceOptions options) : options_(options) {
  if (!(options_.temperature > 0) || !std::isfinite(options_.temperature))
    throw UsageError(
        fmt::format("infonce loss: temperature must be > 0, got {}", options_.temperature));
}
InfoNceLoss::~InfoNceLoss() = default;

std::string InfoNceLoss::name() const {
  return options_.symmetric ? "symmetric_infonce" : "infonce";
}

namespace {

// mean_i [ lse_i - logits_{i, i} ] over blocks of rows from make_logits(row0, rows, out);
// keeps each row's logsumexp in lse.
template <typename MakeLogits>
double cross_entropy_by_blocks(int B, int M, const MakeLogits& make_logits,
                               std::vector<double>& lse) {
  lse.assign(B, 0.0);
  MatrixD logits;
  double loss = 0;
  for (int row0 = 0; row0 < B; row0 += kLogitRowBlock) {
    const int rows = std::min(kLogitRowBlock, B - row0);
    make_logits(row0, rows, logits);
    for (int r = 0; r < rows; ++r) {
      lse[row0 + r] = logsumexp_row(&logits(r, 0), M);
      loss += lse[row0 + r] - logits(r, row0 + r);
    }
  }
  return loss / B;
}

}  // namespace

float InfoNceLoss::forward(const EmbeddingBatch& batch) {
  check_shape(batch, name());
  auto s = std::make_unique<Saved>();
  const int B = batch.batch, D = batch.dim;
  s->batch = B;
  s->dim = D;
  s->has_negative = batch.negative != nullptr;
  if (batch.group != nullptr) s->group.assign(batch.group, batch.group + B);
  s->a.forward(batch.anchor, B, D);
  s->p.forward(batch.positive, B, D);
  if (s->has_negative) s->n.forward(batch.negative, B, D);
  const double inv_t = 1.0 / options_.temperature;

  const Saved& saved = *s;
  double loss = cross_entropy_by_blocks(
      B, s->candidates(),
      [&](int row0, int rows, MatrixD& out) { saved.anchor_logits(row0, rows, inv_t, out); },
      s->lse_ab);
  if (options_.symmetric) {
    // Row j: logits over anchors i of positive p_j, cos(p_j, a_i) / t.
    const double loss_ba = cross_entropy_by_blocks(
        B, B,
        [&](int row0, int rows, MatrixD& out) { saved.positive_logits(row0, rows, inv_t, out); },
        s->lse_ba);
    loss = 0.5 * (loss + loss_ba);
  }
  s->loss = loss;
  saved_ = std::move(s);
  return static_cast<float>(loss);
}

void InfoNceLoss::backward(float scale, const EmbeddingGrads& grads) {
  require_forward(saved_ != nullptr, name());
  const Saved& s = *saved_;
  const int B = s.batch, M = s.candidates();
  const double inv_t = 1.0 / options_.temperature;
  // d loss / d logit_ij is (softmax - onehot) / B per direction, so d loss / d cos_ij
  // is c (P_ab(i, j) - [i = j]) + c (P_ba(j, i) - [i = j]) for j < B (the second term
  // symmetric only), with c = 1/(t B) and a factor 1/2 on each half when symmetric.
  const double c = (options_.symmetric ? 0.5 : 1.0) * inv_t / B;
  MatrixD dua(B, s.dim), dup = MatrixD::Zero(B, s.dim), dun;  // (B, D) each
  if (s.has_negative) dun = MatrixD::Zero(B, s.dim);
  MatrixD dcos;  // (rows, M): the logits of a block of anchors, then their gradient
  for (int row0 = 0; row0 < B; row0 += kLogitRowBlock) {
    const int rows = std::min(kLogitRowBlock, B - row0);
    s.anchor_logits(row0, rows, inv_t, dcos);
    for (int r = 0; r < rows; ++r) {
      const int i = row0 + r;
      for (int j = 0; j < M; ++j) {
        const double logit = dcos(r, j);
        if (logit == kMinusInf) {
          dcos(r, j) = 0;
          continue;
        }
        double g = c * std::exp(logit - s.lse_ab[i]);
        if (options_.symmetric && j < B) g += c * std::exp(logit - s.lse_ba[j]);
        dcos(r, j) = g;
      }
      dcos(r, i) -= options_.symmetric ? 2 * c : c;
    }
    // cos = ua uc^T, so dua = dcos uc and duc = dcos^T ua.
    const auto ua = s.a.u.middleRows(row0, rows);
    dua.middleRows(row0, rows).noalias() = dcos.leftCols(B) * s.p.u;
    dup.noalias() += dcos.leftCols(B).transpose() * ua;
    if (s.has_negative) {
      dua.middleRows(row0, rows).noalias() += dcos.rightCols(B) * s.n.u;
      dun.noalias() += dcos.rightCols(B).transpose() * ua;
    }
  }
  s.a.backward(dua, scale, grads.anchor);
  s.p.backward(dup, scale, grads.positive);
  if (s.has_negative) s.n.backward(dun, scale, grads.negative);
}

double InfoNceLoss::value() const {
  return saved_ ? saved_->loss : 0.0;
}

std::vector<std::pair<std::string, float>> InfoNceLoss::terms() const {
  return {{name(), saved_ ? static_cast<float>(saved_->loss) : 0.0f}};
}

// ===========================================================================
// Triplet

TripletDistance triplet_distance_from_string(const std::string& name) {
  if (name == "cosine") return TripletDistance::kCosine;
  if (name == "euclidean") return TripletDistance::kEuclidean;
  throw UsageError(
      fmt::format("unknown triplet distance '{}' (expected cosine or euclidean)", name));
}

std::string to_string(TripletDistance distance) {
  return distance == TripletDistance::kCosine ? "cosine" : "euclidean";
}

struct TripletLoss::Saved {
  EmbeddingBatch batch;  // the raw inputs (euclidean reads them again in backward)
  UnitRows a, p, n;      // cosine only: (B, D) each
  // Per anchor i: the negative used, as a candidate index (j < B: p_j, j >= B: n_{j-B};
  // -1: none), and whether the hinge is active (its gradient is nonzero).
  std::vector<int> negative;  // (B)
  std::vector<bool> active;   // (B)
  double loss = 0;
};

TripletLoss::TripletLoss(TripletOptions options) : options_(options) {
  if (!std::isfinite(options_.margin))
    throw UsageError(fmt::format("triplet loss: margin must be finite, got {}", options_.margin));
  if (options_.margin < 0)
    options_.margin = options_.distance == TripletDistance::kCosine ? 0.5f : 5.0f;
}
TripletLoss::~TripletLoss() = default;

std::string TripletLoss::name() const {
  return options_.batch_hard ? "batch_hard_triplet" : "triplet";
}

namespace {

double euclidean(const float* x, const float* y, int dim) {
  double ss = 0;
  for (int d = 0; d < dim; ++d) {
    const double diff = static_cast<double>(x[d]) - y[d];
    ss += diff * diff;
  }
  return std::sqrt(ss);
}

}  // namespace

float TripletLoss::forward(const EmbeddingBatch& batch) {
  check_shape(batch, name());
  if (!options_.batch_hard && batch.negative == nullptr)
    throw UsageError(fmt::format(
        "{} loss: the batch has no negatives (triplet data needs anchor, positive, negative; "
        "batch_hard_triplet works without)",
        name()));
  auto s = std::make_unique<Saved>();
  const int B = batch.batch, D = batch.dim;
  const bool has_negative = batch.negative != nullptr;
  const bool cosine = options_.distance == TripletDistance::kCosine;
  s->batch = batch;
  if (cosine) {
    s->a.forward(batch.anchor, B, D);
    s->p.forward(batch.positive, B, D);
    if (has_negative) s->n.forward(batch.negative, B, D);
  }
  const float* candidates[2] = {batch.positive, batch.negative};  // (B, D) each
  auto row = [D](const float* x, int i) { return x + static_cast<std::size_t>(i) * D; };
  // d(a_i, candidate j), j < B: p_j, j >= B: n_{j-B}.
  auto distance = [&](int i, int j) -> double {
    const int block = j / B, k = j % B;
    if (cosine) return 1.0 - s->a.u.row(i).dot((block == 0 ? s->p.u : s->n.u).row(k));
    return euclidean(row(batch.anchor, i), row(candidates[block], k), D);
  };

  s->negative.assign(B, -1);
  s->active.assign(B, false);
  double loss = 0;
  for (int i = 0; i < B; ++i) {
    int neg = -1;
    double d_neg = 0;
    if (!options_.batch_hard) {
      neg = B + i;
      d_neg = distance(i, neg);
    } else {
      // Hardest negative: the closest candidate that is not a positive of a_i.
      const int M = has_negative ? 2 * B : B;
      for (int j = 0; j < M; ++j) {
        const int k = j % B;
        if (j == i || same_group(batch.group, i, k)) continue;
        const double d = distance(i, j);
        if (neg < 0 || d < d_neg) {
          neg = j;
          d_neg = d;
        }
      }
    }
    s->negative[i] = neg;
    if (neg < 0) continue;
    const double hinge = distance(i, i) - d_neg + options_.margin;
    if (hinge > 0) {
      s->active[i] = true;
      loss += hinge;
    }
  }
  s->loss = loss / B;
  saved_ = std::move(s);
  return static_cast<float>(saved_->loss);
}

void TripletLoss::backward(float scale, const EmbeddingGrads& grads) {
  require_forward(saved_ != nullptr, name());
  const Saved& s = *saved_;
  const int B = s.batch.batch, D = s.batch.dim;
  const bool has_negative = s.batch.negative != nullptr;
  // d loss / d d(a_i, p_i) = 1/B and d loss / d d(a_i, neg_i) = -1/B on active rows.
  const double w = 1.0 / B;
  if (options_.distance == TripletDistance::kCosine) {
    // d = 1 - ua.uc: dd/dua = -uc, dd/duc = -ua.
    MatrixD dua = MatrixD::Zero(B, D), dup = MatrixD::Zero(B, D), dun = MatrixD::Zero(B, D);
    for (int i = 0; i < B; ++i) {
      if (!s.active[i]) continue;
      dua.row(i) -= w * s.p.u.row(i);  // + w * d(a_i, p_i)
      dup.row(i) -= w * s.a.u.row(i);
      const int j = s.negative[i], k = j % B;
      const bool in_p = j < B;
      dua.row(i) += w * (in_p ? s.p.u : s.n.u).row(k);  // - w * d(a_i, neg_i)
      (in_p ? dup : dun).row(k) += w * s.a.u.row(i);
    }
    s.a.backward(dua, scale, grads.anchor);
    s.p.backward(dup, scale, grads.positive);
    if (has_negative) s.n.backward(dun, scale, grads.negative);
    return;
  }
  // d = ||x - y||: dd/dx = (x - y) / d, dd/dy = -(x - y) / d (0 at d = 0).
  const float* inputs[2] = {s.batch.positive, s.batch.negative};
  float* outputs[2] = {grads.positive, grads.negative};
  auto add_distance_grad = [&](int i, int block, int k, double coeff) {
    const float* x = s.batch.anchor + static_cast<std::size_t>(i) * D;
    const float* y = inputs[block] + static_cast<std::size_t>(k) * D;
    const double d = euclidean(x, y, D);
    if (d < kNormEps) return;
    const double c = scale * coeff / d;
    float* gx = grads.anchor ? grads.anchor + static_cast<std::size_t>(i) * D : nullptr;
    float* gy = outputs[block] ? outputs[block] + static_cast<std::size_t>(k) * D : nullptr;
    for (int e = 0; e < D; ++e) {
      const double diff = static_cast<double>(x[e]) - y[e];
      if (gx) gx[e] += static_cast<float>(c * diff);
      if (gy) gy[e] -= static_cast<float>(c * diff);
    }
  };
  for (int i = 0; i < B; ++i) {
    if (!s.active[i]) continue;
    add_distance_grad(i, 0, i, w);
    add_distance_grad(i, s.negative[i] / B, s.negative[i] % B, -w);
  }
}

double TripletLoss::value() const {
  return saved_ ? saved_->loss : 0.0;
}

std::vector<std::pair<std::string, float>> TripletLoss::terms() const {
  return {{name(), saved_ ? static_cast<float>(saved_->loss) : 0.0f}};
}

// ===========================================================================
// Contrastive

struct ContrastiveLoss::Saved {
  int batch = 0, dim = 0;
  UnitRows a, p;                 // (B, D)
  std::vector<double> dloss_dd;  // (B) d loss_i / d d_i, before the 1/B of the mean
  double loss = 0;
};

ContrastiveLoss::ContrastiveLoss(ContrastiveOptions options) : options_(options) {
  if (!(options_.margin >= 0) || !std::isfinite(options_.margin))
    throw UsageError(fmt::format("contrastive loss: margin must be >= 0, got {}", options_.margin));
}
ContrastiveLoss::~ContrastiveLoss() = default;

std::string ContrastiveLoss::name() const {
  return "contrastive";
}

float ContrastiveLoss::forward(const EmbeddingBatch& batch) {
  check_shape(batch, name());
  if (batch.label == nullptr)
    throw UsageError(
        "contrastive loss: the batch has no labels (it needs labeled pairs: label, a, b)");
  auto s = std::make_unique<Saved>();
  const int B = batch.batch, D = batch.dim;
  s->batch = B;
  s->dim = D;
  s->a.forward(batch.anchor, B, D);
  s->p.forward(batch.positive, B, D);
  s->dloss_dd.assign(B, 0.0);
  const double margin = options_.margin;
  double loss = 0;
  for (int i = 0; i < B; ++i) {
    const double y = batch.label[i];
    const double d = 1.0 - s->a.u.row(i).dot(s->p.u.row(i));
    const double gap = std::max(0.0, margin - d);
    loss += 0.5 * (y * d * d + (1 - y) * gap * gap);
    s->dloss_dd[i] = y * d - (1 - y) * gap;
  }
  s->loss = loss / B;
  saved_ = std::move(s);
  return static_cast<float>(saved_->loss);
}

void ContrastiveLoss::backward(float scale, const EmbeddingGrads& grads) {
  require_forward(saved_ != nullptr, name());
  const Saved& s = *saved_;
  const int B = s.batch, D = s.dim;
  // d = 1 - ua.up: dd/dua = -up, dd/dup = -ua.
  MatrixD dua(B, D), dup(B, D);
  for (int i = 0; i < B; ++i) {
    const double g = s.dloss_dd[i] / B;
    dua.row(i) = -g * s.p.u.row(i);
    dup.row(i) = -g * s.a.u.row(i);
  }
  s.a.backward(dua, scale, grads.anchor);
  s.p.backward(dup, scale, grads.positive);
}

double ContrastiveLoss::value() const {
  return saved_ ? saved_->loss : 0.0;
}

std::vector<std::pair<std::string, float>> ContrastiveLoss::terms() const {
  return {{name(), saved_ ? static_cast<float>(saved_->loss) : 0.0f}};
}

// ===========================================================================
// Weighted sum

void WeightedSumLoss::add(std::unique_ptr<Loss> loss, float weight) {
  if (!(weight >= 0) || !std::isfinite(weight))
    throw UsageError(fmt::format("loss weight of {} must be finite and >= 0, got {}",
                                 loss ? loss->name() : "?", weight));
  parts_.emplace_back(std::move(loss), weight);
}

std::string WeightedSumLoss::name() const {
  std::string out;
  for (const auto& [loss, weight] : parts_)
    out += fmt::format("{}{:g}*{}", out.empty() ? "" : "+", weight, loss->name());
  return out;
}

bool WeightedSumLoss::needs_negative() const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [](const auto& part) { return part.first->needs_negative(); });
}

bool WeightedSumLoss::needs_label() const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [](const auto& part) { return part.first->needs_label(); });
}

float WeightedSumLoss::forward(const EmbeddingBatch& batch) {
  if (parts_.empty()) throw UsageError("weighted sum loss has no terms");
  for (auto& [part, weight] : parts_) part->forward(batch);
  return static_cast<float>(value());
}

double WeightedSumLoss::value() const {
  double loss = 0;
  for (const auto& [part, weight] : parts_) loss += static_cast<double>(weight) * part->value();
  return loss;
}

void WeightedSumLoss::backward(float scale, const EmbeddingGrads& grads) {
  for (auto& [part, weight] : parts_) part->backward(scale * weight, grads);
}

std::vector<std::pair<std::string, float>> WeightedSumLoss::terms() const {
  std::vector<std::pair<std::string, float>> out;
  for (const auto& [part, weight] : parts_)
    for (const auto& term : part->terms()) out.push_back(term);
  return out;
}

// ===========================================================================
// Factory

// ---------------------------------------------------------------------------
// MatryoshkaLoss

struct MatryoshkaLoss::Prefix {
  int dim;
  std::unique_ptr<Loss> inner;
  std::vector<float> u, du;   // (3, B, dim) renormalised prefixes and their gradients
  std::vector<double> norms;  // (3, B) ||x[:dim]||
};

MatryoshkaLoss::MatryoshkaLoss(std::vector<int> dims,
                               const std::function<std::unique_ptr<Loss>()>& make_inner) {
  if (dims.empty()) throw UsageError("matryoshka: no widths");
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 1 || (i > 0 && dims[i] >= dims[i - 1]))
      throw UsageError(fmt::format("matryoshka widths must be decreasing and >= 1, got {}",
                                   fmt::join(dims, ",")));
    auto p = std::make_unique<Prefix>();
    p->dim = dims[i];
    p->inner = make_inner();
    prefixes_.push_back(std::move(p));
  }
}

MatryoshkaLoss::~MatryoshkaLoss() = default;

std::string MatryoshkaLoss::name() const {
  return "matryoshka(" + prefixes_[0]->inner->name() + ")";
}
bool MatryoshkaLoss::needs_negative() const {
  return prefixes_[0]->inner->needs_negative();
}
bool MatryoshkaLoss::needs_label() const {
  return prefixes_[0]->inner->needs_label();
}

float MatryoshkaLoss::forward(const EmbeddingBatch& batch) {
  if (prefixes_[0]->dim > batch.dim)
    throw UsageError(fmt::format("matryoshka width {} exceeds the embedding width {}",
                                 prefixes_[0]->dim, batch.dim));
  batch_ = batch;
  const int B = batch.batch, D = batch.dim;
  const float* parts[3] = {batch.anchor, batch.positive, batch.negative};
  for (auto& p : prefixes_) {
    const int k = p->dim;
    p->u.assign(3 * std::size_t(B) * k, 0.0f);
    p->norms.assign(3 * std::size_t(B), 0.0);
    for (int part = 0; part < 3; ++part) {
      if (!parts[part]) continue;
      for (int i = 0; i < B; ++i) {
        const float* x = parts[part] + std::size_t(i) * D;
        double squares = 0;
        for (int c = 0; c < k; ++c) squares += double(x[c]) * x[c];
        const double norm = std::max(std::sqrt(squares), 1e-12);
        p->norms[part * B + i] = norm;
        float* u = p->u.data() + (std::size_t(part) * B + i) * k;
        for (int c = 0; c < k; ++c) u[c] = static_cast<float>(x[c] / norm);
      }
    }
    EmbeddingBatch prefix = batch;
    prefix.anchor = p->u.data();
    prefix.positive = p->u.data() + std::size_t(B) * k;
    prefix.negative = batch.negative ? p->u.data() + 2 * std::size_t(B) * k : nullptr;
    prefix.dim = k;
    p->inner->forward(prefix);
  }
  return static_cast<float>(value());
}

double MatryoshkaLoss::value() const {
  double total = 0;
  for (const auto& p : prefixes_) total += p->inner->value();
  return total;
}

void MatryoshkaLoss::backward(float scale, const EmbeddingGrads& grads) {
  const int B = batch_.batch, D = batch_.dim;
  float* out[3] = {grads.anchor, grads.positive, batch_.negative ? grads.negative : nullptr};
  for (auto& p : prefixes_) {
    const int k = p->dim;
    const std::size_t Bk = std::size_t(B) * k;
    p->du.assign(3 * Bk, 0.0f);
    p->inner->backward(scale, {p->du.data(), p->du.data() + Bk,
                               batch_.negative ? p->du.data() + 2 * Bk : nullptr});
    for (int part = 0; part < 3; ++part) {
      if (!out[part]) continue;
      for (int i = 0; i < B; ++i) {
        const float* u = p->u.data() + (std::size_t(part) * B + i) * k;
        const float* du = p->du.data() + (std::size_t(part) * B + i) * k;
        double u_du = 0;
        for (int c = 0; c < k; ++c) u_du += double(u[c]) * du[c];
        const double inv_norm = 1.0 / p->norms[part * B + i];
        float* dx = out[part] + std::size_t(i) * D;
        for (int c = 0; c < k; ++c) dx[c] += static_cast<float>((du[c] - u[c] * u_du) * inv_norm);
      }
    }
  }
}

std::vector<std::pair<std::string, float>> MatryoshkaLoss::terms() const {
  std::vector<std::pair<std::string, float>> t;
  for (const auto& p : prefixes_)
    t.emplace_back(fmt::format("matryoshka@{}", p->dim), static_cast<float>(p->inner->value()));
  return t;
}

// ---------------------------------------------------------------------------

std::string loss_names() {
  return "infonce, symmetric_infonce, triplet, batch_hard_triplet, contrastive";
}

namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

std::unique_ptr<Loss> make_single_loss(const std::string& name, const LossOptions& options) {
  if (name == "infonce") return std::make_unique<InfoNceLoss>(options.infonce);
  if (name == "symmetric_infonce") {
    InfoNceOptions o = options.infonce;
    o.symmetric = true;
    return std::make_unique<InfoNceLoss>(o);
  }
  if (name == "triplet") return std::make_unique<TripletLoss>(options.triplet);
  if (name == "batch_hard_triplet") {
    TripletOptions o = options.triplet;
    o.batch_hard = true;
    return std::make_unique<TripletLoss>(o);
  }
  if (name == "contrastive") return std::make_unique<ContrastiveLoss>(options.contrastive);
  throw UsageError(fmt::format("unknown loss '{}' (expected one of: {})", name, loss_names()));
}

std::vector<std::pair<std::string, std::string>> parse_loss_spec(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> parts;  // name, weight text ("" = none)
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = spec.find(',', start);
    const std::string part =
        trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (part.empty())
      throw UsageError(
          fmt::format("loss spec '{}': empty term (expected NAME or NAME:WEIGHT, "
                      "comma separated, e.g. infonce:1,triplet:0.5)",
                      spec));
    const std::size_t colon = part.find(':');
    if (colon == std::string::npos)
      parts.emplace_back(part, "");
    else
      parts.emplace_back(trim(part.substr(0, colon)), trim(part.substr(colon + 1)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

}  // namespace

std::vector<std::string> loss_spec_names(const std::string& spec) {
  std::vector<std::string> names;
  for (const auto& part : parse_loss_spec(spec)) names.push_back(part.first);
  return names;
}

std::unique_ptr<Loss> make_loss(const std::string& spec, const LossOptions& options) {
  const auto parts = parse_loss_spec(spec);
  if (parts.size() == 1 && parts[0].second.empty())
    return make_single_loss(parts[0].first, options);
  auto sum = std::make_unique<WeightedSumLoss>();
  for (const auto& [name, weight_text] : parts) {
    double weight = 1.0;
    if (!weight_text.empty()) {
      std::size_t used = 0;
      try {
        weight = std::stod(weight_text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != weight_text.size() || !std::isfinite(weight) || weight < 0)
        throw UsageError(
            fmt::format("loss spec '{}': weight '{}' of {} is not a finite number >= 0", spec,
                        weight_text, name));
    }
    sum->add(make_single_loss(name, options), static_cast<float>(weight));
  }
  return sum;
}

}  // namespace sentemb
