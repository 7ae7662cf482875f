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

namespace detail {
// Test hook: when set, called on the calling thread at the start of each Encoder
// call (construction included), once the encoder's OpenMP thread count is in place,
// with omp_get_max_threads() and the size of a parallel team started there. Not
// thread-safe to set while encoders run.
extern void (*encoder_call_hook)(int max_threads, int team_size);
}  // namespace detail

struct MappedModel;  // internal (src/model_file_internal.h)

enum class Precision { kFp32, kBf16, kInt8 };
std::string to_string(Precision precision);
Precision precision_from_string(const std::string& name);  // "fp32", "bf16", "int8"

// The largest batch_size: with max_len <= 4096 a batch's B·T rows stay below 2^28,
// so row counts and indices fit in an int everywhere in the forward pass.
constexpr int kMaxBatchSize = 65536;

struct EncoderOptions {
  Precision precision = Precision::kFp32;
  // OpenMP threads for this encoder's calls; 0: the count the constructing thread
  // has when the encoder is built (omp_get_max_threads(): OMP_NUM_THREADS, else all
  // cores). Also the tokenizer's std::threads (0: all cores).
  int threads = 0;
  int batch_size = 64;            // sentences per forward pass, 1..kMaxBatchSize
  std::optional<bool> normalize;  // override the model's L2 normalisation
  // Output width K (Matryoshka, train --matryoshka-dims): each vector's first K values,
  // renormalised when the vectors are normalised. 0: the model's width. K above the
  // model's width is a UsageError; a K the model was not trained for is allowed
  // (matryoshka_warning() says so).
  int dim = 0;
};

// Threads. Each call (construction and load included) sets the calling thread's
// OpenMP thread count to the encoder's for the length of the call and restores it
// after, so encoders with different counts can take turns on one thread, and the
// caller's own omp_get_max_threads() is the same after a call as before. oneDNN
// (OpenMP runtime) reads omp_get_max_threads() when a primitive runs.
//
// Which thread may do what, from oneDNN 2.6's rules and this class's state:
//  * One Encoder must not be used by two threads at the same time: it keeps
//    scratch buffers, caches of primitives per batch shape and their scratchpads
//    without locks.
//  * Different Encoders may run concurrently on different threads: oneDNN allows
//    primitives to be created and executed in parallel from different threads,
//    and each thread gets its own oneDNN stream here (nn/dnnl_context.h).
//  * An Encoder may be created on one thread, called on others one after another
//    (a worker pool, a Python module's callers) and destroyed on yet another. This
//    holds because every primitive it keeps takes a scratchpad the Encoder owns
//    (dnnl::scratchpad_mode::user, documented as "thread-safe as long as the
//    scratchpad buffers are not used concurrently by two primitive executions").
//    With oneDNN's default library-managed scratchpad it would not: in the default
//    build (DNNL_ENABLE_CONCURRENT_EXEC=OFF) that scratchpad is one buffer per
//    thread, and "primitives can be created and executed in parallel but cannot
//    migrate between threads (in other words, each primitive should be executed
//    in the same thread it was created in)" (oneDNN, dnnl::scratchpad_mode).
//    Primitives are created lazily, at the first batch of each shape, so that
//    rule would bind an Encoder to the first thread that called it.
// Why an output width is doubtful for this model, or "" when it is one it was trained
// for (its full width, or one of its matryoshka_dims).
std::string matryoshka_warning(const ModelConfig& config, int dim);

class Encoder {
 public:
  explicit Encoder(Model model, EncoderOptions options = {});
  static Encoder load(const std::string& model_path, EncoderOptions options = {});
  Encoder(Encoder&&) noexcept;
  Encoder& operator=(Encoder&&) noexcept;
  ~Encoder();

  int dim() const;  // of the vectors it writes: options().dim, or the model's width
  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const EncoderOptions& options() const;
  // Change options().batch_size (1..kMaxBatchSize, else UsageError) and
  // options().normalize for later calls; the weights are kept (a batch larger than
  // any before rebuilds the forward pass: bf16 and int8 convert the weights again).
  void set_batch_size(int batch_size);
  void set_normalize(std::optional<bool> normalize);
  // Change options().dim (0: the model's width; above it: UsageError) for later calls.
  void set_dim(int dim);

  // Embeddings of `sentences`, (N, dim) row-major, in input order. Sentences are
  // sorted by length and cut into batches of at most options().batch_size where
  // padding would cost more than another forward pass; longer than max_len tokens
  // are truncated.
  std::vector<float> encode(const std::vector<std::string>& sentences);
  void encode(const std::vector<std::string>& sentences, float* out);  // out: (N, dim)
  // Same from token ids (BOS first, 1..max_len ids each).
  void encode_ids(const std::vector<std::vector<int>>& ids, float* out);

 private:
  Encoder(MappedModel model, Tokenizer tokenizer, EncoderOptions options);  // the model's tokenizer
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentemb
