#include "sentemb/quantized_eval.h"

#include <fmt/format.h>

#include <chrono>
#include <vector>

#include "sentemb/encode_stream.h"
#include "sentemb/errors.h"
#include "sentemb/quantized_search.h"
#include "sentemb/similarity.h"

namespace sentemb {

float quantized_similarity(const Quantizer& quantizer, const float* a, const float* b) {
  const int dim = quantizer.dim(), width = quantizer.width();
  std::vector<std::uint8_t> codes(2 * width);
  quantizer.quantize(a, 1, codes.data());
  quantizer.quantize(b, 1, codes.data() + width);
  if (is_binary(quantizer.kind())) {
    std::uint32_t h = 0;
    hamming_distances(codes.data(), codes.data() + width, 1, width, &h);
    return 1.0f - 2.0f * static_cast<float>(h) / static_cast<float>(dim);
  }
  std::vector<float> rows(2 * dim);
  dequantize(quantizer.kind(), quantizer.ranges(), codes.data(), 2, rows.data());
  return cosine(rows.data(), rows.data() + dim, dim);
}

StsResult evaluate_sts_quantized(Encoder& encoder, const std::string& path,
                                 const Quantizer& quantizer, const ProgressCallback& on_progress) {
  CorpusReader reader(path, CorpusFormat::kSts);
  const std::size_t dim = static_cast<std::size_t>(encoder.dim());
  std::vector<double> gold, predicted;
  for_each_pair_vectors(reader, encoder, [&](const auto& records, const float* v) {
    const std::size_t n = records.size();
    for (std::size_t i = 0; i < n; ++i) {
      gold.push_back(records[i].score);
      predicted.push_back(quantized_similarity(quantizer, v + i * dim, v + (n + i) * dim));
    }
    if (on_progress) on_progress(n);
  });
  return sts_result(predicted, gold, path);
}

RescoreWith rescore_with_from_string(const std::string& name) {
  if (name == "none") return RescoreWith::kNone;
  if (name == "bits") return RescoreWith::kBits;
  if (name == "int8") return RescoreWith::kInt8;
  if (name == "float") return RescoreWith::kFloat;
  throw UsageError(
      fmt::format("unknown rescoring '{}' (expected none, bits, int8 or float)", name));
}

namespace {

// The search over the quantized candidates, rescoring as the options say.
QuantizedSearch quantized_candidates(const Quantizer& quantizer, const std::vector<float>& c,
                                     std::size_t nc, const QuantizedRetrievalOptions& options) {
  const int dim = quantizer.dim();
  QuantizedSearch search(QuantizedIndex(
      quantizer.kind(), dim, quantizer.quantize_matrix(c.data(), nc), quantizer.ranges()));
  switch (options.rescore_with) {
    case RescoreWith::kNone:
      break;
    case RescoreWith::kBits:
      search.set_rescoring(options.candidates);
      break;
    case RescoreWith::kInt8: {
      const Quantizer int8(Quantization::kInt8, dim, options.int8_ranges);
      search.set_rescoring(
          options.candidates,
          index_rescorer(QuantizedIndex(Quantization::kInt8, dim,
                                        int8.quantize_matrix(c.data(), nc), options.int8_ranges)));
      break;
    }
    case RescoreWith::kFloat: {
      VectorMatrix vectors;
      vectors.rows = nc;
      vectors.dim = dim;
      vectors.data = c;
      search.set_rescoring(options.candidates, float_rescorer(std::move(vectors)));
      break;
    }
  }
  return search;
}

}  // namespace

QuantizedRetrievalResult evaluate_retrieval_quantized(Encoder& encoder, const RetrievalSet& set,
                                                      const Quantizer& quantizer,
                                                      const QuantizedRetrievalOptions& options,
                                                      const ProgressCallback& on_progress) {
  const std::size_t dim = static_cast<std::size_t>(encoder.dim());
  const std::vector<float> q = encode_all(encoder, set.queries, on_progress);     // (Q, dim)
  const std::vector<float> c = encode_all(encoder, set.candidates, on_progress);  // (C, dim)
  const QuantizedSearch search = quantized_candidates(quantizer, c, set.candidates.size(), options);
  if (set.correct.size() != set.queries.size())
    throw UsageError("retrieval set: one correct candidate per query");
  std::vector<std::size_t> ranks(set.queries.size());
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ranks.size(); ++i)
    ranks[i] = search.rank_of(&q[i * dim], set.correct[i]);
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  QuantizedRetrievalResult result;
  result.metrics = retrieval_metrics(ranks);
  result.queries_per_second = seconds.count() > 0 ? ranks.size() / seconds.count() : 0;
  result.index_bytes = search.index().codes().data.size();
  return result;
}

}  // namespace sentemb
