// Exporting a model for other runtimes: the encoder as an ONNX graph (ONNX Runtime
// and the rest of the ONNX world), or its weights as safetensors (PyTorch and Hugging
// Face tooling), each with the tokenizer beside it. The library is sentemb_export,
// apart from sentemb_infer, so that inference does not pull in protobuf and ONNX.
#pragma once

#include <string>
#include <vector>

#include "sentemb/model.h"

namespace sentemb {

enum class ExportFormat { kOnnx, kSafetensors };

std::string to_string(ExportFormat format);
ExportFormat export_format_from_string(
    const std::string& name);  // "onnx", "safetensors"; UsageError

// The files an export writes into its directory.
inline constexpr const char* kOnnxModelFile = "model.onnx";
inline constexpr const char* kSafetensorsFile = "model.safetensors";
inline constexpr const char* kTokenizerModelFile = "tokenizer.model";  // SentencePiece, as embedded
inline constexpr const char* kTokenizerConfigFile = "sentemb_tokenizer.json";

// The ONNX graph: opset 17, IR version 8, fp32 weights as initializers.
//   inputs   input_ids       int64 (batch, sequence)   BOS first, padded with anything
//            attention_mask  int64 (batch, sequence)   1 on real tokens, 0 on padding
//   outputs  sentence_embedding  float (batch, dim)    pooled, L2-normalised if the model is
//            token_embeddings    float (batch, sequence, dim)   the final LayerNorm's output
// Real tokens must come first in each row (right padding), sequence <= max_len.
inline constexpr int kOnnxOpset = 17;

// Writes the export into `out_dir` (created with its parents when missing), each file
// atomically: `format`'s model file, tokenizer.model and sentemb_tokenizer.json. Returns
// the paths written. Throws IoError naming the path that cannot be created or written.
std::vector<std::string> export_model(const Model& model, ExportFormat format,
                                      const std::string& out_dir);

// The serialized ONNX ModelProto of the encoder.
std::string onnx_model_bytes(const Model& model);
// The safetensors file: u64 little-endian header size, the JSON header (each tensor's
// dtype "F32", shape and data_offsets under its parameters.h name; __metadata__ with the
// configuration JSON as the string "sentemb_config"), then the tensors' bytes.
std::string safetensors_bytes(const Model& model);
// sentemb_tokenizer.json: what a consumer needs to turn text into the graph's inputs
// and read its outputs the way `sentemb encode` does: the special ids (BOS prepended,
// no EOS), max_length and truncation, padding, pooling, normalisation, width, and the
// SentencePiece normalizer's name (read from the tokenizer; "lowercase" when it case
// folds, `--lowercase` at training).
std::string tokenizer_config_json(const Model& model);

}  // namespace sentemb
