#include "sentemb/quantized_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "sentemb/errors.h"
#include "sentemb/retrieval.h"
#include "sentemb/similarity.h"

// Hamming distances are popcounts: with the POPCNT instruction where the CPU has
// it (picked at load time), a bit-twiddling loop otherwise. Not under
// ThreadSanitizer: the ifunc resolver runs before its runtime is up.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(__SANITIZE_THREAD__)
#define SENTEMB_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define SENTEMB_POPCNT_CLONES
#endif

namespace sentemb {

SENTEMB_POPCNT_CLONES
void hamming_distances(const std::uint8_t* query, const std::uint8_t* codes, std::size_t rows,
                       int width, std::uint32_t* distances) {
  const int words = width / 8;
  std::vector<std::uint64_t> q(words);
  if (words > 0) std::memcpy(q.data(), query, words * 8);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* code = codes + r * width;
    std::uint32_t h = 0;
    for (int w = 0; w < words; ++w) {
      std::uint64_t c;
      std::memcpy(&c, code + 8 * w, 8);  // rows need not be 8-byte aligned
      h += static_cast<std::uint32_t>(__builtin_popcountll(q[w] ^ c));
    }
    for (int b = 8 * words; b < width; ++b)
      h +=
          static_cast<std::uint32_t>(__builtin_popcount(static_cast<unsigned>(query[b] ^ code[b])));
    distances[r] = h;
  }
}

float dot_with_bits(const float* query, const std::uint8_t* code, Quantization kind, int dim) {
  const unsigned flip = kind == Quantization::kBinary ? 0x80 : 0x00;  // binary = ubinary - 128
  float sum = 0;
  for (int b = 0; b < dim / 8; ++b) {
    const unsigned byte = code[b] ^ flip;
    for (int i = 0; i < 8; ++i)  // np.unpackbits: high bit first
      sum += (byte >> (7 - i) & 1u) ? query[8 * b + i] : 0.0f;
  }
  return sum;
}

