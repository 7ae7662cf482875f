// The faiss vector index (vector_index.h) on known vectors: flat equals brute
// force, HNSW and IVF recall, quantized scores, specs and their errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/errors.h"
#include "sentemb/search.h"
#include "sentemb/similarity.h"
#include "sentemb/vector_index.h"
#include "test_util.h"

using namespace sentemb;

namespace {

VectorMatrix random_unit_rows(std::size_t rows, int dim, std::uint32_t seed) {
  VectorMatrix m;
  m.rows = rows;
  m.dim = dim;
  m.data = test::random_vector(rows * dim, seed);
  l2_normalize_rows(m.data.data(), rows, dim);
  return m;
}

IndexSpec spec_of(IndexKind kind, const std::string& quantize = "none") {
  IndexSpec spec;
  spec.kind = kind;
  spec.quantize = quantize;
  spec.threads = 1;
  return spec;
}

// The fraction of the exact top-k rows (brute-force search) that `index` finds,
// over the queries.
double recall_at_k(const VectorIndex& index, const VectorMatrix& corpus,
                   const VectorMatrix& queries, std::size_t k, IndexSearchOptions options = {}) {
  std::size_t found = 0;
  for (std::size_t q = 0; q < queries.rows; ++q) {
    std::set<std::size_t> exact;
    for (const auto& hit : search(corpus, queries.row(q), k)) exact.insert(hit.index);
    for (const auto& hit : index.search(queries.row(q), k, options))
      found += exact.count(hit.index);
  }
  return static_cast<double>(found) / (queries.rows * k);
}

}  // namespace

TEST_CASE("a flat index finds what brute-force search finds", "[index]") {
  const VectorMatrix corpus = random_unit_rows(2000, 32, 1);
  const VectorMatrix queries = random_unit_rows(50, 32, 2);
  const VectorIndex index =
      VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec_of(IndexKind::kFlat));
  CHECK(index.size() == 2000);
  CHECK(index.meta().description == "Flat");
  for (std::size_t q = 0; q < queries.rows; ++q) {
    const auto exact = search(corpus, queries.row(q), 10);
    const auto hits = index.search(queries.row(q), 10);
    REQUIRE(hits.size() == exact.size());
    for (std::size_t i = 0; i < hits.size(); ++i) {
      INFO("query " << q << " rank " << i);
      CHECK(hits[i].index == exact[i].index);
      CHECK(hits[i].score == Approx(exact[i].score).margin(1e-5));
    }
  }
}

TEST_CASE("an HNSW index reaches recall@10 of 0.95 on 5000 random unit vectors", "[index]") {
  const VectorMatrix corpus = random_unit_rows(5000, 32, 3);
  const VectorMatrix queries = random_unit_rows(200, 32, 4);
  const VectorIndex index =
      VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec_of(IndexKind::kHnsw));
  CHECK(index.meta().description == "HNSW32");
  CHECK(recall_at_k(index, corpus, queries, 10) >= 0.95);
  // efSearch is a per-call setting: a tiny candidate list (raised to k) loses recall.
  IndexSearchOptions narrow;
  narrow.ef_search = 1;
  CHECK(recall_at_k(index, corpus, queries, 10, narrow) < recall_at_k(index, corpus, queries, 10));
}

// faiss 1.7.3 (Debian 12) sizes the candidate heap from SearchParametersHNSW but stops
// the search by the index's own efSearch, so an efSearch above the index's (64) used to
// change nothing.
TEST_CASE("an HNSW efSearch above the index's own default finds more", "[index]") {
  const VectorMatrix corpus = random_unit_rows(5000, 48, 11);
  const VectorMatrix queries = random_unit_rows(200, 48, 12);
  IndexSpec spec = spec_of(IndexKind::kHnsw);
  spec.hnsw_m = 4;  // a sparse graph: recall at the default efSearch stays well below 1
  spec.ef_construction = 16;
  const VectorIndex index = VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec);
  IndexSearchOptions ef64, ef512;
  ef64.ef_search = 64;
  ef512.ef_search = 512;
  const double at_default = recall_at_k(index, corpus, queries, 10);
  const double at_64 = recall_at_k(index, corpus, queries, 10, ef64);
  const double at_512 = recall_at_k(index, corpus, queries, 10, ef512);
  INFO("recall@10 default " << at_default << ", efSearch 64 " << at_64 << ", 512 " << at_512);
  CHECK(at_64 == at_default);
  CHECK(at_64 < 0.95);
  CHECK(at_512 > at_64 + 0.02);
}

