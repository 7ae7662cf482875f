// Nearest-neighbour search (search.h): top-k with ties and k > N, search over
// known vectors, and the checks of an index against its corpus and model.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/search.h"
#include "sentemb/vector_io.h"
#include "test_util.h"

using namespace sentemb;

namespace {

std::vector<std::size_t> indices(const std::vector<SearchHit>& hits) {
  std::vector<std::size_t> out;
  for (const auto& h : hits) out.push_back(h.index);
  return out;
}

VectorMatrix matrix(std::size_t rows, int dim, std::vector<float> data) {
  VectorMatrix m;
  m.rows = rows;
  m.dim = dim;
  m.data = std::move(data);
  return m;
}

}  // namespace

TEST_CASE("top_k returns the best scores first, ties by index", "[search]") {
  const std::vector<float> s = {0.1f, 0.9f, 0.5f, 0.9f, -1.0f};
  const auto best = top_k(s.data(), s.size(), 3);
  REQUIRE(best.size() == 3);
  CHECK(best[0].index == 1);
  CHECK(best[0].score == 0.9f);
  CHECK(best[1].index == 3);  // ties with index 1, comes after it
  CHECK(best[1].score == 0.9f);
  CHECK(best[2].index == 2);
  CHECK(best[2].score == 0.5f);
  // k > N gives all N, in order.
  CHECK(indices(top_k(s.data(), s.size(), 10)) == std::vector<std::size_t>{1, 3, 2, 0, 4});
  CHECK(top_k(s.data(), s.size(), 0).empty());
  CHECK(top_k(s.data(), 0, 3).empty());
  const std::vector<float> equal = {2, 2, 2, 2};
  CHECK(indices(top_k(equal.data(), 4, 2)) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("search ranks unit corpus rows by cosine with the query", "[search]") {
  const float r = static_cast<float>(1 / std::sqrt(2.0));
  // Rows: (1,0), (0,1), (1,1)/√2, (-1,0), (1,0) again (ties with row 0).
  const VectorMatrix corpus = matrix(5, 2, {1, 0, 0, 1, r, r, -1, 0, 1, 0});
  const std::vector<float> query = {2, 0};  // not unit length: search normalises it
  const auto hits = search(corpus, query.data(), 3);
  REQUIRE(hits.size() == 3);
  CHECK(indices(hits) == std::vector<std::size_t>{0, 4, 2});
  CHECK(hits[0].score == 1.0f);
  CHECK(hits[1].score == 1.0f);
  CHECK(hits[2].score == Approx(r));
  CHECK(indices(search(corpus, query.data(), 10)) == std::vector<std::size_t>{0, 4, 2, 1, 3});
  CHECK(search(corpus, query.data(), 10)[4].score == -1.0f);

  const VectorMatrix empty = matrix(0, 2, {});
  CHECK(search(empty, query.data(), 3).empty());
}

TEST_CASE("check_index rejects an index of another size or width", "[search]") {
  VectorMatrix index = matrix(2, 3, std::vector<float>(6, 1.0f));
  SECTION("another number of rows than corpus lines") {
    CHECK_THROWS_AS(check_index(index, 3, 3, "i.npy", "c.txt", "m.semb"), UsageError);
    CHECK_THROWS_WITH(check_index(index, 3, 3, "i.npy", "c.txt", "m.semb"),
                      "index i.npy has 2 vectors but corpus c.txt has 3 lines; re-encode it "
                      "with `sentemb encode --input c.txt --output i.npy`");
  }
  SECTION("another width than the model's") {
    CHECK_THROWS_WITH(check_index(index, 2, 4, "i.npy", "c.txt", "m.semb"),
                      "index i.npy has vectors of width 3 but model m.semb makes width 4; it "
                      "was encoded with another model");
  }
  SECTION("a matching index passes") {
    CHECK_NOTHROW(check_index(index, 2, 3, "i.npy", "c.txt", "m.semb"));
    CHECK(index.dim == 3);
  }
  SECTION("an empty index of an empty corpus takes the model's width") {
    VectorMatrix none = matrix(0, 0, {});
    CHECK_NOTHROW(check_index(none, 0, 8, "i.fvecs", "c.txt", "m.semb"));
    CHECK(none.dim == 8);
  }
}

TEST_CASE("load_index reads, checks and normalises an index file", "[search]") {
  test::TempDir dir;
  const std::string path = dir.file("index.npy");
  {
    auto writer = VectorWriter::open(path, VectorFormat::kNpy, 2);
    const std::vector<float> rows = {3, 4, 0, -2};
    writer->write(rows.data(), 2);
    writer->close();
  }
  const VectorMatrix index = load_index(path, 2, 2, "c.txt", "m.semb");
  REQUIRE(index.rows == 2);
  REQUIRE(index.dim == 2);
  CHECK(index.data[0] == Approx(0.6));
  CHECK(index.data[1] == Approx(0.8));
  CHECK(index.data[2] == 0.0f);
  CHECK(index.data[3] == -1.0f);
  CHECK_THROWS_AS(load_index(path, 5, 2, "c.txt", "m.semb"), UsageError);
  CHECK_THROWS_AS(load_index(path, 2, 16, "c.txt", "m.semb"), UsageError);
  CHECK_THROWS_AS(load_index(dir.file("missing.npy"), 2, 2, "c.txt", "m.semb"), IoError);
}

TEST_CASE("encode_corpus + search: a corpus line finds itself first", "[search]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  const std::vector<std::string> lines = {"the cat sat on the mat", "a dog ran in the park",
                                          "hello world", "the weather is nice today"};
  std::size_t progress = 0;
  const VectorMatrix corpus = encode_corpus(encoder, lines, [&](std::size_t n) { progress += n; });
  CHECK(progress == 4);
  REQUIRE(corpus.rows == 4);
  REQUIRE(corpus.dim == encoder.dim());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto hits = search(encoder, corpus, lines[i], 2);
    REQUIRE(hits.size() == 2);
    CHECK(hits[0].index == i);
    CHECK(hits[0].score == Approx(1.0).margin(1e-5));
    CHECK(hits[1].score < hits[0].score);
  }
}
