#include "sentemb/encoder.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <numeric>
#include <optional>
#include <thread>

#include "batch_plan.h"
#include "encoder_forward.h"
#include "model_file_internal.h"
#include "nn/gemm_warmup.h"
#include "omp_thread_scope.h"
#include "sentemb/errors.h"

namespace sentemb {

std::string to_string(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kInt8:
      return "int8";
  }
  return "fp32";
}

Precision precision_from_string(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "int8") return Precision::kInt8;
  throw UsageError(fmt::format("unknown precision '{}' (expected fp32, bf16 or int8)", name));
}

namespace {

// An encoder's thread count for one call (omp_thread_scope.h), and the test hook.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : scope_(threads) {
    if (detail::encoder_call_hook) {
      int team = 0;  // the size of a team this thread starts now, as oneDNN's would be
#pragma omp parallel
      {
#pragma omp single
        team = omp_get_num_threads();
      }
      detail::encoder_call_hook(omp_get_max_threads(), team);
    }
  }

 private:
  OmpThreadScope scope_;
};

}  // namespace

namespace detail {
void (*encoder_call_hook)(int max_threads, int team_size) = nullptr;
}

struct Encoder::Impl {
  MappedModel model;
  Tokenizer tokenizer;
  EncoderOptions options;
  std::unique_ptr<EncoderForward> forward;
  int omp_threads;  // resolve_thread_count(options.threads)

  // tokenizer: the model's, already built, or built here when not given.
  Impl(MappedModel m, std::optional<Tokenizer> t, EncoderOptions o)
      : model(std::move(m)),
        tokenizer(t ? std::move(*t) : Tokenizer::from_bytes(model.tokenizer_model)),
        options(o),
        omp_threads(resolve_thread_count(o.threads)) {
    check_batch_size(options.batch_size);
    check_dim(options.dim);
    if (tokenizer.vocab_size() != model.config.vocab_size)
      throw ModelFileError(fmt::format("tokenizer has {} pieces but the model config says {}",
                                       tokenizer.vocab_size(), model.config.vocab_size));
    build_forward();
  }

  void check_dim(int dim) const {
    if (dim < 0 || dim > model.config.dim)
      throw UsageError(
          fmt::format("--dim {} must be in 1..{} (the model's width)", dim, model.config.dim));
  }
  static void check_batch_size(int batch_size) {
    if (batch_size < 1 || batch_size > kMaxBatchSize)
      throw UsageError(
          fmt::format("batch size must be in 1..{}, got {}", kMaxBatchSize, batch_size));
  }
  void build_forward() {
    ThreadCountScope scope(omp_threads);  // bf16 and int8 convert the weights in parallel
    forward = std::make_unique<EncoderForward>(model.config, model.tensors, options.precision,
                                               options.batch_size);
  }

  bool normalize() const { return options.normalize.value_or(model.config.normalize); }
  // One vector (model width) to the output: whole, or its first options.dim values,
  // renormalised when normalised (a Matryoshka prefix).
  void emit(const float* full, float* out) const {
    const int K = options.dim > 0 ? options.dim : model.config.dim;
    std::copy_n(full, K, out);
    if (K == model.config.dim || !normalize()) return;
    double squares = 0;
    for (int c = 0; c < K; ++c) squares += double(out[c]) * out[c];
    const float scale = squares > 0 ? static_cast<float>(1.0 / std::sqrt(squares)) : 0.0f;
    for (int c = 0; c < K; ++c) out[c] *= scale;
  }
  void encode_sorted(const std::vector<std::vector<int>>& ids, float* out);
  int tokenizer_threads() const {
    return options.threads > 0
               ? options.threads
               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
};

Encoder::Encoder(Model model, EncoderOptions options)
    : impl_(std::make_unique<Impl>(MappedModel::from_model(std::move(model)), std::nullopt,
                                   options)) {}

Encoder::Encoder(MappedModel model, Tokenizer tokenizer, EncoderOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), std::move(tokenizer), options)) {}

