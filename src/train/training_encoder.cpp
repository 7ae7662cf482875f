#include "train/training_encoder.h"

#include <algorithm>
#include <cstring>

#include "nn/embedding.h"
#include "nn/pooling.h"
#include "train/dropout.h"
#include "train/pooling_backward.h"

namespace sentemb::train {

namespace {

// Distinct dropout streams for each site of each layer within one step.
std::uint64_t site_seed(std::uint64_t step_seed, int layer, int site) {
  return step_seed * 0x100000001b3ull + static_cast<std::uint64_t>(layer) * 16 + site;
}

}  // namespace

TrainingEncoder::TrainingEncoder(const ModelConfig& config, int max_sequences, DropoutRates dropout,
                                 bool bf16)
    : config_(config),
      max_sequences_(max_sequences),
      dropout_(dropout),
      bf16_(bf16),
      layernorm_(config.dim, config.layernorm_eps),
      qkv_(config.dim, 3 * config.dim, {.bf16 = bf16}),
      proj_(config.dim, config.dim, {.bf16 = bf16}),
      fc1_(config.dim, config.ffn_dim, {.bf16 = bf16}),
      fc2_(config.ffn_dim, config.dim, {.bf16 = bf16}),
      attention_(config.dim, config.heads),
      layernorm_backward_(config.dim, config.layernorm_eps),
      qkv_backward_(config.dim, 3 * config.dim, bf16),
      proj_backward_(config.dim, config.dim, bf16),
      fc1_backward_(config.dim, config.ffn_dim, bf16),
      fc2_backward_(config.ffn_dim, config.dim, bf16),
      attention_backward_(attention_) {
  const std::size_t S = max_sequences, T = config.max_len, N = S * T, C = config.dim,
                    F = config.ffn_dim, P = S * config.heads * T * T;
  ids_.resize(N);
  positions_.resize(N);
  lengths_.resize(S);
  offsets_.resize(S);
  key_mask_.resize(N);
  padded_.resize(N * 3 * C);
  emb_mask_.resize(N * C);
  layers_.resize(config.layers);
  for (auto& l : layers_) {
    l.x_in.resize(N * C);
    l.ln1.resize(N * C);
    l.ln1_mean.resize(N);
    l.ln1_var.resize(N);
    l.qkv.resize(N * 3 * C);
    l.probs.resize(P);
    if (dropout.attention > 0) {
      l.probs_used.resize(P);
      l.probs_mask.resize(P);
    }
    l.ctx.resize(N * C);
    if (dropout.residual > 0) {
      l.attn_mask.resize(N * C);
      l.ffn_mask.resize(N * C);
    }
    l.x_mid.resize(N * C);
    l.ln2.resize(N * C);
    l.ln2_mean.resize(N);
    l.ln2_var.resize(N);
    l.fc1_pre.resize(N * F);
    l.fc1_act.resize(N * F);
    if (bf16) {
      l.ln1_bf16.resize(N * C);
      l.ctx_bf16.resize(N * C);
      l.ln2_bf16.resize(N * C);
      l.fc1_act_bf16.resize(N * F);
      l.qkv_w.resize(C * 3 * C);
      l.proj_w.resize(C * C);
      l.fc1_w.resize(C * F);
      l.fc2_w.resize(F * C);
    }
  }
  x_final_.resize(N * C);
  lnf_.resize(N * C);
  lnf_mean_.resize(N);
  lnf_var_.resize(N);
  lnf_padded_.resize(N * C);
  pooled_.resize(S * C);
  argmax_.resize(S * C);
  norms_.resize(S);
  out_.resize(S * C);
  dx_.resize(N * C);
  dbranch_.resize(N * C);
  dnarrow_.resize(N * C);
  dwide_.resize(N * std::max(F, C));
  dqkv_.resize(N * 3 * C);
  dqkv_padded_.resize(N * 3 * C);
  dpooled_.resize(S * C);
}

// One sequence per iteration, in parallel: the copies move (N, 3C) floats per layer.
void TrainingEncoder::scatter(const float* packed, float* padded, int width) const {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B_; ++b) {
    const std::int64_t real = std::int64_t(lengths_[b]) * width, row = std::int64_t(T_) * width;
    float* dst = padded + b * row;
    std::copy_n(packed + std::int64_t(offsets_[b]) * width, real, dst);
    std::fill(dst + real, dst + row, 0.0f);
  }
}

