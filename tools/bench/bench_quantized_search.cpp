// sentemb_bench_quantized: search speed and recall of quantized indexes
// (docs/benchmarks.md, "Quantized vectors"). From float32 corpus and query
// vectors (`sentemb encode` .npy files), builds in memory each index `sentemb
// search` offers and times brute-force top-10 searches, one query at a time
// (as `search` answers them), on one thread:
//   sentemb_bench_quantized CORPUS.npy QUERIES.npy [RESCORE_CANDIDATES=40]
//   sentemb_bench_quantized random:N:D random:Q:D [RESCORE_CANDIDATES=40]
// (random:N:D: N random unit vectors of width D, seeded: for speed at sizes
// there is no encoded corpus for; their recall says little about real text.)
// Prints one line per index: its bytes, queries/s, and the overlap of its top 10
// with the exact float32 top 10 (recall@10 against brute-force float search).
// int8 ranges are calibrated on the corpus.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sentemb/quantization.h"
#include "sentemb/quantized_search.h"
#include "sentemb/search.h"
#include "sentemb/similarity.h"
#include "sentemb/vector_io.h"

using namespace sentemb;

namespace {

using SearchFn = std::function<std::vector<SearchHit>(const float* query)>;

// A .npy / .fvecs file, or random:N:D (normal entries, seeded by `seed`).
VectorMatrix vectors(const std::string& source, unsigned seed) {
  if (source.rfind("random:", 0) != 0) return read_vectors(source);
  VectorMatrix m;
  const std::size_t colon = source.find(':', 7);
  m.rows = std::stoul(source.substr(7, colon - 7));
  m.dim = std::stoi(source.substr(colon + 1));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  m.data.resize(m.rows * m.dim);
  for (float& x : m.data) x = normal(rng);
  return m;
}

void measure(const std::string& name, std::size_t bytes, const SearchFn& search,
             const VectorMatrix& queries, const std::vector<std::vector<SearchHit>>& exact) {
  double overlap = 0;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<SearchHit>> found(queries.rows);
  for (std::size_t i = 0; i < queries.rows; ++i) found[i] = search(queries.row(i));
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  for (std::size_t i = 0; i < queries.rows; ++i) {
    std::set<std::size_t> truth;
    for (const auto& h : exact[i]) truth.insert(h.index);
    for (const auto& h : found[i]) overlap += truth.count(h.index);
  }
  fmt::print("{:<34} {:>12} bytes {:>10.0f} queries/s  recall@10 vs float {:.3f}\n", name, bytes,
             queries.rows / seconds.count(), overlap / (10.0 * queries.rows));
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    fmt::print(stderr, "usage: sentemb_bench_quantized CORPUS.npy QUERIES.npy [CANDIDATES]\n");
    return 2;
  }
  VectorMatrix corpus = vectors(argv[1], 1);
  const VectorMatrix queries = vectors(argv[2], 2);
  const std::size_t candidates = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 40;
  const int dim = corpus.dim;
  l2_normalize_rows(corpus.data.data(), corpus.rows, dim);
  fmt::print("{} corpus vectors, {} queries, width {}, rescoring {} candidates\n", corpus.rows,
             queries.rows, dim, candidates);

  std::vector<std::vector<SearchHit>> exact(queries.rows);
  for (std::size_t i = 0; i < queries.rows; ++i) exact[i] = search(corpus, queries.row(i), 10);

  RangeAccumulator acc(dim);
  acc.add(corpus.data.data(), corpus.rows);
  const QuantizationRanges ranges = acc.ranges(argv[1]);
  const Quantizer int8(Quantization::kInt8, dim, ranges), binary(Quantization::kUbinary, dim);
  auto int8_codes = [&] { return int8.quantize_matrix(corpus.data.data(), corpus.rows); };
  auto binary_codes = [&] { return binary.quantize_matrix(corpus.data.data(), corpus.rows); };
  const QuantizedSearch int8_search(QuantizedIndex(Quantization::kInt8, dim, int8_codes(), ranges));
  const QuantizedSearch binary_search(QuantizedIndex(Quantization::kUbinary, dim, binary_codes()));
  QuantizedSearch bits(QuantizedIndex(Quantization::kUbinary, dim, binary_codes()));
  bits.set_rescoring(candidates);
  QuantizedSearch with_int8(QuantizedIndex(Quantization::kUbinary, dim, binary_codes()));
  with_int8.set_rescoring(
      candidates, index_rescorer(QuantizedIndex(Quantization::kInt8, dim, int8_codes(), ranges)));
  QuantizedSearch with_float(QuantizedIndex(Quantization::kUbinary, dim, binary_codes()));
  with_float.set_rescoring(candidates, float_rescorer(corpus));

  const std::size_t floats = corpus.rows * dim * sizeof(float), bytes = corpus.rows * dim;
  measure(
      "float32", floats, [&](const float* q) { return search(corpus, q, 10); }, queries, exact);
  measure(
      "int8", bytes, [&](const float* q) { return int8_search.search(q, 10); }, queries, exact);
  measure(
      "binary", bytes / 8, [&](const float* q) { return binary_search.search(q, 10); }, queries,
      exact);
  measure(
      "binary + rescore (bits)", bytes / 8, [&](const float* q) { return bits.search(q, 10); },
      queries, exact);
  measure(
      "binary + rescore (int8)", bytes / 8 + bytes,
      [&](const float* q) { return with_int8.search(q, 10); }, queries, exact);
  measure(
      "binary + rescore (float32)", bytes / 8 + floats,
      [&](const float* q) { return with_float.search(q, 10); }, queries, exact);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
