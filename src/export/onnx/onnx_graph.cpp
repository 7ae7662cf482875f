// The encoder as an ONNX graph: the same math as the inference forward pass
// (src/encoder_forward.h), in standard opset-17 operators.
//   x = tok_emb[ids] + pos_emb[:T]                                      (B, T, C)
//   per block:  x += Attention(LN1(x)) · Wproj + bproj
//               x += GELU(LN2(x) · W1 + b1) · W2 + b2     GELU(x) = x · (1 + erf(x/√2)) / 2
//   token_embeddings = LN_final(x);  sentence_embedding = pool(...), L2-normalised
// Attention: softmax(q · kᵀ / √hd + mask) · v per head, the mask adding −1e9 to the
// scores of padded keys, as the encoder does (nn::kMaskedScore).
#include "export/onnx/onnx_graph.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "export/onnx/onnx_builder.h"
#include "nn/attention.h"
#include "nn/pooling.h"
#include "sentemb/export.h"
#include "sentemb/version.h"

namespace sentemb::exporting {

namespace {

constexpr std::int64_t kIrVersion = 8;  // ONNX 1.12 (Debian 12's libonnx) writes IR 8

// Names of the graph's values; shared constants are made once.
struct Values {
  std::string ids = "input_ids", mask = "attention_mask";
  std::string mask_float;   // (B, T) 1 / 0
  std::string key_bias;     // (B, 1, 1, T) 0 / −1e9, added to every head's scores
  std::string heads_shape;  // (4) [0, 0, NH, hd]: (B, T, C) → (B, T, NH, hd)
  std::string width_shape;  // (3) [0, 0, C]: back again
};

class EncoderGraph {
 public:
  EncoderGraph(const ModelConfig& config, const Tensors& tensors, onnx::GraphProto* graph)
      : c_(config), w_(tensors), g_(graph) {}

  void build() {
    declare_inputs_outputs();
    std::string x = embeddings();
    for (int l = 0; l < c_.layers; ++l) x = block(l, x);
    const std::string tokens = layernorm("final_ln", x, "token_embeddings");
    const std::string pooled = pool(tokens);
    if (c_.normalize)
      l2_normalize(pooled, "sentence_embedding");
    else
      g_.op("Identity", {pooled}, "sentence_embedding");
  }

 private:
  void declare_inputs_outputs() {
    const Dim batch{0, "batch"}, sequence{0, "sequence"}, width{c_.dim, ""};
    g_.input(v_.ids, onnx::TensorProto::INT64, {batch, sequence});
    g_.input(v_.mask, onnx::TensorProto::INT64, {batch, sequence});
    g_.output("sentence_embedding", onnx::TensorProto::FLOAT, {batch, width});
    g_.output("token_embeddings", onnx::TensorProto::FLOAT, {batch, sequence, width});
  }

  const std::string& weight(const std::string& name) {
    const auto& t = find_tensor(w_, name);
    if (made_.insert(name).second) g_.floats(name, t.spec.shape, t.data);
    return t.spec.name;
  }

  // x = tok_emb[ids] + pos_emb[:T], and the masks every block uses.
  std::string embeddings() {
    const std::string tokens =
        g_.op("Gather", {weight("tok_emb"), v_.ids}, "embed.tokens", {int_attribute("axis", 0)});
    const std::string length = g_.op("Shape", {v_.ids}, "embed.length",
                                     {int_attribute("start", 1), int_attribute("end", 2)});
    const std::string positions = g_.op(
        "Slice",
        {weight("pos_emb"), g_.int64s("const.zero_1d", {0}), length, g_.int64s("const.axis0", {0})},
        "embed.positions");
    v_.mask_float =
        g_.op("Cast", {v_.mask}, "mask.float", {int_attribute("to", onnx::TensorProto::FLOAT)});
    // (1 − mask) · −1e9: 0 on real keys, the encoder's masked score on padding.
    const std::string padding =
        g_.op("Sub", {g_.scalar("const.one", 1.0f), v_.mask_float}, "mask.padding");
    const std::string bias =
        g_.op("Mul", {padding, g_.scalar("const.masked_score", nn::kMaskedScore)}, "mask.bias");
    v_.key_bias = g_.op("Unsqueeze", {bias, g_.int64s("const.axes_1_2", {1, 2})}, "mask.key_bias");
    v_.heads_shape = g_.int64s("const.heads_shape", {0, 0, c_.heads, c_.head_dim()});
    v_.width_shape = g_.int64s("const.width_shape", {0, 0, c_.dim});
    return g_.op("Add", {tokens, positions}, "embed.sum");
  }