std::vector<SearchHit> hamming_top_k(const std::uint32_t* distances, std::size_t n, std::size_t k,
                                     int dim) {
  k = std::min(k, n);
  // A histogram of the distances (0..dim) gives the k-th smallest, t; then one
  // pass takes every row under t and the first rows at t, in row order.
  std::vector<std::size_t> count(dim + 2, 0);
  for (std::size_t r = 0; r < n; ++r) ++count[std::min<std::uint32_t>(distances[r], dim + 1)];
  std::uint32_t t = 0;
  std::size_t below = 0;  // rows with distance < t
  while (t <= static_cast<std::uint32_t>(dim) && below + count[t] < k) below += count[t++];
  std::size_t at_t = k - below;  // rows at distance t to take
  std::vector<SearchHit> hits;
  hits.reserve(k);
  for (std::size_t r = 0; r < n && hits.size() < k; ++r) {
    if (distances[r] < t || (distances[r] == t && at_t > 0)) {
      if (distances[r] == t) --at_t;
      hits.push_back({r, 1.0f - 2.0f * static_cast<float>(distances[r]) / static_cast<float>(dim)});
    }
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  return hits;
}

// ---------------------------------------------------------------------------
// QuantizedIndex

QuantizedIndex::QuantizedIndex(Quantization kind, int dim, CodeMatrix codes,
                               QuantizationRanges ranges)
    : kind_(kind),
      dim_(dim),
      codes_(std::move(codes)),
      ranges_(std::move(ranges)),
      query_quantizer_(kind, dim, is_binary(kind) ? QuantizationRanges{} : ranges_) {
  if (codes_.rows > 0 && codes_.width != query_quantizer_.width())
    throw UsageError(fmt::format("{} codes of vectors of width {} have {} bytes, not {}",
                                 to_string(kind_), dim_, query_quantizer_.width(), codes_.width));
  if (codes_.rows > 0 && codes_.type != query_quantizer_.element_type())
    throw UsageError(fmt::format("{} codes are {}, not {}", to_string(kind_),
                                 to_string(query_quantizer_.element_type()),
                                 to_string(codes_.type)));
  codes_.width = query_quantizer_.width();
  if (is_binary(kind_)) return;
  for (int c = 0; c < 256; ++c) center_[c] = bucket_center(kind_, static_cast<std::uint8_t>(c));
  step_.resize(dim_);
  for (int j = 0; j < dim_; ++j) step_[j] = (ranges_.max[j] - ranges_.min[j]) / 255.0f;
  // |dequantized row|, once, so a query costs one pass over the codes.
  inverse_norm_.resize(codes_.rows);
  std::vector<float> row(dim_);
  for (std::size_t r = 0; r < codes_.rows; ++r) {
    dequantize(kind_, ranges_, codes_.row(r), 1, row.data());
    const float norm = std::sqrt(dot(row.data(), row.data(), dim_));
    inverse_norm_[r] = norm > 0 ? 1.0f / norm : 0.0f;
  }
}

QuantizedIndex::ScaledQuery QuantizedIndex::scale(const float* unit_query) const {
  ScaledQuery q;
  q.weights.resize(dim_);
  for (int j = 0; j < dim_; ++j) {
    q.weights[j] = unit_query[j] * step_[j];
    q.offset += unit_query[j] * ranges_.min[j];
  }
  return q;
}

float QuantizedIndex::scaled_score(const ScaledQuery& q, std::size_t row) const {
  const std::uint8_t* code = codes_.row(row);
  // Eight partial sums: one running sum is a chain of dependent float adds
  // (no reassociation without -ffast-math), four times slower.
  constexpr int kLanes = 8;
  float lane[kLanes] = {};
  int j = 0;
  for (; j + kLanes <= dim_; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += q.weights[j + l] * center_[code[j + l]];
  float sum = q.offset;
  for (; j < dim_; ++j) sum += q.weights[j] * center_[code[j]];
  for (float partial : lane) sum += partial;
  return sum * inverse_norm_[row];
}

void QuantizedIndex::distances(const float* query, std::uint32_t* distances) const {
  if (!is_binary(kind_))
    throw UsageError(fmt::format("{} codes have no Hamming distances", to_string(kind_)));
  const std::vector<std::uint8_t> bits = query_quantizer_.quantize(query, 1);  // signs: no scaling
  hamming_distances(bits.data(), codes_.data.data(), codes_.rows, codes_.width, distances);
}

void QuantizedIndex::scores(const float* query, float* scores) const {
  std::vector<float> q(query, query + dim_);
  l2_normalize_rows(q.data(), 1, dim_);
  if (is_binary(kind_)) {
    std::vector<std::uint32_t> distances(codes_.rows);
    this->distances(q.data(), distances.data());
    for (std::size_t r = 0; r < codes_.rows; ++r)
      scores[r] = 1.0f - 2.0f * static_cast<float>(distances[r]) / static_cast<float>(dim_);
    return;
  }
  const ScaledQuery scaled = scale(q.data());
  for (std::size_t r = 0; r < codes_.rows; ++r) scores[r] = scaled_score(scaled, r);
}

float QuantizedIndex::score(const float* query, std::size_t row) const {
  std::vector<float> q(query, query + dim_);
  l2_normalize_rows(q.data(), 1, dim_);
  if (is_binary(kind_)) {
    const std::vector<std::uint8_t> bits = query_quantizer_.quantize(q.data(), 1);
    std::uint32_t distance = 0;
    hamming_distances(bits.data(), codes_.row(row), 1, codes_.width, &distance);
    return 1.0f - 2.0f * static_cast<float>(distance) / static_cast<float>(dim_);
  }
  return scaled_score(scale(q.data()), row);
}

// ---------------------------------------------------------------------------
// QuantizedSearch

QuantizedSearch::QuantizedSearch(QuantizedIndex index) : index_(std::move(index)) {}

void QuantizedSearch::set_rescoring(std::size_t candidates, Rescorer rescorer) {
  if (candidates == 0) throw UsageError("rescoring needs at least 1 candidate");
  if (!rescorer) {
    if (!is_binary(index_.kind()))
      throw UsageError(fmt::format(
          "rescoring a {} index needs other vectors of the corpus (float32 or int8) to rescore "
          "with; only a binary index rescores with its own bits",
          to_string(index_.kind())));
  }
  candidates_ = candidates;
  rescorer_ = std::move(rescorer);  // empty: the index's own bits (rescore())
}

float QuantizedSearch::rescore(const float* unit_query, std::size_t row) const {
  if (rescorer_) return rescorer_(unit_query, row);
  return dot_with_bits(unit_query, index_.codes().row(row), index_.kind(), index_.dim());
}

std::vector<float> QuantizedSearch::unit(const float* query) const {
  std::vector<float> q(query, query + index_.dim());
  l2_normalize_rows(q.data(), 1, index_.dim());
  return q;
}

std::vector<SearchHit> QuantizedSearch::best_by_index(const float* unit_query,
                                                      std::size_t k) const {
  if (is_binary(index_.kind())) {
    std::vector<std::uint32_t> distances(index_.rows());
    index_.distances(unit_query, distances.data());
    return hamming_top_k(distances.data(), distances.size(), k, index_.dim());
  }
  std::vector<float> scores(index_.rows());
  index_.scores(unit_query, scores.data());
  return top_k(scores.data(), scores.size(), k);
}

std::vector<SearchHit> QuantizedSearch::search(const float* query, std::size_t k) const {
  const std::vector<float> q = unit(query);
  if (candidates_ == 0) return best_by_index(q.data(), k);
  std::vector<SearchHit> hits = best_by_index(q.data(), std::max(k, candidates_));
  for (SearchHit& hit : hits) hit.score = rescore(q.data(), hit.index);
  // Stable: equal rescored scores keep the index's order.
  std::stable_sort(hits.begin(), hits.end(),
                   [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (hits.size() > k) hits.resize(k);
  return hits;
}

std::size_t QuantizedSearch::rank_of(const float* query, std::size_t row) const {
  const std::vector<float> q = unit(query);
  std::vector<float> scores(index_.rows());
  index_.scores(q.data(), scores.data());
  if (candidates_ > 0) {
    const std::vector<SearchHit> hits = top_k(scores.data(), scores.size(), candidates_);
    const bool candidate =
        std::any_of(hits.begin(), hits.end(), [row](const SearchHit& h) { return h.index == row; });
    if (candidate) {
      const float mine = rescore(q.data(), row);
      std::size_t rank = 1;
      for (const SearchHit& h : hits)
        if (h.index != row && rescore(q.data(), h.index) >= mine) ++rank;
      return rank;
    }
    // Not a candidate: every candidate scores at least as high, so its rank by
    // the index's score is already past them.
  }
  return rank_of_correct(scores.data(), scores.size(), row);
}

std::vector<SearchHit> search(Encoder& encoder, const QuantizedSearch& quantized,
                              const std::string& query, std::size_t k) {
  const std::vector<float> q = encoder.encode(std::vector<std::string>{query});  // (1, dim)
  return quantized.search(q.data(), k);
}

// ---------------------------------------------------------------------------
// Rescorers and loading

QuantizedSearch::Rescorer float_rescorer(VectorMatrix vectors) {
  l2_normalize_rows(vectors.data.data(), vectors.rows, vectors.dim);
  auto shared = std::make_shared<const VectorMatrix>(std::move(vectors));
  return
      [shared](const float* q, std::size_t row) { return dot(q, shared->row(row), shared->dim); };
}

QuantizedSearch::Rescorer index_rescorer(QuantizedIndex index) {
  auto shared = std::make_shared<const QuantizedIndex>(std::move(index));
  return [shared](const float* q, std::size_t row) { return shared->score(q, row); };
}

bool is_quantized_vector_file(const std::string& path) {
  const auto format = vector_format_from_path(path);
  if (format == VectorFormat::kBvecs || format == VectorFormat::kI8vecs) return true;
  return format == VectorFormat::kNpy && vector_file_element_type(path) != ElementType::kFloat32;
}

Quantization quantization_of(const CodeMatrix& codes, int dim, const std::string& codes_path,
                             const std::string& model_path) {
  const bool is_int8 = codes.type == ElementType::kInt8;
  if (codes.width == dim) return is_int8 ? Quantization::kInt8 : Quantization::kUint8;
  if (codes.width * 8 == dim) return is_int8 ? Quantization::kBinary : Quantization::kUbinary;
  throw UsageError(fmt::format(
      "index {} has {} codes of {} bytes but model {} makes width {}: its quantized vectors "
      "have {} bytes ({}) or {} (binary, ubinary); it was encoded with another model",
      codes_path, to_string(codes.type), codes.width, model_path, dim, dim,
      is_int8 ? "int8" : "uint8", dim / 8));
}

namespace {

// Codes of the corpus from `path`, checked against its line count and the model.
CodeMatrix read_corpus_codes(const std::string& path, std::size_t corpus_lines,
                             const std::string& corpus_path) {
  CodeMatrix codes = read_codes(path);
  if (codes.rows != corpus_lines)
    throw UsageError(fmt::format(
        "index {} has {} vectors but corpus {} has {} lines; re-encode it with `sentemb "
        "encode --input {} --output {} --quantize ...`",
        path, codes.rows, corpus_path, corpus_lines, corpus_path, path));
  return codes;
}

// The index of codes at `path`, with the ranges their kind needs (`used_ranges`
// is set when it took them).
QuantizedIndex load_index_codes(const std::string& path, const QuantizedSearchFiles& files,
                                std::size_t corpus_lines, int model_dim,
                                const std::string& corpus_path, const std::string& model_path,
                                bool& used_ranges) {
  CodeMatrix codes = read_corpus_codes(path, corpus_lines, corpus_path);
  // An empty .bvecs / .i8vecs has no width to tell the kind by: searching it needs
  // no ranges, so it is taken as binary.
  const Quantization kind =
      codes.rows == 0 && codes.width == 0
          ? (codes.type == ElementType::kInt8 ? Quantization::kBinary : Quantization::kUbinary)
          : quantization_of(codes, model_dim, path, model_path);
  if (is_binary(kind)) return QuantizedIndex(kind, model_dim, std::move(codes));
  if (files.ranges.empty())
    throw UsageError(fmt::format(
        "{} holds {} codes: give the ranges they were quantized with, --ranges FILE (written "
        "by `sentemb encode --save-ranges`)",
        path, to_string(kind)));
  used_ranges = true;
  return QuantizedIndex(kind, model_dim, std::move(codes), read_ranges(files.ranges, model_dim));
}

}  // namespace

QuantizedSearch load_quantized_search(const QuantizedSearchFiles& files, std::size_t corpus_lines,
                                      int model_dim, const std::string& corpus_path,
                                      const std::string& model_path) {
  bool used_ranges = false;
  QuantizedSearch search(load_index_codes(files.index, files, corpus_lines, model_dim, corpus_path,
                                          model_path, used_ranges));
  if (files.rescore == 0 && !files.rescore_index.empty())
    throw UsageError("--rescore-index needs --rescore N (the candidates to rescore)");
  if (files.rescore > 0 && files.rescore_index.empty()) {
    search.set_rescoring(files.rescore);
  } else if (files.rescore > 0 && is_quantized_vector_file(files.rescore_index)) {
    if (used_ranges)
      throw UsageError("--rescore-index: rescore an int8 / uint8 index with float32 vectors");
    QuantizedIndex finer = load_index_codes(files.rescore_index, files, corpus_lines, model_dim,
                                            corpus_path, model_path, used_ranges);
    if (is_binary(finer.kind()))
      throw UsageError(fmt::format(
          "--rescore-index {} holds binary codes: rescore with float32 or int8 / uint8 vectors",
          files.rescore_index));
    search.set_rescoring(files.rescore, index_rescorer(std::move(finer)));
  } else if (files.rescore > 0) {
    VectorMatrix vectors = read_vectors(files.rescore_index);
    check_index(vectors, corpus_lines, model_dim, files.rescore_index, corpus_path, model_path);
    search.set_rescoring(files.rescore, float_rescorer(std::move(vectors)));
  }
  if (!files.ranges.empty() && !used_ranges)
    throw UsageError(fmt::format(
        "--ranges {} is for int8 / uint8 codes, and neither the index nor the rescore index "
        "holds any",
        files.ranges));
  return search;
}

}  // namespace sentemb
