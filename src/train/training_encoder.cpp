#include "train/training_encoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "nn/embedding.h"
#include "nn/pooling.h"
#include "sentemb/errors.h"
#include "train/dropout.h"
#include "train/pooling_backward.h"

namespace sentemb::train {

namespace {

// Distinct dropout streams for each site of each layer within one step.
std::uint64_t site_seed(std::uint64_t step_seed, int layer, int site) {
  return step_seed * 0x100000001b3ull + static_cast<std::uint64_t>(layer) * 16 + site;
}

}  // namespace

TrainingEncoder::TrainingEncoder(const ModelConfig& config, DropoutRates dropout, bool bf16)
    : config_(config),
      dropout_(dropout),
      bf16_(bf16),
      layernorm_(config.dim, config.layernorm_eps),
      qkv_(config.dim, 3 * config.dim, {.bf16 = bf16, .bf16_out = bf16}),
      proj_(config.dim, config.dim, {.bf16 = bf16}),
      fc1_(config.dim, config.ffn_dim, {.bf16 = bf16}),
      fc2_(config.ffn_dim, config.dim, {.bf16 = bf16}),
      attention_(config.dim, config.heads, bf16),
      layernorm_backward_(config.dim, config.layernorm_eps),
      qkv_backward_(config.dim, 3 * config.dim, bf16),
      proj_backward_(config.dim, config.dim, bf16),
      fc1_backward_(config.dim, config.ffn_dim, bf16),
      fc2_backward_(config.ffn_dim, config.dim, bf16),
      attention_backward_(attention_) {
  layers_.resize(config.layers);
  if (bf16) {
    const std::size_t C = config.dim, F = config.ffn_dim;
    for (auto& l : layers_) {
      l.qkv_w.resize(C * 3 * C);
      l.proj_w.resize(C * C);
      l.fc1_w.resize(C * F);
      l.fc2_w.resize(F * C);
    }
  }
}

namespace {

template <class T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

// Activations are sized by the largest batch seen so far, not for the largest
// possible one up front: training batches are mostly far shorter than max_len, and the
// memory is touched (zero-filled) only as it is used.
void TrainingEncoder::fit(int B, int T, int N) {
  const std::size_t C = config_.dim, F = config_.ffn_dim, S = B, BT = std::size_t(B) * T,
                    NC = std::size_t(N) * C, NF = std::size_t(N) * F, P = S * config_.heads * T * T;
  // The backward needs every layer's attention probabilities, (B, NH, T, T) fp32
  // each (more with attention dropout or bf16): a batch that cannot keep them is an
  // error here, before any allocation, not a failure deep in the allocator.
  const double attention_bytes = double(P) * config_.layers * sizeof(float);
  if (attention_bytes > kMaxAttentionBytes)
    throw UsageError(fmt::format(
        "a training batch of {} sentences padded to {} tokens needs {:.1f} GB for its attention "
        "probabilities ({} layers x {} heads x {} x {} floats per sentence), more than {:.0f} GB: "
        "lower --batch or --max-len",
        B, T, attention_bytes / 1e9, config_.layers, config_.heads, T, T,
        kMaxAttentionBytes / 1e9));
  grow(ids_, N);
  grow(positions_, N);
  grow(lengths_, S);
  grow(offsets_, S);
  grow(key_mask_, BT);
  if (dropout_.embedding > 0) grow(emb_mask_, NC);
  for (auto& l : layers_) {
    grow(l.x_in, NC);
    grow(l.ln1_mean, N);
    grow(l.ln1_var, N);
    grow(l.probs, P);
    if (dropout_.attention > 0) grow(l.probs_mask, P);
    if (dropout_.residual > 0) {
      grow(l.attn_mask, NC);
      grow(l.ffn_mask, NC);
    }
    grow(l.x_mid, NC);
    grow(l.ln2_mean, N);
    grow(l.ln2_var, N);
    grow(l.fc1_dgelu, NF);
    if (bf16_) {  // the linear and attention inputs are kept in bf16 only
      grow(l.qkv_bf16, BT * 3 * C);
      grow(l.probs_bf16, P);
      grow(l.ln1_bf16, NC);
      grow(l.ctx_bf16, NC);
      grow(l.ln2_bf16, NC);
      grow(l.fc1_act_bf16, NF);
    } else {
      grow(l.qkv, BT * 3 * C);
      if (dropout_.attention > 0) grow(l.probs_used, P);
      grow(l.ln1, NC);
      grow(l.ctx, NC);
      grow(l.ln2, NC);
      grow(l.fc1_act, NF);
    }
  }
  if (bf16_) {
    grow(staging_, std::max(NC, NF));
    grow(dctx_bf16_, BT * C);
    if (dropout_.attention > 0) grow(probs_staging_, P);
  }
  grow(x_final_, NC);
  grow(lnf_, NC);
  grow(lnf_mean_, N);
  grow(lnf_var_, N);
  grow(pooled_, S * C);
  grow(argmax_, S * C);
  grow(norms_, S);
  grow(out_, S * C);
  grow(dx_, NC);
  grow(dbranch_, NC);
  grow(dnarrow_, NC);
  grow(dwide_, std::size_t(N) * std::max(F, C));
  grow(dqkv_padded_, BT * 3 * C);
  grow(dpooled_, S * C);
  if (BT != std::size_t(N)) {  // the packed <-> padded copies' buffers (none without padding)
    grow(padded_, BT * C);
    grow(lnf_padded_, BT * C);
    grow(dqkv_, NC * 3);
    if (bf16_) {
      grow(packed_bf16_, NC * 3);
      grow(padded_bf16_, BT * C);
    }
  }
}

// One sequence per iteration, in parallel: the copies move (N, 3C) values per layer.
template <class V>
void TrainingEncoder::scatter(const V* packed, V* padded, int width) const {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B_; ++b) {
    const std::int64_t real = std::int64_t(lengths_[b]) * width, row = std::int64_t(T_) * width;
    V* dst = padded + b * row;
    std::copy_n(packed + std::int64_t(offsets_[b]) * width, real, dst);
    std::fill(dst + real, dst + row, V{0});
  }
}

template <class V>
void TrainingEncoder::gather(const V* padded, V* packed, int width) const {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B_; ++b)
    std::copy_n(padded + std::int64_t(b) * T_ * width, std::int64_t(lengths_[b]) * width,
                packed + std::int64_t(offsets_[b]) * width);
}