TEST_CASE("an IVF index visiting every list is exact, fewer lists approximate", "[index]") {
  const VectorMatrix corpus = random_unit_rows(3000, 16, 5);
  const VectorMatrix queries = random_unit_rows(50, 16, 6);
  IndexSpec spec = spec_of(IndexKind::kIvf);
  spec.ivf_lists = 20;
  const VectorIndex index = VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec);
  CHECK(index.meta().description == "IVF20,Flat");
  IndexSearchOptions all;
  all.nprobe = 20;
  CHECK(recall_at_k(index, corpus, queries, 10, all) == 1.0);
  IndexSearchOptions one;
  one.nprobe = 1;
  CHECK(recall_at_k(index, corpus, queries, 10, one) < 1.0);
}

TEST_CASE("quantized indexes score by cosine, close to the exact cosine", "[index]") {
  const VectorMatrix corpus = random_unit_rows(1000, 32, 7);
  const VectorMatrix queries = random_unit_rows(20, 32, 8);
  // Small and narrow: faiss 1.7 trains PQ codebooks slowly (30 s here).
  for (const auto& [kind, quantize] : std::vector<std::pair<IndexKind, std::string>>{
           {IndexKind::kFlat, "sq8"}, {IndexKind::kHnsw, "sq8"}, {IndexKind::kIvf, "pq2"}}) {
    INFO(to_string(kind) << " " << quantize);
    IndexSpec spec = spec_of(kind, quantize);
    spec.ivf_lists = 4;
    const VectorIndex index = VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec);
    double error = 0;
    std::size_t n = 0;
    for (std::size_t q = 0; q < queries.rows; ++q) {
      const auto hits = index.search(queries.row(q), 5);
      REQUIRE(hits.size() == 5);
      for (const auto& hit : hits) {
        error += std::abs(hit.score - dot(queries.row(q), corpus.row(hit.index), 32));
        ++n;
      }
      for (std::size_t i = 1; i < hits.size(); ++i) CHECK(hits[i - 1].score >= hits[i].score);
    }
    // SQ8 rounds each value to 1/255 of its range; PQ2 replaces 16 values by one of
    // 256 centroids (about 0.07 here on random vectors, the hardest case).
    CHECK(error / n < (quantize == "sq8" ? 0.01 : 0.15));
    if (quantize == "sq8") CHECK(recall_at_k(index, corpus, queries, 10) >= 0.8);
  }
}

TEST_CASE("index specs map to faiss descriptions; bad specs are usage errors", "[index]") {
  IndexSpec spec;
  spec.kind = IndexKind::kHnsw;
  spec.hnsw_m = 16;
  CHECK(faiss_description(spec, 256, 1000) == "HNSW16");
  spec.quantize = "sq8";
  CHECK(faiss_description(spec, 256, 1000) == "HNSW16_SQ8");
  spec.quantize = "pq32";
  CHECK_THROWS_WITH(faiss_description(spec, 256, 1000), Catch::Contains("--kind ivf"));
  spec.kind = IndexKind::kIvf;
  spec.quantize = "sq8";
  CHECK(faiss_description(spec, 256, 10000) == "IVF400,SQ8");  // 4 sqrt(10000)
  spec.ivf_lists = 7;
  CHECK(faiss_description(spec, 256, 10000) == "IVF7,SQ8");
  spec.kind = IndexKind::kFlat;
  spec.quantize = "none";
  CHECK(faiss_description(spec, 256, 1) == "Flat");
  CHECK(index_kind_from_string("ivf") == IndexKind::kIvf);

  CHECK_THROWS_WITH(index_kind_from_string("annoy"),
                    Catch::Contains("--kind annoy") && Catch::Contains("flat, hnsw or ivf"));
  CHECK_THROWS_AS(index_kind_from_string("annoy"), UsageError);
  spec.quantize = "pq7";
  CHECK_THROWS_WITH(faiss_description(spec, 256, 10), Catch::Contains("divide the width 256"));
  spec.quantize = "int4";
  CHECK_THROWS_WITH(faiss_description(spec, 256, 10), Catch::Contains("--quantize int4"));
  const VectorMatrix few = random_unit_rows(5, 8, 9);
  IndexSpec ivf = spec_of(IndexKind::kIvf);
  ivf.ivf_lists = 6;
  CHECK_THROWS_AS(VectorIndex::build(few.data.data(), few.rows, few.dim, ivf), UsageError);
  // PQ's 256 centroids a sub-space cannot be trained on 5 vectors: faiss's error, typed.
  CHECK_THROWS_AS(
      VectorIndex::build(few.data.data(), few.rows, few.dim, spec_of(IndexKind::kFlat, "pq2")),
      UsageError);
}