void TrainingEncoder::gather(const float* padded, float* packed, int width) const {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B_; ++b)
    std::copy_n(padded + std::int64_t(b) * T_ * width, std::int64_t(lengths_[b]) * width,
                packed + std::int64_t(offsets_[b]) * width);
}

const void* TrainingEncoder::operand(const std::vector<float>& x, std::vector<std::uint16_t>& copy,
                                     std::int64_t n) const {
  if (!bf16_) return x.data();
  nn::to_bf16(x.data(), copy.data(), n);
  return copy.data();
}

TrainingEncoder::LinearOperands TrainingEncoder::linear_inputs(const Layer& l) const {
  if (bf16_)
    return {l.ln1_bf16.data(), l.ctx_bf16.data(), l.ln2_bf16.data(), l.fc1_act_bf16.data()};
  return {l.ln1.data(), l.ctx.data(), l.ln2.data(), l.fc1_act.data()};
}

TrainingEncoder::LinearOperands TrainingEncoder::linear_weights(const Layer& l,
                                                                const BlockTensors& w) const {
  if (bf16_) return {l.qkv_w.data(), l.proj_w.data(), l.fc1_w.data(), l.fc2_w.data()};
  return {w.qkv_w, w.proj_w, w.fc1_w, w.fc2_w};
}

// x_out = x + drop(branch): the residual add, with the branch's dropout when on.
void TrainingEncoder::add_branch(const float* x, const float* branch, float* mask, float* x_out,
                                 std::int64_t n, std::uint64_t seed) const {
  if (dropout_.residual > 0) {
    dropout_add(x, branch, x_out, mask, n, dropout_.residual, seed);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) x_out[i] = x[i] + branch[i];
}