float* TrainingEncoder::linear_input(std::vector<float>& kept) {
  return bf16_ ? staging_.data() : kept.data();
}

const void* TrainingEncoder::operand(const float* x, std::vector<std::uint16_t>& copy,
                                     std::int64_t n) const {
  if (!bf16_) return x;
  nn::to_bf16(x, copy.data(), n);
  return copy.data();
}

void* TrainingEncoder::attention_input(Layer& l) const {
  return bf16_ ? static_cast<void*>(l.qkv_bf16.data()) : l.qkv.data();
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
                                 std::int64_t n, std::uint64_t seed,
                                 const std::uint64_t* keys) const {
  if (dropout_.residual > 0) {
    dropout_sentences(x, branch, x_out, mask, B_, offsets_.data(), lengths_.data(), config_.dim,
                      dropout_.residual, seed, keys);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) x_out[i] = x[i] + branch[i];
}

void TrainingEncoder::forward(const float* parameters,
                              const std::vector<const std::vector<int>*>& batch, float* out,
                              std::uint64_t dropout_seed, const std::uint64_t* keys) {
  const auto p = bind_parameters(config_, const_cast<float*>(parameters));
  const int B = static_cast<int>(batch.size());
  if (!keys) {
    default_keys_.resize(B);
    for (int b = 0; b < B; ++b) default_keys_[b] = static_cast<std::uint64_t>(b);
    keys = default_keys_.data();
  }
  int T = 1, N = 0;
  for (const auto* sentence : batch) {
    N += static_cast<int>(sentence->size());
    T = std::max(T, static_cast<int>(sentence->size()));
  }
  fit(B, T, N);
  for (int b = 0, offset = 0; b < B; ++b) {
    lengths_[b] = static_cast<int>(batch[b]->size());
    offsets_[b] = offset;
    offset += lengths_[b];
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
    dropout_sentences(nullptr, x, x, emb_mask_.data(), B, offsets_.data(), lengths_.data(), C,
                      dropout_.embedding, site_seed(dropout_seed, 0, 0), keys);

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
    float* ln1 = linear_input(l.ln1);
    layernorm_.forward_training(l.x_in.data(), w.ln1_w, w.ln1_b, ln1, l.ln1_mean.data(),
                                l.ln1_var.data(), N);
    // qkv (N, 3C) packed, in scratch, then scattered to the padded layout attention reads
    // (bf16 mode: written in bf16, as the attention products read it).
    void* qkv = attention_input(l);
    const void* ln1_operand = operand(ln1, l.ln1_bf16, NC);
    if (no_padding_) {
      qkv_.forward(ln1_operand, lw.qkv, w.qkv_b, qkv, N);
    } else if (bf16_) {
      qkv_.forward(ln1_operand, lw.qkv, w.qkv_b, packed_bf16_.data(), N);
      scatter(packed_bf16_.data(), l.qkv_bf16.data(), 3 * C);
    } else {
      qkv_.forward(ln1_operand, lw.qkv, w.qkv_b, dqkv_.data(), N);
      scatter(dqkv_.data(), l.qkv.data(), 3 * C);
    }
    attention_.scores_softmax(qkv, no_padding_ ? nullptr : key_mask_.data(), l.probs.data(), B, T);
    // The probabilities that multiply v: dropped out, and in bf16 mode rounded.
    const std::int64_t P = std::int64_t(B) * config_.heads * T * T;
    const float* used = l.probs.data();
    if (dropout_.attention > 0) {
      float* dropped = bf16_ ? probs_staging_.data() : l.probs_used.data();
      dropout_attention(l.probs.data(), dropped, l.probs_mask.data(), B, config_.heads, T,
                        config_.max_len, dropout_.attention, site_seed(dropout_seed, li, 1), keys);
      used = dropped;
    }
    if (bf16_) {
      nn::to_bf16(used, l.probs_bf16.data(), P);
      // ctx straight into its bf16 copy, proj's input.
      attention_.context(l.probs_bf16.data(), qkv,
                         no_padding_ ? l.ctx_bf16.data() : padded_bf16_.data(), B, T);
      if (!no_padding_) gather(padded_bf16_.data(), l.ctx_bf16.data(), C);
      proj_.forward(l.ctx_bf16.data(), lw.proj, w.proj_b, dbranch_.data(), N);
    } else {
      attention_.context(used, qkv, no_padding_ ? l.ctx.data() : padded_.data(), B, T);
      if (!no_padding_) gather(padded_.data(), l.ctx.data(), C);
      proj_.forward(l.ctx.data(), lw.proj, w.proj_b, dbranch_.data(), N);
    }
    add_branch(l.x_in.data(), dbranch_.data(), l.attn_mask.data(), l.x_mid.data(), NC,
               site_seed(dropout_seed, li, 2), keys);
    // x_out = x_mid + drop(GELU(LN2(x_mid) · W1 + b1) · W2 + b2)
    float* ln2 = linear_input(l.ln2);
    layernorm_.forward_training(l.x_mid.data(), w.ln2_w, w.ln2_b, ln2, l.ln2_mean.data(),
                                l.ln2_var.data(), N);
    // GELU in place on fc1's output (fp32), or from staging straight to its bf16 copy.
    float* fc1_out = linear_input(l.fc1_act);
    fc1_.forward(operand(ln2, l.ln2_bf16, NC), lw.fc1, w.fc1_b, fc1_out, N);
    if (bf16_)
      gelu_forward(fc1_out, l.fc1_act_bf16.data(), l.fc1_dgelu.data(), NF);
    else
      gelu_forward(fc1_out, fc1_out, l.fc1_dgelu.data(), NF);
    fc2_.forward(bf16_ ? static_cast<const void*>(l.fc1_act_bf16.data()) : fc1_out, lw.fc2, w.fc2_b,
                 dbranch_.data(), N);
    float* x_out = li + 1 < config_.layers ? layers_[li + 1].x_in.data() : x_final_.data();
    add_branch(l.x_mid.data(), dbranch_.data(), l.ffn_mask.data(), x_out, NC,
               site_seed(dropout_seed, li, 3), keys);
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
    gelu_backward(l.fc1_dgelu.data(), dwide_.data(), dwide_.data(), NF);
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
    // dctx (N, C) in dnarrow_, to the padded layout (and in bf16 mode rounded).
    const void* dctx = dnarrow_.data();
    if (!no_padding_) {
      scatter(dnarrow_.data(), padded_.data(), C);
      dctx = padded_.data();
    }
    if (bf16_) {
      nn::to_bf16(static_cast<const float*>(dctx), dctx_bf16_.data(), std::int64_t(B) * T * C);
      dctx = dctx_bf16_.data();
    }
    const bool attn_dropout = dropout_.attention > 0;
    const void* qkv = attention_input(l);
    const void* used = bf16_          ? static_cast<const void*>(l.probs_bf16.data())
                       : attn_dropout ? l.probs_used.data()
                                      : l.probs.data();
    attention_backward_.backward(qkv, l.probs.data(), used,
                                 attn_dropout ? l.probs_mask.data() : nullptr, dctx,
                                 dqkv_padded_.data(), B, T);
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
