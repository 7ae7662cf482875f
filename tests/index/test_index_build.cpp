// build_index over a model and a corpus file, and the checks that tie an index
// to both (vector_index.h).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/corpus.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/model_file.h"
#include "sentemb/search.h"
#include "sentemb/vector_index.h"
#include "test_util.h"

using namespace sentemb;

namespace {

struct Fixture {
  test::TempDir tmp;
  std::string model = tmp.file("m.semb");
  std::string corpus = tmp.file("corpus.txt");
  std::vector<std::string> lines;

  Fixture() {
    save_model(test::tiny_model(), model);
    // The distinct sentences of the training fixture.
    for (const auto& r : read_corpus(test::data_path("train/pairs.tsv"), CorpusFormat::kPairs))
      for (const std::string* s : {&r.a, &r.b})
        if (std::find(lines.begin(), lines.end(), *s) == lines.end()) lines.push_back(*s);
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    test::write_file(corpus, text);
  }
  Encoder encoder() const {
    EncoderOptions options;
    options.threads = 1;
    return Encoder::load(model, options);
  }
  // Builds an index of `kind` of the corpus into index_path.
  IndexBuildResult build(Encoder& encoder, IndexKind kind) const {
    IndexSpec spec;
    spec.kind = kind;
    spec.threads = 1;
    return build_index(encoder, model, corpus, spec, index_path);
  }
  std::string index_path = tmp.file("c.index");
};

}  // namespace

TEST_CASE("build_index writes an index whose flat search equals brute-force search", "[index]") {
  Fixture f;
  Encoder encoder = f.encoder();
  const IndexBuildResult r = f.build(encoder, IndexKind::kFlat);
  CHECK(r.vectors == f.lines.size());
  CHECK(r.meta.corpus_lines == f.lines.size());
  CHECK(r.meta.model_checksum == model_file_checksum(f.model));
  CHECK(r.meta.corpus_checksum == corpus_checksum(f.lines));

  const VectorIndex index = VectorIndex::open(f.index_path);
  CHECK(index.check_matches(f.model, encoder.dim(), "fp32", f.lines, f.corpus).empty());
  const VectorMatrix vectors = encode_corpus(encoder, f.lines);
  for (const std::string query : {"a child is sleeping", "the dog runs", "Zürich"}) {
    const auto exact = search(encoder, vectors, query, 10);
    const auto hits = index.search(encoder, query, 10);
    REQUIRE(hits.size() == exact.size());
    for (std::size_t i = 0; i < hits.size(); ++i) {
      INFO(query << " rank " << i);
      CHECK(hits[i].score == Approx(exact[i].score).margin(1e-5));
      // Equal scores may come in another order only if they are (nearly) tied.
      if (hits[i].index != exact[i].index)
        CHECK(hits[i].score == Approx(exact[i].score).margin(1e-6));
    }
  }
}

TEST_CASE("an index refuses another model, another width, or another corpus", "[index]") {
  Fixture f;
  Encoder encoder = f.encoder();
  f.build(encoder, IndexKind::kHnsw);
  const VectorIndex index = VectorIndex::open(f.index_path);

  SECTION("another model") {
    const std::string other = f.tmp.file("other.semb");
    Model m = test::tiny_model();
    m.parameters[0] += 1;
    save_model(m, other);
    CHECK_THROWS_AS(index.check_matches(other, 32, "fp32", f.lines, f.corpus), UsageError);
    CHECK_THROWS_WITH(index.check_matches(other, 32, "fp32", f.lines, f.corpus),
                      Catch::Contains(other) && Catch::Contains("another") &&
                          Catch::Contains("sentemb index build"));
  }
  SECTION("another width (--dim)") {
    CHECK_THROWS_WITH(index.check_matches(f.model, 16, "fp32", f.lines, f.corpus),
                      Catch::Contains("width 32") && Catch::Contains("width 16"));
  }
  SECTION("a corpus with another line count") {
    auto fewer = f.lines;
    fewer.pop_back();
    CHECK_THROWS_WITH(
        index.check_matches(f.model, 32, "fp32", fewer, f.corpus),
        Catch::Contains(std::to_string(fewer.size()) + " lines") && Catch::Contains(f.corpus));
  }
  SECTION("an edited corpus of the same length") {
    auto edited = f.lines;
    edited[3] += "!";
    CHECK_THROWS_WITH(index.check_matches(f.model, 32, "fp32", edited, f.corpus),
                      Catch::Contains("not the same text"));
  }
  SECTION("another precision is a warning") {
    CHECK_THAT(index.check_matches(f.model, 32, "bf16", f.lines, f.corpus),
               Catch::Contains("fp32") && Catch::Contains("bf16"));
  }
}

TEST_CASE("build_index: an empty corpus or a bad line is an error naming the file", "[index]") {
  Fixture f;
  Encoder encoder = f.encoder();
  IndexSpec spec;
  spec.kind = IndexKind::kFlat;
  const std::string empty = f.tmp.file("empty.txt");
  test::write_file(empty, "");
  CHECK_THROWS_WITH(build_index(encoder, f.model, empty, spec, f.tmp.file("e.index")),
                    Catch::Contains(empty) && Catch::Contains("empty"));
  const std::string bad = f.tmp.file("bad.txt");
  test::write_file(bad, "fine\nbad \xff byte\n");
  CHECK_THROWS_WITH(build_index(encoder, f.model, bad, spec, f.tmp.file("b.index")),
                    Catch::Contains(bad + ":2"));
  CHECK_THROWS_AS(
      build_index(encoder, f.model, f.tmp.file("missing.txt"), spec, f.tmp.file("m.index")),
      IoError);
}
