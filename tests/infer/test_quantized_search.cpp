// Search over quantized vectors (quantized_search.h): Hamming distances and
// binary top-k against brute force over unpacked bits, rescoring (never worse
// than none; over every row with float vectors it is exact search), int8
// scores against the dequantized cosine, ranks, and the checks of a quantized
// index against its corpus and model.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/quantization.h"
#include "sentemb/quantized_search.h"
#include "sentemb/search.h"
#include "sentemb/similarity.h"
#include "sentemb/vector_io.h"
#include "test_util.h"

using namespace sentemb;

namespace {

VectorMatrix random_unit_rows(std::size_t rows, int dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  VectorMatrix m;
  m.rows = rows;
  m.dim = dim;
  m.data.resize(rows * dim);
  for (float& x : m.data) x = normal(rng);
  l2_normalize_rows(m.data.data(), rows, dim);
  return m;
}

// The sign bits of a vector, one int per dimension: the brute-force reference.
std::vector<int> signs(const float* x, int dim) {
  std::vector<int> s(dim);
  for (int j = 0; j < dim; ++j) s[j] = x[j] > 0;
  return s;
}

int hamming(const std::vector<int>& a, const std::vector<int>& b) {
  int h = 0;
  for (std::size_t j = 0; j < a.size(); ++j) h += a[j] != b[j];
  return h;
}

std::vector<std::size_t> indices(const std::vector<SearchHit>& hits) {
  std::vector<std::size_t> out;
  for (const auto& h : hits) out.push_back(h.index);
  return out;
}

// recall of `found` against the exact top-k `truth`.
double overlap(const std::vector<SearchHit>& found, const std::vector<SearchHit>& truth) {
  std::set<std::size_t> t;
  for (const auto& h : truth) t.insert(h.index);
  std::size_t n = 0;
  for (const auto& h : found) n += t.count(h.index);
  return static_cast<double>(n) / truth.size();
}

}  // namespace

TEST_CASE("Hamming distances count differing bits, any width", "[quantization]") {
  std::mt19937 rng(7);
  for (int width : {1, 5, 8, 13, 32}) {
    std::vector<std::uint8_t> query(width), codes(9 * width);
    for (auto& b : query) b = static_cast<std::uint8_t>(rng());
    for (auto& b : codes) b = static_cast<std::uint8_t>(rng());
    std::vector<std::uint32_t> d(9);
    hamming_distances(query.data(), codes.data(), 9, width, d.data());
    for (int r = 0; r < 9; ++r) {
      std::uint32_t expected = 0;
      for (int b = 0; b < width; ++b)
        for (int bit = 0; bit < 8; ++bit)
          expected += ((query[b] >> bit) & 1) != ((codes[r * width + b] >> bit) & 1);
      INFO("width " << width << " row " << r);
      CHECK(d[r] == expected);
    }
  }
}

TEST_CASE("Hamming top-k by counting: smallest first, ties in row order", "[quantization]") {
  const std::vector<std::uint32_t> d = {3, 1, 3, 0, 1, 3, 8};
  const std::vector<SearchHit> hits = hamming_top_k(d.data(), d.size(), 4, 8);
  CHECK(indices(hits) == std::vector<std::size_t>{3, 1, 4, 0});
  CHECK(hits[0].score == 1.0f);
  CHECK(hits[3].score == 0.25f);  // 1 - 2 * 3 / 8
  CHECK(indices(hamming_top_k(d.data(), d.size(), 100, 8)) ==
        std::vector<std::size_t>{3, 1, 4, 0, 2, 5, 6});
  CHECK(hamming_top_k(d.data(), d.size(), 0, 8).empty());
}