TEST_CASE("an index written and opened again answers the same; bad files are named", "[index]") {
  test::TempDir tmp;
  const VectorMatrix corpus = random_unit_rows(500, 16, 10);
  const VectorIndex built =
      VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec_of(IndexKind::kHnsw));
  const std::string path = tmp.file("v.index");
  SECTION("no metadata beside it") {
    built.write(path);
    CHECK_THROWS_AS(VectorIndex::open(path), IoError);
    CHECK_THROWS_WITH(VectorIndex::open(path), Catch::Contains(path + ".json"));
  }
  SECTION("round trip with metadata") {
    built.write(path);
    IndexMeta meta = built.meta();
    test::write_file(index_meta_path(path), meta.to_json());
    const VectorIndex opened = VectorIndex::open(path);
    CHECK(opened.meta().description == "HNSW32");
    CHECK(opened.meta().corpus_lines == 500);
    for (std::size_t q = 0; q < 20; ++q) {
      const auto a = built.search(corpus.row(q), 5), b = opened.search(corpus.row(q), 5);
      REQUIRE(a.size() == b.size());
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].index == b[i].index);
      CHECK(b[0].index == q);  // a corpus row is its own nearest neighbour
    }
    // Metadata that does not describe the index (another row count) is refused.
    meta.corpus_lines = 499;
    test::write_file(index_meta_path(path), meta.to_json());
    CHECK_THROWS_WITH(VectorIndex::open(path),
                      Catch::Contains("500 vectors") && Catch::Contains("says 499"));
  }
  SECTION("missing or foreign files") {
    CHECK_THROWS_AS(VectorIndex::open(tmp.file("none.index")), IoError);
    CHECK_THROWS_WITH(VectorIndex::open(tmp.file("none.index")),
                      Catch::Contains("none.index") && Catch::Contains("sentemb index build"));
    test::write_file(path, "not faiss");
    test::write_file(index_meta_path(path), built.meta().to_json());
    CHECK_THROWS_AS(VectorIndex::open(path), ModelFileError);
    test::write_file(index_meta_path(path), "{\"format\": \"other\"}");
    CHECK_THROWS_WITH(VectorIndex::open(path), Catch::Contains("sentemb-faiss-index"));
  }
}

TEST_CASE("index metadata round-trips through JSON; line checksums see every byte", "[index]") {
  IndexMeta m;
  m.kind = "ivf";
  m.quantize = "pq8";
  m.description = "IVF4,PQ8";
  m.model = "m.semb";
  m.model_checksum = "0123456789abcdef";
  m.dim = 32;
  m.precision = "bf16";
  m.corpus = "c.txt";
  m.corpus_lines = 12;
  m.corpus_checksum = "fedcba9876543210";
  m.ivf_lists = 4;
  m.train_size = 12;
  const IndexMeta back = IndexMeta::from_json(m.to_json(), "x.json");
  CHECK(back.to_json() == m.to_json());
  CHECK_THROWS_AS(IndexMeta::from_json("{", "x.json"), ModelFileError);
  CHECK_THROWS_WITH(IndexMeta::from_json("{\"format\": \"sentemb-faiss-index\"}", "x.json"),
                    Catch::Contains("x.json"));

  CHECK(corpus_checksum({"a", "b"}) != corpus_checksum({"ab"}));
  CHECK(corpus_checksum({"a", "b"}) != corpus_checksum({"b", "a"}));
  CHECK(corpus_checksum({"a", "b"}) == corpus_checksum({"a", "b"}));
  CHECK(is_faiss_index_path("c.index"));
  CHECK(is_faiss_index_path("c.faiss"));
  CHECK(!is_faiss_index_path("c.npy"));
  CHECK(!is_faiss_index_path("c.fvecs"));
}
