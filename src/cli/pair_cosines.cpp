#include "cli/pair_cosines.h"

#include <string>

#include "cli/cli_options.h"
#include "sentemb/similarity.h"

namespace sentemb::cli {

void for_each_pair_window(
    CorpusReader& reader, Encoder& encoder,
    const std::function<void(const std::vector<Record>&, const std::vector<double>&)>& on_window) {
  const int dim = encoder.dim();
  std::vector<Record> records;
  std::vector<std::string> texts;  // a_0..a_{n-1}, b_0..b_{n-1}
  std::vector<float> vectors;      // (2n, dim)
  std::vector<double> cosines;     // (n)
  Record record;
  bool more = true;
  while (more) {
    records.clear();
    while (records.size() < kEncodeWindow && (more = reader.next(record)))
      records.push_back(std::move(record));
    const std::size_t n = records.size();
    if (n == 0) break;
    texts.clear();
    for (const auto& r : records) texts.push_back(r.a);
    for (const auto& r : records) texts.push_back(r.b);
    vectors.resize(2 * n * dim);
    encoder.encode(texts, vectors.data());
    cosines.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      cosines[i] = cosine(vectors.data() + i * dim, vectors.data() + (n + i) * dim, dim);
    on_window(records, cosines);
  }
}

}  // namespace sentemb::cli
