// The inference path: sentences in, embeddings out. Loads a model file, keeps
// its weights (fp32, or converted to bf16 / int8 at load), tokenizes, batches
// sentences by length and runs the encoder forward on oneDNN.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sentemb/model.h"
#include "sentemb/tokenizer.h"

namespace sentemb {

struct MappedModel;  // internal (src/model_file_internal.h)

enum class Precision { kFp32, kBf16, kInt8 };
std::string to_string(Precision precision);
Precision precision_from_string(const std::string& name);  // "fp32", "bf16", "int8"

struct EncoderOptions {
  Precision precision = Precision::kFp32;
  int threads = 0;                // 0: all cores (OpenMP default)
  int batch_size = 64;            // sentences per forward pass
  std::optional<bool> normalize;  // override the model's L2 normalisation
};

// Threads: an Encoder runs each call on the calling thread's OpenMP team (and
// tokenizes on up to `threads` std::threads). Use one Encoder per thread, each
// created on the thread that uses it: oneDNN's primitives must run on the thread
// that created them, and an Encoder caches primitives per batch shape.
class Encoder {
 public:
  explicit Encoder(Model model, EncoderOptions options = {});
  static Encoder load(const std::string& model_path, EncoderOptions options = {});
  Encoder(Encoder&&) noexcept;
  Encoder& operator=(Encoder&&) noexcept;
  ~Encoder();

  int dim() const;
  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const EncoderOptions& options() const;

  // Embeddings of `sentences`, (N, dim) row-major, in input order. Sentences are
  // sorted by length into batches of options().batch_size so padding costs
  // little; longer than max_len tokens are truncated.
  std::vector<float> encode(const std::vector<std::string>& sentences);
  void encode(const std::vector<std::string>& sentences, float* out);  // out: (N, dim)
  // Same from token ids (BOS first, 1..max_len ids each), batched as given.
  void encode_ids(const std::vector<std::vector<int>>& ids, float* out);

 private:
  Encoder(MappedModel model, Tokenizer tokenizer, EncoderOptions options);  // the model's tokenizer
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentemb
