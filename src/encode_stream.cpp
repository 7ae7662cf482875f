#include "sentemb/encode_stream.h"

#include <algorithm>

namespace sentemb {

std::vector<float> encode_all(Encoder& encoder, const std::vector<std::string>& texts,
                              const ProgressCallback& on_progress) {
  const std::size_t dim = static_cast<std::size_t>(encoder.dim());
  std::vector<float> vectors(texts.size() * dim);
  std::vector<std::string> window;
  for (std::size_t start = 0; start < texts.size(); start += kEncodeWindow) {
    const std::size_t end = std::min(texts.size(), start + kEncodeWindow);
    window.assign(texts.begin() + start, texts.begin() + end);
    encoder.encode(window, vectors.data() + start * dim);
    if (on_progress) on_progress(end - start);
  }
  return vectors;
}

std::size_t encode_stream(Encoder& encoder, CorpusReader& reader,
                          const EncodedWindowFn& on_window) {
  const std::size_t dim = static_cast<std::size_t>(encoder.dim());
  std::vector<Record> records;
  std::vector<std::string> texts;
  texts.reserve(kEncodeWindow);
  std::vector<float> vectors;  // (window, dim)
  std::size_t encoded = 0;
  for (;;) {
    const std::size_t n = read_window(reader, kEncodeWindow, records);
    if (n == 0) break;
    texts.clear();
    for (Record& r : records) texts.push_back(std::move(r.a));
    vectors.resize(n * dim);
    encoder.encode(texts, vectors.data());
    on_window(texts, vectors.data());
    encoded += n;
    if (n < kEncodeWindow) break;  // the input has ended
  }
  return encoded;
}

}  // namespace sentemb
