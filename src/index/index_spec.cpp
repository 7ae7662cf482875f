// Index kinds and how a spec maps onto a faiss index_factory description.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "sentemb/errors.h"
#include "sentemb/vector_index.h"

namespace sentemb {
namespace {

// The bytes per vector of "pqM", or 0 when `quantize` is not of that form.
int pq_bytes(const std::string& quantize) {
  if (quantize.size() < 3 || quantize.compare(0, 2, "pq") != 0) return 0;
  const std::string digits = quantize.substr(2);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.size() > 6)
    return 0;
  return std::stoi(digits);
}

// The storage part of the description: "Flat", "SQ8" or "PQ<M>" (HNSW: "", "_SQ8", "_PQ<M>").
std::string storage_code(const IndexSpec& spec, int dim) {
  if (spec.quantize == "none") return "Flat";
  if (spec.quantize == "sq8") return "SQ8";
  const int m = pq_bytes(spec.quantize);
  if (m <= 0)
    throw UsageError(
        fmt::format("--quantize {}: expected none, sq8 or pqM (M bytes a vector, "
                    "e.g. pq32)",
                    spec.quantize));
  if (dim % m != 0)
    throw UsageError(fmt::format("--quantize {}: {} bytes a vector must divide the width {}",
                                 spec.quantize, m, dim));
  return fmt::format("PQ{}", m);
}

}  // namespace

IndexKind index_kind_from_string(const std::string& name) {
  if (name == "flat") return IndexKind::kFlat;
  if (name == "hnsw") return IndexKind::kHnsw;
  if (name == "ivf") return IndexKind::kIvf;
  throw UsageError(fmt::format("--kind {}: expected flat, hnsw or ivf", name));
}

std::string to_string(IndexKind kind) {
  switch (kind) {
    case IndexKind::kFlat:
      return "flat";
    case IndexKind::kHnsw:
      return "hnsw";
    case IndexKind::kIvf:
      return "ivf";
  }
  return "?";
}

int ivf_list_count(const IndexSpec& spec, std::size_t rows) {
  if (spec.ivf_lists > 0) return spec.ivf_lists;
  // faiss's rule of thumb: about sqrt(N) to 16 sqrt(N) cells; 4 sqrt(N) keeps a
  // list near sqrt(N) / 4 vectors while k-means still sees ~40+ points a cell.
  const double lists = 4 * std::sqrt(static_cast<double>(rows));
  return static_cast<int>(std::clamp(lists, 1.0, std::max(1.0, static_cast<double>(rows))));
}

std::string faiss_description(const IndexSpec& spec, int dim, std::size_t rows) {
  if (dim <= 0) throw UsageError(fmt::format("index width must be positive, got {}", dim));
  const std::string storage = storage_code(spec, dim);
  switch (spec.kind) {
    case IndexKind::kFlat:
      return storage;
    case IndexKind::kHnsw:
      if (spec.hnsw_m < 2 || spec.ef_construction < 1)
        throw UsageError(
            fmt::format("--hnsw-m {} / --ef-construction {}: need M >= 2 and "
                        "efConstruction >= 1",
                        spec.hnsw_m, spec.ef_construction));
      // faiss 1.7 builds HNSW over PQ codes as an L2 index whatever the metric
      // asked, and trains it very slowly: refused rather than half supported.
      if (storage.rfind("PQ", 0) == 0)
        throw UsageError(
            fmt::format("--kind hnsw --quantize {}: faiss has no inner-product HNSW "
                        "over PQ codes; use --quantize sq8, or --kind ivf with pq",
                        spec.quantize));
      return storage == "Flat" ? fmt::format("HNSW{}", spec.hnsw_m)
                               : fmt::format("HNSW{}_{}", spec.hnsw_m, storage);
    case IndexKind::kIvf:
      if (spec.ivf_lists < 0)
        throw UsageError(fmt::format("--ivf-lists {}: must be positive", spec.ivf_lists));
      return fmt::format("IVF{},{}", ivf_list_count(spec, rows), storage);
  }
  return storage;
}

}  // namespace sentemb
