#include "sentemb/model_config.h"

#include <fmt/format.h>

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "sentemb/errors.h"
#include "sentemb/parameters.h"

namespace sentemb {

std::string to_string(Pooling pooling) {
  switch (pooling) {
    case Pooling::kMean:
      return "mean";
    case Pooling::kCls:
      return "cls";
    case Pooling::kMax:
      return "max";
  }
  return "mean";
}

Pooling pooling_from_string(const std::string& name) {
  if (name == "mean") return Pooling::kMean;
  if (name == "cls") return Pooling::kCls;
  if (name == "max") return Pooling::kMax;
  throw UsageError(fmt::format("unknown pooling '{}' (expected mean, cls or max)", name));
}

void ModelConfig::validate() const {
  auto require = [](bool ok, const char* field, int value, const char* rule) {
    if (!ok) throw UsageError(fmt::format("model config: {} = {} {}", field, value, rule));
  };
  require(vocab_size >= 4 && vocab_size <= 1'000'000, "vocab_size", vocab_size,
          "must be in [4, 1000000]");
  require(max_len >= 2 && max_len <= 4096, "max_len", max_len, "must be in [2, 4096]");
  require(layers >= 1 && layers <= 64, "layers", layers, "must be in [1, 64]");
  require(dim >= 2 && dim <= 8192, "dim", dim, "must be in [2, 8192]");
  require(heads >= 1 && heads <= dim && dim % heads == 0, "heads", heads, "must divide dim");
  require(ffn_dim >= 1 && ffn_dim <= 65536, "ffn_dim", ffn_dim, "must be in [1, 65536]");
  // LayerNorm divides by sqrt(var + eps): eps <= 0 (or NaN) lets a constant row
  // divide by zero, and a large eps silently flattens every activation. Real
  // models use 1e-12 .. 1e-5; 0.1 is already far outside that.
  for (std::size_t i = 0; i < matryoshka_dims.size(); ++i) {
    const int d = matryoshka_dims[i];
    if (d < 1 || d > dim || (i > 0 && d >= matryoshka_dims[i - 1]))
      throw UsageError(fmt::format(
          "model config: matryoshka_dims = [{}] must be decreasing, each in [1, dim = {}]",
          fmt::join(matryoshka_dims, ", "), dim));
  }
  if (!(std::isfinite(layernorm_eps) && layernorm_eps > 0.0f && layernorm_eps <= 0.1f))
    throw UsageError(fmt::format("model config: layernorm_eps = {} must be finite and in (0, 0.1]",
                                 layernorm_eps));
}

std::int64_t ModelConfig::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& spec : parameter_specs(*this)) n += spec.size;
  return n;
}

std::string ModelConfig::to_json() const {
  nlohmann::json j = {{"vocab_size", vocab_size},
                      {"max_len", max_len},
                      {"layers", layers},
                      {"dim", dim},
                      {"heads", heads},
                      {"ffn_dim", ffn_dim},
                      {"pooling", to_string(pooling)},
                      {"normalize", normalize},
                      {"layernorm_eps", layernorm_eps}};
  if (!matryoshka_dims.empty()) j["matryoshka_dims"] = matryoshka_dims;  // older readers ignore it
  return j.dump();
}

ModelConfig ModelConfig::from_json(const std::string& text) {
  ModelConfig c;
  try {
    auto j = nlohmann::json::parse(text);
    // Integers only, in int range: a float or a huge number must not be converted.
    auto integer = [&](const char* key) {
      const auto& v = j.at(key);
      if (!v.is_number_integer() || v.get<std::int64_t>() < INT32_MIN ||
          v.get<std::int64_t>() > INT32_MAX)
        throw ModelFileError(fmt::format("model config: {} must be an integer", key));
      return static_cast<int>(v.get<std::int64_t>());
    };
    c.vocab_size = integer("vocab_size");
    c.max_len = integer("max_len");
    c.layers = integer("layers");
    c.dim = integer("dim");
    c.heads = integer("heads");
    c.ffn_dim = integer("ffn_dim");
    c.pooling = pooling_from_string(j.value("pooling", std::string("mean")));
    c.normalize = j.value("normalize", true);
    // Read as double: a JSON number beyond float range (1e300) must not be
    // converted to float (undefined behaviour); it becomes +-inf, which validate() refuses.
    double eps = 1e-5;
    if (j.contains("layernorm_eps")) {
      if (!j["layernorm_eps"].is_number())
        throw ModelFileError("model config: layernorm_eps must be a number");
      eps = j["layernorm_eps"].get<double>();
    }
    c.layernorm_eps = std::fabs(eps) <= FLT_MAX ? static_cast<float>(eps)
                                                : std::copysign(HUGE_VALF, static_cast<float>(eps));
    if (j.contains("matryoshka_dims")) {
      const auto& dims = j["matryoshka_dims"];
      if (!dims.is_array() || dims.size() > 64)
        throw ModelFileError("model config: matryoshka_dims must be an array of at most 64 widths");
      for (const auto& d : dims) {
        if (!d.is_number_integer() || d.get<std::int64_t>() < 1 || d.get<std::int64_t>() > 8192)
          throw ModelFileError("model config: matryoshka_dims must hold integers in [1, 8192]");
        c.matryoshka_dims.push_back(static_cast<int>(d.get<std::int64_t>()));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(fmt::format("model config: {}", e.what()));
  } catch (const UsageError& e) {
    throw ModelFileError(e.what());
  }
  try {
    c.validate();
  } catch (const UsageError& e) {
    throw ModelFileError(e.what());
  }
  return c;
}

}  // namespace sentemb
