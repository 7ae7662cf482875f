#include "encoder_forward.h"

#include <algorithm>

#include "nn/embedding.h"
#include "nn/pooling.h"

namespace sentemb {

EncoderForward::EncoderForward(const ModelConfig& config, const float* parameters,
                               Precision precision, int max_batch)
    : config_(config),
      params_(bind_parameters(config, const_cast<float*>(parameters))),
      bf16_(precision == Precision::kBf16),
      max_batch_(max_batch),
      layernorm_(config.dim, config.layernorm_eps),
      qkv_(config.dim, 3 * config.dim, {false, false, bf16_}),
      proj_(config.dim, config.dim, {false, true, bf16_}),
      fc1_(config.dim, config.ffn_dim, {true, false, bf16_}),
      fc2_(config.ffn_dim, config.dim, {false, true, bf16_}),
      attention_(config.dim, config.heads) {
  const std::int64_t BT = std::int64_t(max_batch) * config.max_len, C = config.dim,
                     F = config.ffn_dim, T = config.max_len;
  ids_.resize(BT);
  lengths_.resize(max_batch);
  key_mask_.resize(BT);
  x_.resize(BT * C);
  h_.resize(BT * C);
  qkv_buf_.resize(BT * 3 * C);
  probs_.resize(std::int64_t(max_batch) * config.heads * T * T);
  ffn_.resize(BT * F);
  if (bf16_) {
    bf16_in_.resize(BT * std::max(C, F));
    for (const auto& b : params_.blocks) {
      for (auto [w, n] : {std::pair{b.qkv_w, 3 * C * C}, std::pair{b.proj_w, C * C},
                          std::pair{b.fc1_w, C * F}, std::pair{b.fc2_w, F * C}}) {
        bf16_weights_.emplace_back(n);
        nn::to_bf16(w, bf16_weights_.back().data(), n);
      }
    }
  }
}

const void* EncoderForward::weight(const float* w, std::size_t index) const {
  return bf16_ ? static_cast<const void*>(bf16_weights_[index].data()) : w;
}

const void* EncoderForward::input(const float* x, std::int64_t n) {
  if (!bf16_) return x;
  nn::to_bf16(x, bf16_in_.data(), n);
  return bf16_in_.data();
}

void EncoderForward::forward(const std::vector<const std::vector<int>*>& batch, float* out,
                             bool normalize) {
  const int B = static_cast<int>(batch.size());
  int T = 1;
  for (const auto* s : batch) T = std::max<int>(T, static_cast<int>(s->size()));
  const int C = config_.dim, F = config_.ffn_dim, N = B * T;

  // Pad to T with id 0; padded keys are masked out of every attention row, and
  // pooling reads only real positions, so padding never changes a sentence's vector.
  for (int b = 0; b < B; ++b) {
    const auto& s = *batch[b];
    lengths_[b] = static_cast<int>(s.size());
    for (int t = 0; t < T; ++t) {
      const bool real = t < lengths_[b];
      ids_[b * T + t] = real ? s[t] : 0;
      key_mask_[b * T + t] = real ? 0.0f : nn::kMaskedScore;
    }
  }
  nn::embedding_forward(x_.data(), ids_.data(), params_.tok_emb, params_.pos_emb, B, T, C);

  for (std::size_t l = 0; l < params_.blocks.size(); ++l) {
    const auto& p = params_.blocks[l];
    const std::size_t w = 4 * l;  // index of this block's first bf16 weight
    layernorm_.forward(x_.data(), p.ln1_w, p.ln1_b, h_.data(), N);
    qkv_.forward(input(h_.data(), std::int64_t(N) * C), weight(p.qkv_w, w), p.qkv_b,
                 qkv_buf_.data(), N);
    attention_.forward(qkv_buf_.data(), key_mask_.data(), probs_.data(), h_.data(), B, T);
    proj_.forward(input(h_.data(), std::int64_t(N) * C), weight(p.proj_w, w + 1), p.proj_b,
                  x_.data(), N);
    layernorm_.forward(x_.data(), p.ln2_w, p.ln2_b, h_.data(), N);
    fc1_.forward(input(h_.data(), std::int64_t(N) * C), weight(p.fc1_w, w + 2), p.fc1_b,
                 ffn_.data(), N);
    fc2_.forward(input(ffn_.data(), std::int64_t(N) * F), weight(p.fc2_w, w + 3), p.fc2_b,
                 x_.data(), N);
  }
  layernorm_.forward(x_.data(), params_.lnf_w, params_.lnf_b, h_.data(), N);
  nn::pooling_forward(config_.pooling, out, h_.data(), lengths_.data(), B, T, C);
  if (normalize) nn::l2_normalize_forward(out, out, nullptr, B, C);
}

}  // namespace sentemb
