// Filling a faiss index a window at a time: training on a sample first where the
// index needs it (IVF's k-means cells, SQ's ranges, PQ's codebooks).
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_factory.h>

#include <algorithm>
#include <chrono>

#include "index/faiss_index.h"
#include "omp_thread_scope.h"
#include "sentemb/errors.h"

namespace sentemb::index_detail {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The default training sample: k-means wants 39+ points a cell (faiss warns
// below that), 64 a cell is comfortable; 10,000 covers SQ ranges and PQ's 256
// centroids a sub-space; 200,000 bounds the memory and time of training.
std::size_t default_train_size(const IndexSpec& spec, std::size_t rows) {
  std::size_t n = 10000;
  if (spec.kind == IndexKind::kIvf)
    n = std::max(n, 64 * static_cast<std::size_t>(ivf_list_count(spec, rows)));
  return std::min<std::size_t>(n, 200000);
}

}  // namespace

IndexFiller::IndexFiller(const IndexSpec& spec, int dim, std::size_t rows)
    : spec_(spec), dim_(dim), description_(faiss_description(spec, dim, rows)) {
  if (spec.kind == IndexKind::kIvf && spec.ivf_lists > 0 &&
      static_cast<std::size_t>(spec.ivf_lists) > rows)
    throw UsageError(fmt::format("--ivf-lists {}: more lists than the {} vectors to index",
                                 spec.ivf_lists, rows));
  index_.reset(
      faiss_call<UsageError>(fmt::format("cannot make a faiss index {}", description_), [&] {
        return faiss::index_factory(dim, description_.c_str(), faiss::METRIC_INNER_PRODUCT);
      }));
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index_.get())) {
    hnsw->hnsw.efConstruction = spec.ef_construction;
    hnsw->hnsw.efSearch = kDefaultEfSearch;
  }
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get()))
    ivf->nprobe = std::min<std::size_t>(kDefaultNprobe, ivf->nlist);
  if (!index_->is_trained)
    train_size_ =
        std::min(rows, spec.train_size > 0 ? spec.train_size : default_train_size(spec, rows));
}

void IndexFiller::add(const float* unit_rows, std::size_t n) {
  if (index_->is_trained) return add_now(unit_rows, n);
  pending_.insert(pending_.end(), unit_rows, unit_rows + n * dim_);
  if (pending_.size() / dim_ >= train_size_) train_and_flush();
}

void IndexFiller::train_and_flush() {
  const std::size_t held = pending_.size() / dim_;
  const std::size_t n = std::min(held, train_size_);
  if (n == 0)
    throw UsageError(fmt::format("cannot train index {}: no vectors to train on", description_));
  const auto start = std::chrono::steady_clock::now();
  {
    OmpThreadScope threads(resolve_thread_count(spec_.threads));
    faiss_call<UsageError>(
        fmt::format("cannot train index {} on {} vectors", description_, n),
        [&] { index_->train(static_cast<faiss::Index::idx_t>(n), pending_.data()); });
  }
  train_seconds_ += seconds_since(start);
  add_now(pending_.data(), held);
  pending_ = {};
}

void IndexFiller::add_now(const float* rows, std::size_t n) {
  if (n == 0) return;
  const auto start = std::chrono::steady_clock::now();
  OmpThreadScope threads(resolve_thread_count(spec_.threads));
  faiss_call<Error>(fmt::format("cannot add {} vectors to index {}", n, description_),
                    [&] { index_->add(static_cast<faiss::Index::idx_t>(n), rows); });
  add_seconds_ += seconds_since(start);
}

std::unique_ptr<faiss::Index> IndexFiller::finish() {
  if (!index_->is_trained) train_and_flush();
  return std::move(index_);
}

}  // namespace sentemb::index_detail
