#include "sentemb/parameters.h"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "sentemb/errors.h"

namespace sentemb {

std::vector<TensorSpec> parameter_specs(const ModelConfig& config) {
  const std::int64_t V = config.vocab_size, T = config.max_len, C = config.dim, F = config.ffn_dim;
  std::vector<TensorSpec> specs;
  std::int64_t offset = 0;
  auto add = [&](std::string name, std::vector<std::int64_t> shape, bool decay) {
    std::int64_t size = 1;
    for (auto d : shape) size *= d;
    specs.push_back({std::move(name), std::move(shape), offset, size, decay});
    offset += size;
  };
  add("tok_emb", {V, C}, false);
  add("pos_emb", {T, C}, false);
  for (int l = 0; l < config.layers; ++l) {
    const std::string p = fmt::format("blocks.{}.", l);
    add(p + "ln1.weight", {C}, false);
    add(p + "ln1.bias", {C}, false);
    add(p + "attn.qkv.weight", {C, 3 * C}, true);
    add(p + "attn.qkv.bias", {3 * C}, false);
    add(p + "attn.proj.weight", {C, C}, true);
    add(p + "attn.proj.bias", {C}, false);
    add(p + "ln2.weight", {C}, false);
    add(p + "ln2.bias", {C}, false);
    add(p + "ffn.fc1.weight", {C, F}, true);
    add(p + "ffn.fc1.bias", {F}, false);
    add(p + "ffn.fc2.weight", {F, C}, true);
    add(p + "ffn.fc2.bias", {C}, false);
  }
  add("final_ln.weight", {C}, false);
  add("final_ln.bias", {C}, false);
  return specs;
}

ParameterTensors bind_parameters(const ModelConfig& config, float* arena) {
  std::vector<float*> where;
  for (const auto& spec : parameter_specs(config)) where.push_back(arena + spec.offset);
  return bind_parameters(config, where);
}

ParameterTensors bind_parameters(const ModelConfig& config, const std::vector<float*>& where) {
  // Walks the same order as parameter_specs.
  if (where.size() != parameter_specs(config).size())
    throw std::logic_error("bind_parameters: one pointer per tensor of parameter_specs needed");
  std::size_t i = 0;
  auto next = [&]() { return where[i++]; };
  ParameterTensors t;
  t.tok_emb = next();
  t.pos_emb = next();
  t.blocks.resize(config.layers);
  for (auto& b : t.blocks) {
    b.ln1_w = next();
    b.ln1_b = next();
    b.qkv_w = next();
    b.qkv_b = next();
    b.proj_w = next();
    b.proj_b = next();
    b.ln2_w = next();
    b.ln2_b = next();
    b.fc1_w = next();
    b.fc1_b = next();
    b.fc2_w = next();
    b.fc2_b = next();
  }
  t.lnf_w = next();
  t.lnf_b = next();
  return t;
}

void init_parameters(const ModelConfig& config, float* arena, std::uint64_t seed,
                     float token_embedding_std) {
  if (!(token_embedding_std > 0) || !std::isfinite(token_embedding_std))
    throw UsageError(
        fmt::format("token embedding init std must be > 0, got {}", token_embedding_std));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const float residual_scale = 1.0f / std::sqrt(2.0f * config.layers);
  for (const auto& spec : parameter_specs(config)) {
    float* p = arena + spec.offset;
    const bool is_ln_weight = spec.name.find("ln") != std::string::npos && spec.name.size() > 7 &&
                              spec.name.compare(spec.name.size() - 7, 7, ".weight") == 0;
    const bool is_bias =
        spec.name.size() > 5 && spec.name.compare(spec.name.size() - 5, 5, ".bias") == 0;
    const bool is_residual_out = spec.name.find("attn.proj.weight") != std::string::npos ||
                                 spec.name.find("ffn.fc2.weight") != std::string::npos;
    const float scale = spec.name == "tok_emb" ? token_embedding_std / 0.02f
                        : is_residual_out      ? residual_scale
                                               : 1.0f;
    for (std::int64_t i = 0; i < spec.size; ++i) {
      if (is_ln_weight)
        p[i] = 1.0f;
      else if (is_bias)
        p[i] = 0.0f;
      else
        p[i] = normal(rng) * scale;
    }
  }
}

}  // namespace sentemb