  std::string layernorm(const std::string& prefix, const std::string& x, const std::string& out) {
    return g_.op("LayerNormalization", {x, weight(prefix + ".weight"), weight(prefix + ".bias")},
                 out, {int_attribute("axis", -1), float_attribute("epsilon", c_.layernorm_eps)});
  }

  // y = x · W + b (W stored (in, out), as parameters.h lays it out).
  std::string linear(const std::string& prefix, const std::string& x) {
    const std::string product =
        g_.op("MatMul", {x, weight(prefix + ".weight")}, prefix + ".matmul");
    return g_.op("Add", {product, weight(prefix + ".bias")}, prefix + ".out");
  }

  // (B, T, C) → (B, NH, T, hd) with the given permutation of (B, T, NH, hd).
  std::string split_heads(const std::string& x, const std::string& name,
                          const std::vector<std::int64_t>& perm) {
    const std::string heads = g_.op("Reshape", {x, v_.heads_shape}, name + ".heads");
    return g_.op("Transpose", {heads}, name + ".transposed", {ints_attribute("perm", perm)});
  }

  std::string attention(const std::string& p, const std::string& h) {
    const std::string qkv = linear(p + "attn.qkv", h);  // (B, T, 3C): columns [q | k | v]
    const auto parts = g_.op("Split", {qkv}, std::vector<std::string>{p + "q", p + "k", p + "v"},
                             {int_attribute("axis", 2)});
    const std::string q = split_heads(parts[0], parts[0], {0, 2, 1, 3});   // (B, NH, T, hd)
    const std::string kt = split_heads(parts[1], parts[1], {0, 2, 3, 1});  // (B, NH, hd, T)
    const std::string v = split_heads(parts[2], parts[2], {0, 2, 1, 3});   // (B, NH, T, hd)
    const float scale = 1.0f / std::sqrt(static_cast<float>(c_.head_dim()));
    if (!scale_made_) g_.scalar("const.attention_scale", scale);
    scale_made_ = true;
    const std::string dots = g_.op("MatMul", {q, kt}, p + "attn.dots");
    const std::string scaled = g_.op("Mul", {dots, "const.attention_scale"}, p + "attn.scaled");
    const std::string scores = g_.op("Add", {scaled, v_.key_bias}, p + "attn.scores");
    const std::string probs =
        g_.op("Softmax", {scores}, p + "attn.probs", {int_attribute("axis", -1)});
    const std::string context = g_.op("MatMul", {probs, v}, p + "attn.context");  // (B, NH, T, hd)
    const std::string merged =
        g_.op("Transpose", {context}, p + "attn.context_t", {ints_attribute("perm", {0, 2, 1, 3})});
    const std::string joined = g_.op("Reshape", {merged, v_.width_shape}, p + "attn.joined");
    return linear(p + "attn.proj", joined);
  }

  // GELU(x) = x · (1 + erf(x / √2)) / 2, the erf form the encoder computes (nn/gelu.h).
  std::string gelu(const std::string& p, const std::string& x) {
    if (!gelu_made_) {
      g_.scalar("const.inv_sqrt2", static_cast<float>(1.0 / std::sqrt(2.0)));
      g_.scalar("const.half", 0.5f);
    }
    gelu_made_ = true;
    const std::string z = g_.op("Mul", {x, "const.inv_sqrt2"}, p + "gelu.z");
    const std::string erf = g_.op("Erf", {z}, p + "gelu.erf");
    const std::string one_plus = g_.op("Add", {erf, "const.one"}, p + "gelu.one_plus");
    const std::string half = g_.op("Mul", {x, "const.half"}, p + "gelu.half");
    return g_.op("Mul", {half, one_plus}, p + "gelu.out");
  }

