// Private to sentemb_index: the faiss side of vector_index.h.
#pragma once

#include <faiss/Index.h>
#include <faiss/impl/FaissException.h>
#include <fmt/format.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sentemb/vector_index.h"

namespace sentemb::index_detail {

// The efSearch and nprobe an index is written with (faiss's own defaults, 16 and 1,
// give poor recall): what a search uses unless told otherwise, in sentemb and in
// faiss's Python bindings alike.
inline constexpr int kDefaultEfSearch = 64;
inline constexpr int kDefaultNprobe = 16;

// Runs a faiss call, turning a faiss::FaissException into sentemb's Error type E
// with `what` (e.g. "cannot train index x") before faiss's message.
template <class E, class F>
auto faiss_call(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const faiss::FaissException& e) {
    throw E(fmt::format("{}: {}", what, e.msg));
  }
}

// Fills a new faiss index from unit vectors handed over in windows: vectors
// wait until train_size of them are there (IVF, SQ, PQ train first), then every
// window is added as it comes.
class IndexFiller {
 public:
  // rows: how many vectors will come (sets the default IVF list count and caps
  // the training sample). UsageError for a bad spec.
  IndexFiller(const IndexSpec& spec, int dim, std::size_t rows);
  void add(const float* unit_rows, std::size_t n);
  // Trains on what came if the index still waits for a sample (fewer rows than
  // announced), and returns the index. UsageError when faiss cannot train it.
  std::unique_ptr<faiss::Index> finish();

  const std::string& description() const { return description_; }
  std::size_t train_size() const { return train_size_; }
  double train_seconds() const { return train_seconds_; }
  double add_seconds() const { return add_seconds_; }

 private:
  void train_and_flush();
  void add_now(const float* rows, std::size_t n);

  IndexSpec spec_;
  int dim_;
  std::string description_;
  std::unique_ptr<faiss::Index> index_;
  std::size_t train_size_ = 0;
  std::vector<float> pending_;  // rows held for training
  double train_seconds_ = 0, add_seconds_ = 0;
};

}  // namespace sentemb::index_detail
