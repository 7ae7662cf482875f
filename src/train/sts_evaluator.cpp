#include "train/sts_evaluator.h"

#include "sentemb/corpus.h"
#include "sentemb/errors.h"
#include "sentemb/parameters.h"
#include "sentemb/similarity.h"

namespace sentemb::train {

StsEvaluator::StsEvaluator(const std::string& path, const Tokenizer& tokenizer,
                           const ModelConfig& config, const float* parameters, int threads)
    : forward_(config, bind_parameters(config, const_cast<float*>(parameters)), Precision::kFp32,
               kBatch, EncoderForward::Weights::kLive),
      dim_(config.dim) {
  CorpusReader reader(path, CorpusFormat::kSts);
  Record r;
  std::vector<std::string> texts;
  while (reader.next(r)) {
    texts.push_back(r.a);
    texts.push_back(r.b);
    gold_.push_back(r.score);
  }
  if (gold_.size() < 2) throw InputError(path, 0, "an STS file needs at least 2 pairs");
  ids_ = tokenizer.encode_batch(texts, config.max_len, threads);
}

StsEvaluator::Scores StsEvaluator::evaluate() {
  std::vector<float> vectors(ids_.size() * dim_);  // (2 pairs, dim)
  std::vector<const std::vector<int>*> batch;
  for (std::size_t start = 0; start < ids_.size(); start += kBatch) {
    batch.clear();
    for (std::size_t i = start; i < std::min(ids_.size(), start + kBatch); ++i)
      batch.push_back(&ids_[i]);
    forward_.forward(batch, vectors.data() + start * dim_, false);
  }
  std::vector<double> predicted(gold_.size());
  for (std::size_t i = 0; i < gold_.size(); ++i)
    predicted[i] = cosine(vectors.data() + 2 * i * dim_, vectors.data() + (2 * i + 1) * dim_, dim_);
  return {spearman(predicted, gold_), pearson(predicted, gold_)};
}

}  // namespace sentemb::train
