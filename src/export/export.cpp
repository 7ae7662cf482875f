// `export_model`: the export directory, the tokenizer files beside the model, and the
// format names.
#include "sentemb/export.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "export/onnx/onnx_graph.h"
#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"
#include "tensor_file.h"

namespace sentemb {

std::string to_string(ExportFormat format) {
  return format == ExportFormat::kOnnx ? "onnx" : "safetensors";
}

ExportFormat export_format_from_string(const std::string& name) {
  if (name == "onnx") return ExportFormat::kOnnx;
  if (name == "safetensors") return ExportFormat::kSafetensors;
  throw UsageError(fmt::format("--format: unknown export format '{}' (onnx or safetensors)", name));
}

namespace {

// The SentencePiece normalizer's name (ModelProto.normalizer_spec = 3, its name = 1):
// "nmt_nfkc", "nmt_nfkc_cf" (case folded: `--lowercase`), "identity", ...
std::string normalizer_name(const std::string& tokenizer_model) {
  using exporting::proto_string_field;
  return proto_string_field(proto_string_field(tokenizer_model, 3), 1);
}

std::string join(const std::filesystem::path& dir, const char* file) {
  return (dir / file).string();
}

}  // namespace

std::string tokenizer_config_json(const Model& model) {
  const ModelConfig& c = model.config;
  const std::string normalizer = normalizer_name(model.tokenizer_model);
  const bool lowercase =
      normalizer.size() >= 3 && normalizer.compare(normalizer.size() - 3, 3, "_cf") == 0;
  nlohmann::ordered_json j;
  j["tokenizer_file"] = kTokenizerModelFile;
  j["tokenizer_type"] = "sentencepiece";
  j["normalizer"] = normalizer;  // applied by SentencePiece itself from tokenizer.model
  j["lowercase"] = lowercase;
  j["vocab_size"] = c.vocab_size;
  j["pad_id"] = Tokenizer::kPadId;
  j["unk_id"] = Tokenizer::kUnkId;
  j["bos_id"] = Tokenizer::kBosId;
  j["eos_id"] = Tokenizer::kEosId;
  j["add_bos"] = true;
  j["add_eos"] = false;
  j["max_length"] = c.max_len;
  j["truncation"] = "BOS then the first max_length - 1 pieces";
  j["padding"] = "right, pad_id; attention_mask 1 on real tokens, 0 on padding";
  j["pooling"] = to_string(c.pooling);
  j["normalize"] = c.normalize;
  j["dim"] = c.dim;
  j["matryoshka_dims"] = c.matryoshka_dims;
  j["onnx_inputs"] = {"input_ids", "attention_mask"};
  j["onnx_outputs"] = {"sentence_embedding", "token_embeddings"};
  return j.dump(2) + "\n";
}

std::vector<std::string> export_model(const Model& model, ExportFormat format,
                                      const std::string& out_dir) {
  const std::filesystem::path dir(out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    throw IoError(
        fmt::format("{}: cannot create the export directory: {}", out_dir, error.message()));
  if (!std::filesystem::is_directory(dir))
    throw IoError(fmt::format("{}: not a directory", out_dir));
  // The model first: it is the part that can fail on a bad model.
  const bool onnx = format == ExportFormat::kOnnx;
  const std::string model_bytes = onnx ? onnx_model_bytes(model) : safetensors_bytes(model);
  std::vector<std::string> written{join(dir, onnx ? kOnnxModelFile : kSafetensorsFile),
                                   join(dir, kTokenizerModelFile), join(dir, kTokenizerConfigFile)};
  write_file_atomically(written[0], model_bytes);
  write_file_atomically(written[1], model.tokenizer_model);
  write_file_atomically(written[2], tokenizer_config_json(model));
  return written;
}

}  // namespace sentemb