TEST_CASE("binary top-k equals brute force over the sign bits", "[quantization]") {
  const int dim = 64;
  const VectorMatrix corpus = random_unit_rows(300, dim, 1);
  const VectorMatrix queries = random_unit_rows(20, dim, 2);
  for (Quantization kind : {Quantization::kBinary, Quantization::kUbinary}) {
    const Quantizer q(kind, dim);
    const QuantizedSearch search(
        QuantizedIndex(kind, dim, q.quantize_matrix(corpus.data.data(), corpus.rows)));
    for (std::size_t i = 0; i < queries.rows; ++i) {
      const std::vector<int> qs = signs(queries.row(i), dim);
      std::vector<std::pair<int, std::size_t>> brute;  // (distance, row)
      for (std::size_t r = 0; r < corpus.rows; ++r)
        brute.push_back({hamming(qs, signs(corpus.row(r), dim)), r});
      std::sort(brute.begin(), brute.end());
      const std::vector<SearchHit> hits = search.search(queries.row(i), 10);
      REQUIRE(hits.size() == 10);
      for (std::size_t k = 0; k < 10; ++k) {
        INFO(to_string(kind) << " query " << i << " hit " << k);
        CHECK(hits[k].index == brute[k].second);
        CHECK(hits[k].score == Approx(1.0 - 2.0 * brute[k].first / dim));
      }
      // rank_of agrees with the order, ties counted against the row.
      const std::size_t best = hits[0].index;
      std::size_t ties = 0;
      for (const auto& [h, r] : brute) ties += (r != best && h <= brute[0].first);
      CHECK(search.rank_of(queries.row(i), best) == 1 + ties);
    }
  }
}

TEST_CASE("rescoring a binary index: exact with every row rescored by floats, never worse",
          "[quantization]") {
  const int dim = 32;
  const VectorMatrix corpus = random_unit_rows(400, dim, 3);
  const VectorMatrix queries = random_unit_rows(30, dim, 4);
  const Quantizer q(Quantization::kUbinary, dim);
  auto index = [&] {
    return QuantizedIndex(Quantization::kUbinary, dim,
                          q.quantize_matrix(corpus.data.data(), corpus.rows));
  };
  QuantizedSearch plain(index());
  QuantizedSearch all_float(index());
  all_float.set_rescoring(corpus.rows, float_rescorer(corpus));
  QuantizedSearch top40_float(index());
  top40_float.set_rescoring(40, float_rescorer(corpus));
  QuantizedSearch top40_bits(index());
  top40_bits.set_rescoring(40);

  double recall_plain = 0, recall_float = 0, recall_bits = 0;
  for (std::size_t i = 0; i < queries.rows; ++i) {
    const std::vector<SearchHit> exact = search(corpus, queries.row(i), 10);
    // Rescoring every row by its float vector is the exact search.
    CHECK(indices(all_float.search(queries.row(i), 10)) == indices(exact));
    recall_plain += overlap(plain.search(queries.row(i), 10), exact);
    recall_float += overlap(top40_float.search(queries.row(i), 10), exact);
    recall_bits += overlap(top40_bits.search(queries.row(i), 10), exact);
    // The bits rescorer scores a row as query . bits (np.unpackbits).
    const std::vector<SearchHit> hits = top40_bits.search(queries.row(i), 3);
    const std::vector<int> bits = signs(corpus.row(hits[0].index), dim);
    std::vector<float> unit(queries.row(i), queries.row(i) + dim);
    l2_normalize_rows(unit.data(), 1, dim);
    float expected = 0;
    for (int j = 0; j < dim; ++j) expected += bits[j] * unit[j];
    CHECK(hits[0].score == Approx(expected));
  }
  CHECK(recall_float >= recall_plain);
  CHECK(recall_float > recall_plain);  // 40 candidates of 400 hold most of the true top 10
  CHECK(recall_bits >= recall_plain);
}

TEST_CASE("int8 and uint8 indexes score the cosine of the dequantized rows", "[quantization]") {
  const int dim = 16;
  const VectorMatrix corpus = random_unit_rows(50, dim, 5);
  const VectorMatrix queries = random_unit_rows(5, dim, 6);
  RangeAccumulator acc(dim);
  acc.add(corpus.data.data(), corpus.rows);
  const QuantizationRanges ranges = acc.ranges("corpus");
  for (Quantization kind : {Quantization::kInt8, Quantization::kUint8}) {
    const Quantizer q(kind, dim, ranges);
    const CodeMatrix codes = q.quantize_matrix(corpus.data.data(), corpus.rows);
    const QuantizedIndex index(kind, dim, codes, ranges);
    std::vector<float> dequantized(corpus.rows * dim);
    dequantize(kind, ranges, codes.data.data(), corpus.rows, dequantized.data());
    std::vector<float> scores(corpus.rows);
    for (std::size_t i = 0; i < queries.rows; ++i) {
      index.scores(queries.row(i), scores.data());
      for (std::size_t r = 0; r < corpus.rows; ++r) {
        const float expected = cosine(queries.row(i), &dequantized[r * dim], dim);
        CHECK(scores[r] == Approx(expected).margin(1e-5));
        CHECK(index.score(queries.row(i), r) == Approx(expected).margin(1e-5));
        // and close to the float cosine: 256 levels per dimension
        CHECK(scores[r] == Approx(cosine(queries.row(i), corpus.row(r), dim)).margin(0.03));
      }
    }
    // Rescoring an int8 index needs other vectors.
    QuantizedSearch s(QuantizedIndex(kind, dim, codes, ranges));
    CHECK_THROWS_WITH(s.set_rescoring(10), Catch::Contains("other vectors"));
  }
}

