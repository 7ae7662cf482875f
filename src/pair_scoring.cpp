#include "sentemb/pair_scoring.h"

#include <fmt/format.h>

#include "sentemb/errors.h"
#include "sentemb/similarity.h"

namespace sentemb {

float sentence_cosine(Encoder& encoder, const std::string& a, const std::string& b) {
  return static_cast<float>(pair_cosines(encoder, {a}, {b})[0]);
}

std::vector<double> pair_cosines(Encoder& encoder, const std::vector<std::string>& a,
                                 const std::vector<std::string>& b) {
  if (a.size() != b.size())
    throw UsageError(fmt::format("{} sentences to compare with {}: the sizes must be equal",
                                 a.size(), b.size()));
  std::vector<std::string> texts = a;
  texts.insert(texts.end(), b.begin(), b.end());
  const std::vector<float> v = encoder.encode(texts);  // (2n, dim)
  const std::size_t n = a.size(), dim = static_cast<std::size_t>(encoder.dim());
  std::vector<double> cosines(n);
  for (std::size_t i = 0; i < n; ++i)
    cosines[i] = cosine(v.data() + i * dim, v.data() + (n + i) * dim, static_cast<int>(dim));
  return cosines;
}

void for_each_pair_vectors(CorpusReader& reader, Encoder& encoder, const PairVectorsFn& on_window) {
  const std::size_t dim = static_cast<std::size_t>(encoder.dim());
  std::vector<Record> records;
  std::vector<std::string> texts;  // a_0..a_{n-1}, b_0..b_{n-1}
  std::vector<float> vectors;      // (2n, dim)
  for (;;) {
    const std::size_t n = read_window(reader, kEncodeWindow, records);
    if (n == 0) break;
    texts.clear();
    for (const auto& r : records) texts.push_back(r.a);
    for (const auto& r : records) texts.push_back(r.b);
    vectors.resize(2 * n * dim);
    encoder.encode(texts, vectors.data());
    on_window(records, vectors.data());
    if (n < kEncodeWindow) break;  // the input has ended
  }
}

void for_each_pair_window(CorpusReader& reader, Encoder& encoder, const PairWindowFn& on_window) {
  const int dim = encoder.dim();
  std::vector<double> cosines;  // (n)
  for_each_pair_vectors(reader, encoder, [&](const auto& records, const float* vectors) {
    const std::size_t n = records.size();
    cosines.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      cosines[i] = cosine(vectors + i * dim, vectors + (n + i) * dim, dim);
    on_window(records, cosines);
  });
}

StsResult evaluate_sts(Encoder& encoder, const std::string& path,
                       const ProgressCallback& on_progress) {
  CorpusReader reader(path, CorpusFormat::kSts);
  std::vector<double> gold, predicted;
  for_each_pair_window(reader, encoder, [&](const auto& records, const auto& cosines) {
    for (const auto& r : records) gold.push_back(r.score);
    predicted.insert(predicted.end(), cosines.begin(), cosines.end());
    if (on_progress) on_progress(records.size());
  });
  return sts_result(predicted, gold, path);
}

StsResult sts_result(const std::vector<double>& predicted, const std::vector<double>& gold,
                     const std::string& path) {
  if (gold.empty())
    throw Error(fmt::format("{}: no STS pairs to evaluate", path == "-" ? "<stdin>" : path));
  StsResult result;
  result.spearman = spearman(predicted, gold);
  result.pearson = pearson(predicted, gold);
  result.pairs = gold.size();
  return result;
}

}  // namespace sentemb