Encoder Encoder::load(const std::string& model_path, EncoderOptions options) {
  // The file is read and checked, and its tokenizer built, on a second thread while
  // this one has oneDNN generate the GEMM kernels that bf16 and int8 need
  // (nn/gemm_warmup.h): about 40 ms less for `sentemb score` on two sentences on a
  // 2-core Zen 5 VM (173 → 133 ms, medians of 15 alternating runs, when fp32 needed
  // them too). The future joins the thread whether or not the warm-up throws.
  struct Loaded {
    MappedModel model;
    Tokenizer tokenizer;
  };
  std::future<Loaded> loaded = std::async(std::launch::async, [&model_path] {
    MappedModel model = map_model(model_path);
    Tokenizer tokenizer = Tokenizer::from_bytes(model.tokenizer_model);
    return Loaded{std::move(model), std::move(tokenizer)};
  });
  {
    ThreadCountScope scope(resolve_thread_count(options.threads));
    nn::warm_up_gemm(options.precision == Precision::kBf16, options.precision == Precision::kInt8);
  }
  Loaded l = loaded.get();
  return Encoder(std::move(l.model), std::move(l.tokenizer), options);
}

Encoder::Encoder(Encoder&&) noexcept = default;
Encoder& Encoder::operator=(Encoder&&) noexcept = default;
Encoder::~Encoder() = default;

int Encoder::dim() const {
  return impl_->options.dim > 0 ? impl_->options.dim : impl_->model.config.dim;
}

std::string matryoshka_warning(const ModelConfig& config, int dim) {
  if (dim <= 0 || dim == config.dim) return "";
  const auto& trained = config.matryoshka_dims;
  if (std::find(trained.begin(), trained.end(), dim) != trained.end()) return "";
  if (trained.empty())
    return fmt::format(
        "the model was not trained for truncation (no --matryoshka-dims): its first {} of {} "
        "values may embed poorly",
        dim, config.dim);
  return fmt::format("the model was trained for widths {}, not {}", fmt::join(trained, ", "), dim);
}
const ModelConfig& Encoder::config() const {
  return impl_->model.config;
}
const Tokenizer& Encoder::tokenizer() const {
  return impl_->tokenizer;
}
const EncoderOptions& Encoder::options() const {
  return impl_->options;
}

void Encoder::set_batch_size(int batch_size) {
  Impl::check_batch_size(batch_size);
  impl_->options.batch_size = batch_size;
  // A smaller batch runs on the forward pass built for a larger one (its scratch
  // grows to the batches it sees, up to its max_batch).
  if (batch_size > impl_->forward->max_batch()) impl_->build_forward();
}

void Encoder::set_normalize(std::optional<bool> normalize) {
  impl_->options.normalize = normalize;
}

void Encoder::set_dim(int dim) {
  impl_->check_dim(dim);
  impl_->options.dim = dim;
}

std::vector<float> Encoder::encode(const std::vector<std::string>& sentences) {
  std::vector<float> out(sentences.size() * static_cast<std::size_t>(dim()));
  encode(sentences, out.data());
  return out;
}

// Encodes ids[i] into out row i (options.dim wide): sorted by length and cut into
// forward passes where padding would cost more than another pass (batch_plan.h).
void Encoder::Impl::encode_sorted(const std::vector<std::vector<int>>& ids, float* out) {
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::size_t> lengths(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) lengths[i] = ids[order[i]].size();
  const std::size_t C = model.config.dim, K = options.dim > 0 ? options.dim : C;
  std::vector<const std::vector<int>*> batch;
  std::vector<float> batch_out(options.batch_size * C);  // (B, C) at the model's width
  std::size_t start = 0;
  for (const std::size_t end : plan_batches(lengths, options.batch_size)) {
    batch.clear();
    for (std::size_t i = start; i < end; ++i) batch.push_back(&ids[order[i]]);
    forward->forward(batch, batch_out.data(), normalize());
    for (std::size_t i = start; i < end; ++i)
      emit(batch_out.data() + (i - start) * C, out + order[i] * K);
    start = end;
  }
}

void Encoder::encode(const std::vector<std::string>& sentences, float* out) {
  ThreadCountScope scope(impl_->omp_threads);
  const auto ids = impl_->tokenizer.encode_batch(sentences, impl_->model.config.max_len,
                                                 impl_->tokenizer_threads());
  impl_->encode_sorted(ids, out);
}

void Encoder::encode_ids(const std::vector<std::vector<int>>& ids, float* out) {
  ThreadCountScope scope(impl_->omp_threads);
  const auto& config = impl_->model.config;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty() || static_cast<int>(ids[i].size()) > config.max_len)
      throw UsageError(
          fmt::format("sequence {} has {} ids; expected 1..{}", i, ids[i].size(), config.max_len));
    for (int id : ids[i])
      if (id < 0 || id >= config.vocab_size)
        throw UsageError(fmt::format("sequence {} has id {} outside the vocabulary [0, {})", i, id,
                                     config.vocab_size));
  }
  impl_->encode_sorted(ids, out);
}

}  // namespace sentemb
