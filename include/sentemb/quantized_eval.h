// What quantization costs in quality (`sentemb eval --quantize`): the STS
// benchmark and retrieval with quantized vectors, scored as search scores them
// (quantized_search.h).
#pragma once

#include <cstddef>
#include <string>

#include "sentemb/encoder.h"
#include "sentemb/pair_scoring.h"
#include "sentemb/quantization.h"
#include "sentemb/retrieval.h"

namespace sentemb {

// The similarity of two vectors (dim floats each) once both are quantized:
// int8 / uint8 the cosine of the dequantized vectors, binary / ubinary
// 1 - 2h/dim (h the Hamming distance of their sign bits).
float quantized_similarity(const Quantizer& quantizer, const float* a, const float* b);

// evaluate_sts with each pair scored by quantized_similarity.
StsResult evaluate_sts_quantized(Encoder& encoder, const std::string& path,
                                 const Quantizer& quantizer,
                                 const ProgressCallback& on_progress = {});

// How retrieval rescores the top candidates of a quantized corpus.
enum class RescoreWith {
  kNone,   // no rescoring
  kBits,   // the float query against the candidate's bits as 0/1 (binary)
  kInt8,   // the float query against the candidate's int8 codes, dequantized
  kFloat,  // the float query against the candidate's float32 vector
};
// "none", "bits", "int8", "float"; UsageError otherwise.
RescoreWith rescore_with_from_string(const std::string& name);

struct QuantizedRetrievalOptions {
  RescoreWith rescore_with = RescoreWith::kNone;
  std::size_t candidates = 0;      // the top candidates rescored (> 0 with rescore_with)
  QuantizationRanges int8_ranges;  // kInt8: the ranges of the int8 codes
};

// evaluate_retrieval with float queries against the candidates quantized by
// `quantizer`, ranked as QuantizedSearch ranks them (rank_of). Also measures
// the ranking alone (no encoding) in queries per second.
struct QuantizedRetrievalResult {
  RetrievalMetrics metrics;
  double queries_per_second = 0;
  std::size_t index_bytes = 0;  // the quantized candidates' codes
};
QuantizedRetrievalResult evaluate_retrieval_quantized(Encoder& encoder, const RetrievalSet& set,
                                                      const Quantizer& quantizer,
                                                      const QuantizedRetrievalOptions& options,
                                                      const ProgressCallback& on_progress = {});

}  // namespace sentemb
