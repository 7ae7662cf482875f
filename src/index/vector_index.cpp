// VectorIndex: a faiss index and its metadata, opened, checked and searched.
#include "sentemb/vector_index.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

#include "index/faiss_index.h"
#include "omp_thread_scope.h"
#include "sentemb/errors.h"
#include "sentemb/similarity.h"

namespace sentemb {

using index_detail::faiss_call;

struct VectorIndex::Impl {
  std::unique_ptr<faiss::Index> index;
  IndexMeta meta;
  // faiss 1.7.3 (Debian 12) sizes an HNSW search's candidate heap from
  // SearchParametersHNSW but stops the search by the index's own efSearch, so an
  // efSearch above the index's changed nothing. The per-call value is set on the
  // index itself, one HNSW search at a time.
  std::mutex hnsw_mutex;
  int own_ef_search = -1;  // the index's efSearch as built or read, once seen
};

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;
VectorIndex::~VectorIndex() = default;

const IndexMeta& VectorIndex::meta() const {
  return impl_->meta;
}
std::size_t VectorIndex::size() const {
  return static_cast<std::size_t>(impl_->index->ntotal);
}

namespace {

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot open {} {}", what, path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

VectorIndex VectorIndex::open(const std::string& index_path) {
  const std::string meta_path = index_meta_path(index_path);
  if (!std::ifstream(index_path))
    throw IoError(
        fmt::format("cannot open index {}: build it with `sentemb index build "
                    "--model M --corpus C.txt --out {}`",
                    index_path, index_path));
  auto impl = std::make_unique<Impl>();
  impl->meta = IndexMeta::from_json(
      read_text_file(meta_path, fmt::format("the metadata of index {}:", index_path)), meta_path);
  impl->index.reset(
      faiss_call<ModelFileError>(fmt::format("{}: not a faiss index", index_path),
                                 [&] { return faiss::read_index(index_path.c_str()); }));
  const IndexMeta& m = impl->meta;
  if (impl->index->d != m.dim || static_cast<std::size_t>(impl->index->ntotal) != m.corpus_lines)
    throw ModelFileError(fmt::format(
        "index {} holds {} vectors of width {} but its metadata {} says {} of width {}: the "
        "two files are not from one build",
        index_path, impl->index->ntotal, impl->index->d, meta_path, m.corpus_lines, m.dim));
  return VectorIndex(std::move(impl));
}

VectorIndex VectorIndex::build(const float* rows, std::size_t n, int dim, const IndexSpec& spec) {
  index_detail::IndexFiller filler(spec, dim, n);
  std::vector<float> unit(rows, rows + n * static_cast<std::size_t>(dim));
  l2_normalize_rows(unit.data(), n, dim);
  filler.add(unit.data(), n);
  auto impl = std::make_unique<Impl>();
  impl->index = filler.finish();
  impl->meta.kind = to_string(spec.kind);
  impl->meta.quantize = spec.quantize;
  impl->meta.description = filler.description();
  impl->meta.dim = dim;
  impl->meta.corpus_lines = n;
  return VectorIndex(std::move(impl));
}

void VectorIndex::write(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->hnsw_mutex);
  // The file keeps the index's own efSearch, not the last search's.
  auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(impl_->index.get());
  if (hnsw && impl_->own_ef_search >= 0) hnsw->hnsw.efSearch = impl_->own_ef_search;
  faiss_call<IoError>(fmt::format("cannot write index {}", path),
                      [&] { faiss::write_index(impl_->index.get(), path.c_str()); });
}

std::string VectorIndex::check_matches(const std::string& model_path, int dim,
                                       const std::string& precision,
                                       const std::vector<std::string>& corpus_lines,
                                       const std::string& corpus_path) const {
  const IndexMeta& m = impl_->meta;
  const std::string rebuild =
      fmt::format("rebuild it with `sentemb index build --model {} --corpus {} --out INDEX`",
                  model_path, corpus_path);
  if (const std::string sum = model_file_checksum(model_path); sum != m.model_checksum)
    throw UsageError(fmt::format(
        "index was built with model {} (checksum {}), but model {} is another (checksum {}); {}",
        m.model, m.model_checksum, model_path, sum, rebuild));
  if (dim != m.dim)
    throw UsageError(
        fmt::format("index holds vectors of width {} but model {} makes width {} "
                    "(--dim); {}",
                    m.dim, model_path, dim, rebuild));
  if (corpus_lines.size() != m.corpus_lines)
    throw UsageError(
        fmt::format("index has {} vectors but corpus {} has {} lines (built from "
                    "{}); {}",
                    m.corpus_lines, corpus_path, corpus_lines.size(), m.corpus, rebuild));
  if (corpus_checksum(corpus_lines) != m.corpus_checksum)
    throw UsageError(
        fmt::format("corpus {} has the index's {} lines but not the same text as "
                    "when the index was built from {}; {}",
                    corpus_path, m.corpus_lines, m.corpus, rebuild));
  if (precision != m.precision)
    return fmt::format(
        "the index was encoded in {} and queries are in {}: scores differ by "
        "rounding",
        m.precision, precision);
  return "";
}

std::vector<SearchHit> VectorIndex::search(const float* query, std::size_t k,
                                           const IndexSearchOptions& options) const {
  const faiss::Index& index = *impl_->index;
  k = std::min<std::size_t>(k, static_cast<std::size_t>(index.ntotal));
  if (k == 0) return {};
  std::vector<float> q(query, query + index.d);
  l2_normalize_rows(q.data(), 1, index.d);

  // Per-call settings: IVF's through faiss's SearchParameters (the index unchanged, so
  // searches may run side by side); HNSW's on the index too, under a lock (see Impl).
  faiss::SearchParametersHNSW hnsw_params;
  faiss::SearchParametersIVF ivf_params;
  const faiss::SearchParameters* params = nullptr;
  std::unique_lock<std::mutex> hnsw_lock(impl_->hnsw_mutex, std::defer_lock);
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(impl_->index.get())) {
    hnsw_lock.lock();
    if (impl_->own_ef_search < 0) impl_->own_ef_search = hnsw->hnsw.efSearch;
    const int ef = options.ef_search > 0 ? options.ef_search : impl_->own_ef_search;
    hnsw_params.efSearch = std::max(ef, static_cast<int>(k));  // fewer than k finds fewer
    hnsw->hnsw.efSearch = hnsw_params.efSearch;
    params = &hnsw_params;
  } else if (const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    ivf_params.nprobe = options.nprobe > 0 ? static_cast<std::size_t>(options.nprobe) : ivf->nprobe;
    ivf_params.nprobe = std::min(ivf_params.nprobe, ivf->nlist);
    params = &ivf_params;
  }
  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> rows(k);
  {
    OmpThreadScope threads(resolve_thread_count(options.threads));
    faiss_call<Error>("index search failed", [&] {
      index.search(1, q.data(), static_cast<faiss::Index::idx_t>(k), scores.data(), rows.data(),
                   params);
    });
  }
  std::vector<SearchHit> hits;
  for (std::size_t i = 0; i < k; ++i) {
    if (rows[i] < 0) continue;  // an approximate index found fewer than k
    hits.push_back({static_cast<std::size_t>(rows[i]), scores[i]});  // inner products: cosines
  }
  // The order brute-force search (top_k) gives: best first, ties in row order.
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  return hits;
}

std::vector<SearchHit> VectorIndex::search(Encoder& encoder, const std::string& query,
                                           std::size_t k, const IndexSearchOptions& options) const {
  const std::vector<float> q = encoder.encode(std::vector<std::string>{query});
  if (encoder.dim() != impl_->index->d)
    throw UsageError(fmt::format("the encoder makes width {} but the index holds width {}",
                                 encoder.dim(), impl_->index->d));
  return search(q.data(), k, options);
}

}  // namespace sentemb