void TrainingEncoder::forward(const float* parameters,
                              const std::vector<const std::vector<int>*>& batch, float* out,
                              std::uint64_t dropout_seed) {
  const auto p = bind_parameters(config_, const_cast<float*>(parameters));
  const int B = static_cast<int>(batch.size());
  int T = 1, N = 0;
  for (int b = 0; b < B; ++b) {
    lengths_[b] = static_cast<int>(batch[b]->size());
    offsets_[b] = N;
    N += lengths_[b];
    T = std::max(T, lengths_[b]);
  }
  const int C = config_.dim;
  const std::int64_t NC = std::int64_t(N) * C, NF = std::int64_t(N) * config_.ffn_dim;
  B_ = B;
  T_ = T;
  N_ = N;
  no_padding_ = N == B * T;
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < lengths_[b]; ++t) {
      ids_[offsets_[b] + t] = (*batch[b])[t];
      positions_[offsets_[b] + t] = t;
    }
    for (int t = 0; t < T; ++t) key_mask_[b * T + t] = t < lengths_[b] ? 0.0f : nn::kMaskedScore;
  }

  float* x = layers_[0].x_in.data();
  nn::embedding_forward_rows(x, ids_.data(), positions_.data(), p.tok_emb, p.pos_emb, N, C);
  if (dropout_.embedding > 0)
    dropout_forward(x, x, emb_mask_.data(), NC, dropout_.embedding, site_seed(dropout_seed, 0, 0));

  for (int li = 0; li < config_.layers; ++li) {
    auto& l = layers_[li];
    const auto& w = p.blocks[li];
    if (bf16_) {  // this step's bf16 rounding of the master weights
      nn::to_bf16(w.qkv_w, l.qkv_w.data(), l.qkv_w.size());
      nn::to_bf16(w.proj_w, l.proj_w.data(), l.proj_w.size());
      nn::to_bf16(w.fc1_w, l.fc1_w.data(), l.fc1_w.size());
      nn::to_bf16(w.fc2_w, l.fc2_w.data(), l.fc2_w.size());
    }
    const auto lw = linear_weights(l, w);
    // x_mid = x_in + drop(Attention(LN1(x_in)) · Wproj + bproj)
    layernorm_.forward_training(l.x_in.data(), w.ln1_w, w.ln1_b, l.ln1.data(), l.ln1_mean.data(),
                                l.ln1_var.data(), N);
    // qkv (N, 3C) packed, in scratch, then scattered to the padded layout attention reads.
    qkv_.forward(operand(l.ln1, l.ln1_bf16, NC), lw.qkv, w.qkv_b,
                 no_padding_ ? l.qkv.data() : dqkv_.data(), N);
    if (!no_padding_) scatter(dqkv_.data(), l.qkv.data(), 3 * C);
    attention_.scores_softmax(l.qkv.data(), key_mask_.data(), l.probs.data(), B, T);
    const float* used = l.probs.data();
    if (dropout_.attention > 0) {
      dropout_forward(l.probs.data(), l.probs_used.data(), l.probs_mask.data(),
                      std::int64_t(B) * config_.heads * T * T, dropout_.attention,
                      site_seed(dropout_seed, li, 1));
      used = l.probs_used.data();
    }
    attention_.context(used, l.qkv.data(), no_padding_ ? l.ctx.data() : padded_.data(), B, T);
    if (!no_padding_) gather(padded_.data(), l.ctx.data(), C);
    proj_.forward(operand(l.ctx, l.ctx_bf16, NC), lw.proj, w.proj_b, dbranch_.data(), N);
    add_branch(l.x_in.data(), dbranch_.data(), l.attn_mask.data(), l.x_mid.data(), NC,
               site_seed(dropout_seed, li, 2));
    // x_out = x_mid + drop(GELU(LN2(x_mid) · W1 + b1) · W2 + b2)
    layernorm_.forward_training(l.x_mid.data(), w.ln2_w, w.ln2_b, l.ln2.data(), l.ln2_mean.data(),
                                l.ln2_var.data(), N);
    fc1_.forward(operand(l.ln2, l.ln2_bf16, NC), lw.fc1, w.fc1_b, l.fc1_pre.data(), N);
    gelu_.forward(l.fc1_pre.data(), l.fc1_act.data(), NF);
    fc2_.forward(operand(l.fc1_act, l.fc1_act_bf16, NF), lw.fc2, w.fc2_b, dbranch_.data(), N);
    float* x_out = li + 1 < config_.layers ? layers_[li + 1].x_in.data() : x_final_.data();
    add_branch(l.x_mid.data(), dbranch_.data(), l.ffn_mask.data(), x_out, NC,
               site_seed(dropout_seed, li, 3));
  }
  layernorm_.forward_training(x_final_.data(), p.lnf_w, p.lnf_b, lnf_.data(), lnf_mean_.data(),
                              lnf_var_.data(), N);
  if (!no_padding_) scatter(lnf_.data(), lnf_padded_.data(), C);
  nn::pooling_forward(config_.pooling, pooled_.data(),
                      no_padding_ ? lnf_.data() : lnf_padded_.data(), lengths_.data(), B, T, C,
                      argmax_.data());
  if (config_.normalize)
    nn::l2_normalize_forward(out_.data(), pooled_.data(), norms_.data(), B, C);
  else
    std::copy_n(pooled_.data(), std::int64_t(B) * C, out_.data());
  std::copy_n(out_.data(), std::int64_t(B) * C, out);
}

