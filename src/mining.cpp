#include "sentemb/mining.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "sentemb/errors.h"
#include "sentemb/similarity.h"
#include "splitmix.h"

namespace sentemb {
namespace {

// FNV-1a: a hash that is the same on every platform and build.
std::uint64_t text_hash(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Collects the corpus lines (deduplicated, no empty lines) and the known pairs.
class CorpusBuilder {
 public:
  void add_line(const std::string& line) {
    if (!line.empty() && seen_.insert(line).second) corpus_.lines.push_back(line);
  }
  // Both ways: a pair makes each text a positive of the other (caption files
  // pair every two captions of an image once, in one direction).
  void add_pair(const std::string& anchor, const std::string& positive) {
    const std::uint64_t a = text_hash(anchor), p = text_hash(positive);
    corpus_.known_pairs.emplace_back(a, p);
    corpus_.known_pairs.emplace_back(p, a);
    ++corpus_.pairs;
  }
  MiningCorpus finish() {
    auto& known = corpus_.known_pairs;
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
    seen_.clear();
    return std::move(corpus_);
  }

 private:
  MiningCorpus corpus_;
  std::unordered_set<std::string> seen_;
};

bool above_margin(float score, float positive_score, const MiningOptions& options) {
  if (options.absolute_margin && score > positive_score - *options.absolute_margin) return true;
  if (options.relative_margin && score > (1.0f - *options.relative_margin) * positive_score)
    return true;
  return false;
}

}  // namespace

NegativeSampling negative_sampling_from_string(const std::string& name) {
  if (name == "top") return NegativeSampling::kTop;
  if (name == "random") return NegativeSampling::kRandom;
  throw UsageError(fmt::format("--sampling must be top or random, not '{}'", name));
}

void check_mining_options(const MiningOptions& o) {
  if (o.num_negatives < 1) throw UsageError("--num-negatives must be at least 1");
  if (o.range_min >= o.range_max)
    throw UsageError(
        fmt::format("--range-min ({}) must be less than --range-max ({}): the ranks kept are "
                    "range-min <= rank < range-max",
                    o.range_min, o.range_max));
  if (o.absolute_margin && !(*o.absolute_margin >= 0.0f && *o.absolute_margin <= 2.0f))
    throw UsageError(fmt::format("--margin must be between 0 and 2 (a cosine difference), not {}",
                                 *o.absolute_margin));
  if (o.relative_margin && !(*o.relative_margin >= 0.0f && *o.relative_margin < 1.0f))
    throw UsageError(fmt::format("--relative-margin must be at least 0 and below 1, not {}",
                                 *o.relative_margin));
  if (o.window < 1) throw UsageError("the mining window must hold at least one pair");
}

MiningCorpus make_mining_corpus(std::vector<std::string> lines, const std::vector<Record>& pairs) {
  CorpusBuilder builder;
  for (const auto& line : lines) builder.add_line(line);
  for (const auto& pair : pairs) builder.add_pair(pair.a, pair.b);
  return builder.finish();
}

MiningCorpus read_mining_corpus(const std::string& pairs_path, const std::string& corpus_path,
                                ReaderOptions reader_options) {
  CorpusBuilder builder;
  CorpusReader pairs(pairs_path, CorpusFormat::kPairs, reader_options);
  Record record;
  while (pairs.next(record)) {
    builder.add_pair(record.a, record.b);
    if (corpus_path.empty()) builder.add_line(record.b);
  }
  if (!corpus_path.empty()) {
    CorpusReader lines(corpus_path, CorpusFormat::kText);
    while (lines.next(record)) builder.add_line(record.a);
  }
  return builder.finish();
}

std::vector<SearchHit> choose_negatives(const float* scores, std::size_t n, float positive_score,
                                        const std::function<bool(std::size_t row)>& excluded,
                                        const MiningOptions& options, std::uint64_t pair_index) {
  // The admissible candidates of ranks < range_max: rank the top k rows, and
  // look further (k doubled) while filtering left too few and rows remain.
  std::vector<SearchHit> admissible;
  for (std::size_t k = std::min(n, options.range_max + 32);; k = std::min(n, 2 * k)) {
    admissible.clear();
    for (const SearchHit& hit : top_k(scores, n, k)) {
      if (excluded(hit.index) || above_margin(hit.score, positive_score, options)) continue;
      admissible.push_back(hit);
      if (admissible.size() == options.range_max) break;
    }
    if (admissible.size() == options.range_max || k == n) break;
  }
  if (admissible.size() <= options.range_min) return {};
  std::vector<SearchHit> window(admissible.begin() + static_cast<std::ptrdiff_t>(options.range_min),
                                admissible.end());
  if (window.size() <= options.num_negatives) return window;
  if (options.sampling == NegativeSampling::kTop) {
    window.resize(options.num_negatives);
    return window;
  }
  // A seeded partial Fisher-Yates shuffle, then back to rank order.
  SplitMix64 rng{options.seed ^ (pair_index * 0xd1b54a32d192ed03ull)};
  std::vector<std::size_t> order(window.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = 0; i < options.num_negatives; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(rng.next() % (order.size() - i));
    std::swap(order[i], order[j]);
  }
  order.resize(options.num_negatives);
  std::sort(order.begin(), order.end());
  std::vector<SearchHit> chosen;
  for (std::size_t i : order) chosen.push_back(window[i]);
  return chosen;
}

void mine_window(const std::vector<Record>& pairs, const float* anchor_vectors,
                 const float* positive_vectors, std::size_t first_pair_index,
                 const MiningCorpus& corpus, const VectorMatrix& vectors,
                 const MiningOptions& options, const TripletSink& sink, MiningCounts& counts) {
  const std::size_t n = vectors.rows;
  const int dim = vectors.dim;
  // Anchors scored per block, so the score matrix stays near 64 MB however
  // large the corpus.
  const std::size_t block =
      std::clamp<std::size_t>((std::size_t{16} << 20) / std::max<std::size_t>(n, 1), 1, 256);
  std::vector<float> scores;
  for (std::size_t start = 0; start < pairs.size(); start += block) {
    const std::size_t count = std::min(block, pairs.size() - start);
    scores.assign(count * n, 0.0f);
    if (n > 0)
      dot_scores(anchor_vectors + start * dim, count, vectors.data.data(), n, dim, scores.data());
    for (std::size_t i = 0; i < count; ++i) {
      const Record& pair = pairs[start + i];
      const float* a = anchor_vectors + (start + i) * dim;
      const float* p = positive_vectors + (start + i) * dim;
      float positive_score = 0;
      for (int d = 0; d < dim; ++d) positive_score += a[d] * p[d];
      const std::uint64_t anchor_hash = text_hash(pair.a);
      auto excluded = [&](std::size_t row) {
        const std::string& text = corpus.lines[row];
        if (text == pair.a || text == pair.b) return true;
        return std::binary_search(corpus.known_pairs.begin(), corpus.known_pairs.end(),
                                  std::make_pair(anchor_hash, text_hash(text)));
      };
      const auto negatives = choose_negatives(scores.data() + i * n, n, positive_score, excluded,
                                              options, first_pair_index + start + i);
      ++counts.pairs;
      if (negatives.empty())
        ++counts.without_negative;
      else if (negatives.size() < options.num_negatives)
        ++counts.short_of_negatives;
      for (const SearchHit& hit : negatives) {
        sink(pair.a, pair.b, corpus.lines[hit.index], hit.score);
        ++counts.triplets;
      }
    }
  }
}

MiningCounts mine_hard_negatives(Encoder& encoder, const std::string& pairs_path,
                                 const MiningCorpus& corpus, const VectorMatrix& vectors,
                                 const MiningOptions& options, const TripletSink& sink,
                                 const ProgressCallback& on_progress,
                                 ReaderOptions reader_options) {
  check_mining_options(options);
  if (vectors.rows != corpus.lines.size())
    throw UsageError(fmt::format("mining corpus has {} lines but {} vectors", corpus.lines.size(),
                                 vectors.rows));
  if (vectors.rows > 0 && vectors.dim != encoder.dim())
    throw UsageError(fmt::format("corpus vectors have width {} but the model makes width {}",
                                 vectors.dim, encoder.dim()));
  MiningCounts counts;
  CorpusReader reader(pairs_path, CorpusFormat::kPairs, reader_options);
  std::vector<Record> pairs;
  std::vector<std::string> anchors, positives;
  std::size_t first = 0;
  while (read_window(reader, options.window, pairs) > 0) {
    anchors.clear();
    positives.clear();
    for (const Record& r : pairs) {
      anchors.push_back(r.a);
      positives.push_back(r.b);
    }
    std::vector<float> a = encoder.encode(anchors);
    std::vector<float> p = encoder.encode(positives);
    // Unit rows make the dot products cosines, whether or not the model normalises.
    l2_normalize_rows(a.data(), anchors.size(), encoder.dim());
    l2_normalize_rows(p.data(), positives.size(), encoder.dim());
    mine_window(pairs, a.data(), p.data(), first, corpus, vectors, options, sink, counts);
    first += pairs.size();
    if (on_progress) on_progress(pairs.size());
    if (pairs.size() < options.window) break;
  }
  return counts;
}

}  // namespace sentemb
