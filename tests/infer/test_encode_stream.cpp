// Windowed encoding (encode_stream.h) and the window reader under it (corpus.h).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "infer/test_models.h"
#include "sentemb/corpus.h"
#include "sentemb/encode_stream.h"
#include "sentemb/encoder.h"
#include "test_util.h"

using namespace sentemb;

namespace {

const std::vector<std::string> kSentences = {"the cat sat on the mat", "a dog ran in the park",
                                             "hello world", "", "the weather is nice today"};

}  // namespace

TEST_CASE("read_window reads a stream a window at a time", "[encode_stream]") {
  test::TempDir dir;
  const std::string path = dir.file("lines.txt");
  test::write_file(path, "a\nb\nc\nd\ne\n");
  CorpusReader reader(path, CorpusFormat::kText);
  std::vector<Record> window;
  CHECK(read_window(reader, 2, window) == 2);
  CHECK((window[0].a == "a" && window[1].a == "b"));
  CHECK(read_window(reader, 2, window) == 2);
  CHECK((window[0].a == "c" && window[1].a == "d"));
  CHECK(read_window(reader, 2, window) == 1);  // fewer than asked: the input has ended
  CHECK(window[0].a == "e");
  CHECK(read_window(reader, 2, window) == 0);
  CHECK(window.empty());
  CHECK(read_lines(path) == std::vector<std::string>{"a", "b", "c", "d", "e"});
}

TEST_CASE("encode_all gives encode()'s vectors and reports progress", "[encode_stream]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 8, {}});
  std::size_t progress = 0, calls = 0;
  const std::vector<float> got = encode_all(encoder, kSentences, [&](std::size_t n) {
    progress += n;
    ++calls;
  });
  CHECK(got == encoder.encode(kSentences));
  CHECK(progress == kSentences.size());
  CHECK(calls == 1);  // one window
  CHECK(encode_all(encoder, {}).empty());
}

TEST_CASE("encode_stream encodes every line in order, kEncodeWindow at a time", "[encode_stream]") {
  Encoder encoder(test::tiny_model(), EncoderOptions{Precision::kFp32, 1, 64, {}});
  const int dim = encoder.dim();
  const std::vector<float> expected = encoder.encode(kSentences);  // (5, dim)
  // One line more than a window: windows of kEncodeWindow and 1.
  const std::size_t n = kEncodeWindow + 1;
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text += kSentences[i % kSentences.size()] + "\n";
  test::TempDir dir;
  const std::string path = dir.file("lines.txt");
  test::write_file(path, text);

  CorpusReader reader(path, CorpusFormat::kText);
  std::vector<std::size_t> windows;
  std::size_t row = 0;
  bool all_match = true;
  const std::size_t encoded =
      encode_stream(encoder, reader, [&](const auto& texts, const float* vectors) {
        windows.push_back(texts.size());
        for (std::size_t i = 0; i < texts.size(); ++i, ++row) {
          const std::size_t s = row % kSentences.size();
          all_match = all_match && texts[i] == kSentences[s];
          for (int d = 0; d < dim; ++d)
            if (std::abs(vectors[i * dim + d] - expected[s * dim + d]) > 1e-5f) all_match = false;
        }
      });
  CHECK(encoded == n);
  CHECK(windows == std::vector<std::size_t>{kEncodeWindow, 1});
  CHECK(all_match);
}