void TrainingEncoder::backward(const float* parameters, const float* dout, float* grads) {
  const auto p = bind_parameters(config_, const_cast<float*>(parameters));
  const auto g = bind_parameters(config_, grads);
  const int B = B_, T = T_, C = config_.dim, N = N_;
  const std::int64_t NC = std::int64_t(N) * C, NF = std::int64_t(N) * config_.ffn_dim;

  // Head: L2 normalisation, pooling, final LayerNorm.
  std::fill_n(dpooled_.data(), std::int64_t(B) * C, 0.0f);
  if (config_.normalize)
    l2_normalize_backward(out_.data(), norms_.data(), dout, dpooled_.data(), B, C);
  else
    std::copy_n(dout, std::int64_t(B) * C, dpooled_.data());
  float* dlnf_padded = no_padding_ ? dnarrow_.data() : lnf_padded_.data();
  std::fill_n(dlnf_padded, std::int64_t(B) * T * C, 0.0f);
  pooling_backward(config_.pooling, dpooled_.data(), lengths_.data(), argmax_.data(), dlnf_padded,
                   B, T, C);
  if (!no_padding_) gather(lnf_padded_.data(), dnarrow_.data(), C);
  std::fill_n(dx_.data(), NC, 0.0f);
  layernorm_backward_.backward(x_final_.data(), p.lnf_w, p.lnf_b, lnf_mean_.data(), lnf_var_.data(),
                               dnarrow_.data(), dx_.data(), g.lnf_w, g.lnf_b, N);

  // Blocks in reverse. dx_ holds dL/d(stream) and collects both paths of each residual.
  for (int li = config_.layers - 1; li >= 0; --li) {
    auto& l = layers_[li];
    const auto& w = p.blocks[li];
    const auto& gw = g.blocks[li];
    const auto in = linear_inputs(l);
    const auto lw = linear_weights(l, w);
    // FFN branch.
    const float* dbranch = dx_.data();
    if (dropout_.residual > 0) {
      dropout_backward(dx_.data(), dbranch_.data(), l.ffn_mask.data(), NC);
      dbranch = dbranch_.data();
    }
    fc2_backward_.backward(in.fc2, lw.fc2, dbranch, dwide_.data(), false, gw.fc2_w, gw.fc2_b, N);
    gelu_.backward(l.fc1_pre.data(), dwide_.data(), dwide_.data(), NF);
    fc1_backward_.backward(in.fc1, lw.fc1, dwide_.data(), dnarrow_.data(), false, gw.fc1_w,
                           gw.fc1_b, N);
    layernorm_backward_.backward(l.x_mid.data(), w.ln2_w, w.ln2_b, l.ln2_mean.data(),
                                 l.ln2_var.data(), dnarrow_.data(), dx_.data(), gw.ln2_w, gw.ln2_b,
                                 N);
    // Attention branch.
    dbranch = dx_.data();
    if (dropout_.residual > 0) {
      dropout_backward(dx_.data(), dbranch_.data(), l.attn_mask.data(), NC);
      dbranch = dbranch_.data();
    }
    proj_backward_.backward(in.proj, lw.proj, dbranch, dnarrow_.data(), false, gw.proj_w, gw.proj_b,
                            N);
    const bool attn_dropout = dropout_.attention > 0;
    if (!no_padding_) scatter(dnarrow_.data(), padded_.data(), C);
    attention_backward_.backward(
        l.qkv.data(), l.probs.data(), attn_dropout ? l.probs_used.data() : l.probs.data(),
        attn_dropout ? l.probs_mask.data() : nullptr,
        no_padding_ ? dnarrow_.data() : padded_.data(), dqkv_padded_.data(), B, T);
    if (!no_padding_) gather(dqkv_padded_.data(), dqkv_.data(), 3 * C);
    qkv_backward_.backward(in.qkv, lw.qkv, no_padding_ ? dqkv_padded_.data() : dqkv_.data(),
                           dnarrow_.data(), false, gw.qkv_w, gw.qkv_b, N);
    layernorm_backward_.backward(l.x_in.data(), w.ln1_w, w.ln1_b, l.ln1_mean.data(),
                                 l.ln1_var.data(), dnarrow_.data(), dx_.data(), gw.ln1_w, gw.ln1_b,
                                 N);
  }
  if (dropout_.embedding > 0) dropout_backward(dx_.data(), dx_.data(), emb_mask_.data(), NC);
  embedding_backward_rows(dx_.data(), ids_.data(), positions_.data(), g.tok_emb, g.pos_emb, N, C);
}

}  // namespace sentemb::train