  std::string block(int l, const std::string& x) {
    const std::string p = fmt::format("blocks.{}.", l);
    const std::string h1 = layernorm(p + "ln1", x, p + "ln1.out");
    const std::string x1 = g_.op("Add", {x, attention(p, h1)}, p + "residual1");
    const std::string h2 = layernorm(p + "ln2", x1, p + "ln2.out");
    const std::string f = gelu(p, linear(p + "ffn.fc1", h2));
    return g_.op("Add", {x1, linear(p + "ffn.fc2", f)}, p + "residual2");
  }

  // (B, T, C) → (B, C) over the real positions, as nn::pooling_forward.
  std::string pool(const std::string& tokens) {
    if (c_.pooling == Pooling::kCls)
      return g_.op("Gather", {tokens, g_.int64_scalar("const.position0", 0)}, "pool.cls",
                   {int_attribute("axis", 1)});
    const std::string mask3 =
        g_.op("Unsqueeze", {v_.mask_float, g_.int64s("const.axis2", {2})}, "pool.mask");
    if (c_.pooling == Pooling::kMax) {
      // Padded positions become the lowest float, so they never win the max.
      const std::string real =
          g_.op("Cast", {mask3}, "pool.real", {int_attribute("to", onnx::TensorProto::BOOL)});
      const std::string lowest = g_.scalar("const.lowest", std::numeric_limits<float>::lowest());
      const std::string masked = g_.op("Where", {real, tokens, lowest}, "pool.masked");
      return g_.op("ReduceMax", {masked}, "pool.max",
                   {ints_attribute("axes", {1}), int_attribute("keepdims", 0)});
    }
    // Mean: Σ real states / count, the count clamped at 1 so that an all-padding row
    // gives 0, not NaN (the encoder never sees one: every sentence has its BOS).
    const std::string axis1 = g_.int64s("const.axis1", {1});
    const std::string masked = g_.op("Mul", {tokens, mask3}, "pool.masked");
    const std::string sum =
        g_.op("ReduceSum", {masked, axis1}, "pool.sum", {int_attribute("keepdims", 0)});
    const std::string count =
        g_.op("ReduceSum", {v_.mask_float, axis1}, "pool.count", {int_attribute("keepdims", 1)});
    const std::string at_least_one = g_.op("Max", {count, "const.one"}, "pool.count_1");
    return g_.op("Div", {sum, at_least_one}, "pool.mean");
  }

  // v / max(‖v‖, 1e-12), as nn::l2_normalize_forward.
  void l2_normalize(const std::string& v, const std::string& out) {
    const std::string squares = g_.op("ReduceSumSquare", {v}, "norm.squares",
                                      {ints_attribute("axes", {1}), int_attribute("keepdims", 1)});
    const std::string norm = g_.op("Sqrt", {squares}, "norm.norm");
    const std::string clamped =
        g_.op("Max", {norm, g_.scalar("const.norm_eps", nn::kL2NormEps)}, "norm.clamped");
    g_.op("Div", {v, clamped}, out);
  }

  const ModelConfig& c_;
  const Tensors& w_;
  GraphBuilder g_;
  Values v_;
  std::set<std::string> made_;
  bool scale_made_ = false, gelu_made_ = false;
};

}  // namespace

std::string onnx_graph_bytes(const ModelConfig& model_config, const std::string& config_json,
                             const Tensors& tensors) {
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("sentemb");
  proto.set_producer_version(SENTEMB_VERSION);
  proto.set_doc_string("sentemb sentence encoder; inputs and outputs: sentemb/export.h");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  auto* config = proto.add_metadata_props();
  config->set_key("sentemb_config");
  config->set_value(config_json);

  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("sentemb_encoder");
  EncoderGraph(model_config, tensors, graph).build();
  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    throw std::runtime_error("onnx export: the model does not serialize (over 2 GB?)");
  return bytes;
}

}  // namespace sentemb::exporting
