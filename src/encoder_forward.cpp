#include "encoder_forward.h"

#include <algorithm>
#include <stdexcept>

#include "nn/embedding.h"
#include "nn/pooling.h"

namespace sentemb {

namespace {

// bf16_out: in bf16, the layer writes bf16 (qkv for attention, GELU(fc1) for fc2: their
// only readers take bf16).
nn::LinearOptions linear_options(bool gelu, bool accumulate, Precision precision,
                                 bool bf16_out = false) {
  nn::LinearOptions options;
  options.gelu = gelu;
  options.accumulate = accumulate;
  options.bf16 = precision == Precision::kBf16;
  options.bf16_out = bf16_out && options.bf16;
  options.int8 = precision == Precision::kInt8;
  return options;
}

}  // namespace

EncoderForward::EncoderForward(const ModelConfig& config, const ParameterTensors& parameters,
                               Precision precision, int max_batch, Weights weights)
    : config_(config),
      params_(parameters),
      precision_(precision),
      max_batch_(max_batch),
      layernorm_(config.dim, config.layernorm_eps),
      qkv_(config.dim, 3 * config.dim, linear_options(false, false, precision, true)),
      proj_(config.dim, config.dim, linear_options(false, true, precision)),
      fc1_(config.dim, config.ffn_dim, linear_options(true, false, precision, true)),
      fc2_(config.ffn_dim, config.dim, linear_options(false, true, precision)),
      attention_(config.dim, config.heads, precision == Precision::kBf16),
      packable_(weights == Weights::kFixed && precision != Precision::kInt8) {
  if (weights == Weights::kLive && precision != Precision::kFp32)
    throw std::logic_error("EncoderForward: live weights need fp32 (bf16 and int8 copy them)");
  const std::int64_t C = config.dim, F = config.ffn_dim;
  if (precision == Precision::kBf16) {
    for (const auto& b : params_.blocks) {
      for (auto [w, n] : {std::pair{b.qkv_w, 3 * C * C}, std::pair{b.proj_w, C * C},
                          std::pair{b.fc1_w, C * F}, std::pair{b.fc2_w, F * C}}) {
        bf16_weights_.emplace_back(n);
        nn::to_bf16(w, bf16_weights_.back().data(), n);
      }
    }
  }
  if (precision == Precision::kInt8) {
    const int qmax = nn::weight_qmax();
    for (const auto& b : params_.blocks) {
      const int c = config.dim, f = config.ffn_dim;
      int8_weights_.push_back(nn::quantize_weights(b.qkv_w, c, 3 * c, qmax));  // (C, 3C)
      int8_weights_.push_back(nn::quantize_weights(b.proj_w, c, c, qmax));     // (C, C)
      int8_weights_.push_back(nn::quantize_weights(b.fc1_w, c, f, qmax));      // (C, F)
      int8_weights_.push_back(nn::quantize_weights(b.fc2_w, f, c, qmax));      // (F, C)
    }
  }
}

namespace {

// Grows `v` to at least n elements, at least doubling, never past `most` (the size
// for the largest batch): a few reallocations, and a small first batch touches
// (and zero-fills) only the memory it uses, not all that a full batch would.
template <typename T>
void grow(std::vector<T>& v, std::int64_t n, std::int64_t most) {
  if (static_cast<std::int64_t>(v.size()) >= n) return;
  v = std::vector<T>(std::max(n, std::min(most, 2 * static_cast<std::int64_t>(v.size()))));
}

}  // namespace

void EncoderForward::reserve(int B, int T) {
  const std::int64_t C = config_.dim, F = config_.ffn_dim;
  const std::int64_t N = std::int64_t(B) * T, most = std::int64_t(max_batch_) * config_.max_len;
  // The attention's scores: a chunk of sentences × heads at a time (nn/attention.h).
  const std::int64_t probs = attention_.forward_scratch(B, T);
  const std::int64_t most_probs =
      std::max(probs, attention_.forward_scratch(max_batch_, config_.max_len));
  grow(ids_, N, most);
  grow(lengths_, B, max_batch_);
  grow(key_mask_, N, most);
  grow(x_, N * C, most * C);
  grow(h_, N * C, most * C);
  grow(probs_, probs, most_probs);
  if (precision_ == Precision::kBf16) {
    grow(bf16_in_, N * C, most * C);
    grow(qkv_bf16_, N * 3 * C, most * 3 * C);
    grow(ffn_bf16_, N * F, most * F);
  } else {
    grow(qkv_buf_, N * 3 * C, most * 3 * C);
    grow(ffn_, N * F, most * F);
  }
  if (precision_ == Precision::kInt8) {
    grow(int8_in_, N * std::max(C, F), most * std::max(C, F));
    grow(int8_in_scales_, N, most);
    grow(int8_acc_, N * std::max(3 * C, F), most * std::max(3 * C, F));
  }
}

nn::Linear& EncoderForward::layer_of(std::size_t index) {
  nn::Linear* layers[4] = {&qkv_, &proj_, &fc1_, &fc2_};
  return *layers[index % 4];
}

void EncoderForward::product(nn::Linear& layer, const void* x, const void* w, std::size_t index,
                             const float* b, void* y, int N) {
  if (N < kPackedRows) {
    layer.forward_per_m(x, w, b, y, N);
    return;
  }
  if (packable_) {
    if (packed_weights_.empty()) {
      for (std::size_t i = 0; i < 4 * params_.blocks.size(); ++i) {
        const auto& p = params_.blocks[i / 4];
        const float* plain[4] = {p.qkv_w, p.proj_w, p.fc1_w, p.fc2_w};
        packed_weights_.push_back(layer_of(i).pack(
            precision_ == Precision::kBf16 ? static_cast<const void*>(bf16_weights_[i].data())
                                           : plain[i % 4]));
      }
    }
    if (layer.forward_packed(x, packed_weights_[index], b, y, N)) return;
  }
  layer.forward(x, w, b, y, N);
}

void EncoderForward::linear(nn::Linear& layer, const float* x, const float* w, std::size_t index,
                            const float* b, float* y, int N) {
  if (precision_ != Precision::kInt8) {
    product(layer, x, w, index, b, y, N);
    return;
  }
  nn::quantize_rows(x, N, layer.in(), int8_in_.data(), int8_in_scales_.data());
  const auto& q = int8_weights_[index];
  layer.forward_int8(int8_in_.data(), int8_in_scales_.data(), q.values.data(), q.scales.data(), b,
                     y, int8_acc_.data(), N);
}

void EncoderForward::forward(const std::vector<const std::vector<int>*>& batch, float* out,
                             bool normalize) {
  const int B = static_cast<int>(batch.size());
  int T = 1;
  for (const auto* s : batch) T = std::max<int>(T, static_cast<int>(s->size()));
  const int C = config_.dim, N = B * T;
  reserve(B, T);

  // Pad to T with id 0; padded keys are masked out of every attention row, and
  // pooling reads only real positions, so padding never changes a sentence's vector.
  bool padded = false;
  for (int b = 0; b < B; ++b) {
    const auto& s = *batch[b];
    padded |= static_cast<int>(s.size()) < T;
    lengths_[b] = static_cast<int>(s.size());
    for (int t = 0; t < T; ++t) {
      const bool real = t < lengths_[b];
      ids_[b * T + t] = real ? s[t] : 0;
      key_mask_[b * T + t] = real ? 0.0f : nn::kMaskedScore;
    }
  }
  nn::embedding_forward(x_.data(), ids_.data(), params_.tok_emb, params_.pos_emb, B, T, C);
  const float* key_mask = padded ? key_mask_.data() : nullptr;  // none: attention skips the mask

  for (std::size_t l = 0; l < params_.blocks.size(); ++l) {
    const auto& p = params_.blocks[l];
    const std::size_t w = 4 * l;  // index of this block's first converted weight
    layernorm_.forward(x_.data(), p.ln1_w, p.ln1_b, h_.data(), N);
    if (precision_ == Precision::kBf16) {
      // Rounded once after each LayerNorm; from there qkv, the attention context and
      // GELU(fc1) stay bf16 up to the next fp32 residual sum.
      const auto& bw = bf16_weights_;
      nn::to_bf16(h_.data(), bf16_in_.data(), std::size_t(N) * C);
      product(qkv_, bf16_in_.data(), bw[w].data(), w, p.qkv_b, qkv_bf16_.data(), N);
      attention_.forward(qkv_bf16_.data(), key_mask, probs_.data(), bf16_in_.data(), B, T);
      product(proj_, bf16_in_.data(), bw[w + 1].data(), w + 1, p.proj_b, x_.data(), N);
      layernorm_.forward(x_.data(), p.ln2_w, p.ln2_b, h_.data(), N);
      nn::to_bf16(h_.data(), bf16_in_.data(), std::size_t(N) * C);
      product(fc1_, bf16_in_.data(), bw[w + 2].data(), w + 2, p.fc1_b, ffn_bf16_.data(), N);
      product(fc2_, ffn_bf16_.data(), bw[w + 3].data(), w + 3, p.fc2_b, x_.data(), N);
      continue;
    }
    linear(qkv_, h_.data(), p.qkv_w, w, p.qkv_b, qkv_buf_.data(), N);  // (B, T, 3C)
    attention_.forward(qkv_buf_.data(), key_mask, probs_.data(), h_.data(), B, T);
    linear(proj_, h_.data(), p.proj_w, w + 1, p.proj_b, x_.data(), N);  // x += (B, T, C)
    layernorm_.forward(x_.data(), p.ln2_w, p.ln2_b, h_.data(), N);
    linear(fc1_, h_.data(), p.fc1_w, w + 2, p.fc1_b, ffn_.data(), N);  // (B, T, F)
    linear(fc2_, ffn_.data(), p.fc2_w, w + 3, p.fc2_b, x_.data(), N);  // x += (B, T, C)
  }
  layernorm_.forward(x_.data(), params_.lnf_w, params_.lnf_b, h_.data(), N);
  nn::pooling_forward(config_.pooling, out, h_.data(), lengths_.data(), B, T, C);
  if (normalize) nn::l2_normalize_forward(out, out, nullptr, B, C);
}

}  // namespace sentemb