TEST_CASE("a quantized index file is checked against its corpus, model and ranges",
          "[quantization]") {
  test::TempDir tmp;
  const int dim = 16;
  const VectorMatrix corpus = random_unit_rows(6, dim, 8);
  auto write_codes = [&](const std::string& name, Quantization kind, QuantizationRanges r = {}) {
    const Quantizer q(kind, dim, r);
    const CodeMatrix c = q.quantize_matrix(corpus.data.data(), corpus.rows);
    auto w = VectorWriter::open(tmp.file(name), *vector_format_from_path(name), c.width, c.type);
    w->write_codes(c.data.data(), c.rows);
    w->close();
    return tmp.file(name);
  };
  RangeAccumulator acc(dim);
  acc.add(corpus.data.data(), corpus.rows);
  const QuantizationRanges ranges = acc.ranges("corpus");
  write_ranges(ranges, tmp.file("ranges.npy"));
  const std::string binary = write_codes("c.binary.npy", Quantization::kBinary);
  const std::string ubinary = write_codes("c.bvecs", Quantization::kUbinary);
  const std::string int8 = write_codes("c.int8.npy", Quantization::kInt8, ranges);
  auto floats = VectorWriter::open(tmp.file("c.npy"), VectorFormat::kNpy, dim);
  floats->write(corpus.data.data(), corpus.rows);
  floats->close();

  CHECK(is_quantized_vector_file(binary));
  CHECK(is_quantized_vector_file(ubinary));
  CHECK_FALSE(is_quantized_vector_file(tmp.file("c.npy")));

  auto load = [&](const std::string& index, const std::string& ranges = "", std::size_t rescore = 0,
                  const std::string& rescore_index = "", int model_dim = 16,
                  std::size_t lines = 6) {
    QuantizedSearchFiles f;
    f.index = index;
    f.ranges = ranges;
    f.rescore = rescore;
    f.rescore_index = rescore_index;
    return load_quantized_search(f, lines, model_dim, "corpus.txt", "model.semb");
  };
  CHECK(load(binary).index().kind() == Quantization::kBinary);
  CHECK(load(ubinary).index().kind() == Quantization::kUbinary);
  CHECK(load(int8, tmp.file("ranges.npy")).index().kind() == Quantization::kInt8);
  // int8 rescoring needs the ranges of its codes.
  CHECK_THROWS_WITH(load(binary, "", 3, int8), Catch::Contains("--ranges FILE"));
  CHECK(load(binary, tmp.file("ranges.npy"), 3, int8).rescore_candidates() == 3);
  CHECK(load(binary, "", 3, tmp.file("c.npy")).rescore_candidates() == 3);
  // Wrong model width, wrong line count, missing or needless ranges.
  CHECK_THROWS_WITH(load(binary, "", 0, "", 32), Catch::Contains("another model") &&
                                                     Catch::Contains("c.binary.npy") &&
                                                     Catch::Contains("model.semb"));
  CHECK_THROWS_WITH(load(int8, "", 0, "", 24), Catch::Contains("another model"));
  CHECK_THROWS_WITH(load(binary, "", 0, "", dim, 7), Catch::Contains("corpus.txt has 7 lines"));
  CHECK_THROWS_WITH(load(int8), Catch::Contains("--ranges FILE"));
  CHECK_THROWS_WITH(load(binary, tmp.file("ranges.npy")), Catch::Contains("--ranges"));
  CHECK_THROWS_WITH(load(binary, "", 0, tmp.file("c.npy")), Catch::Contains("--rescore N"));
  CHECK_THROWS_WITH(load(binary, "", 3, ubinary), Catch::Contains("holds binary codes"));
  CHECK_THROWS_WITH(load(int8, tmp.file("ranges.npy"), 3), Catch::Contains("other vectors"));
}
