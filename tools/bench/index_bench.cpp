// The vector-index benchmark (issue 21, docs/benchmarks.md): HNSW against brute
// force on N unit vectors. Per-query latency (one query at a time, one thread,
// median), recall@10 against exact search, build time, index size and memory.
//
//   sentemb_index_bench --vectors base.npy --n 1000000 [--sigma 0.05] [--queries 1000]
//       [--hnsw-m 32] [--ef-construction 100] [--ef-search 16,32,64,128] [--threads 2]
//       [--brute-queries 100] [--index-out hnsw.index] [--seed 1]
//       [--index-in hnsw.index]   search an index written by --index-out (same vectors:
//                                 same --vectors, --n, --sigma, --seed) instead of building
//   sentemb_index_bench --random 256 --n 1000000 ...      random unit vectors instead
//
// --vectors: real sentence embeddings (`sentemb encode`); rows beyond them are
// copies with Gaussian noise of standard deviation sigma a dimension, renormalised
// (so near-duplicates of real sentences). Queries are other noisy copies of random
// base rows. Prints one JSON object a line.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "omp_thread_scope.h"
#include "sentemb/search.h"
#include "sentemb/similarity.h"
#include "sentemb/vector_index.h"
#include "sentemb/vector_io.h"

namespace sb = sentemb::bench;
using sentemb::VectorMatrix;

namespace {

// VmRSS or VmHWM of this process in MB (Linux /proc/self/status).
double proc_status_mb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  return 0;
}

void add_noise(float* row, int dim, double sigma, std::mt19937_64& rng) {
  std::normal_distribution<float> noise(0, static_cast<float>(sigma));
  for (int j = 0; j < dim; ++j) row[j] += noise(rng);
  sentemb::l2_normalize_rows(row, 1, dim);
}

// n rows: the base rows first, then noisy copies of them in turn.
VectorMatrix corpus_vectors(const VectorMatrix& base, std::size_t n, double sigma,
                            std::mt19937_64& rng) {
  VectorMatrix m;
  m.rows = n;
  m.dim = base.dim;
  m.data.resize(n * base.dim);
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(base.row(i % base.rows), base.row(i % base.rows) + base.dim, m.row(i));
    if (i >= base.rows) add_noise(m.row(i), m.dim, sigma, rng);
  }
  return m;
}

VectorMatrix random_unit_vectors(std::size_t n, int dim, std::mt19937_64& rng) {
  VectorMatrix m;
  m.rows = n;
  m.dim = dim;
  m.data.resize(n * dim);
  std::normal_distribution<float> normal;
  for (auto& x : m.data) x = normal(rng);
  sentemb::l2_normalize_rows(m.data.data(), n, dim);
  return m;
}

// Exact top-k ids of each query, queries scored 64 at a time as a matrix product.
std::vector<std::vector<std::size_t>> exact_top_k(const VectorMatrix& corpus,
                                                  const VectorMatrix& queries, std::size_t k) {
  std::vector<std::vector<std::size_t>> truth(queries.rows);
  const std::size_t block = 64;
  std::vector<float> scores(block * corpus.rows);
  for (std::size_t q0 = 0; q0 < queries.rows; q0 += block) {
    const std::size_t nq = std::min(block, queries.rows - q0);
    sentemb::dot_scores(queries.row(q0), nq, corpus.data.data(), corpus.rows, corpus.dim,
                        scores.data());
    for (std::size_t i = 0; i < nq; ++i)
      for (const auto& hit : sentemb::top_k(scores.data() + i * corpus.rows, corpus.rows, k))
        truth[q0 + i].push_back(hit.index);
  }
  return truth;
}

double recall_at(const std::vector<sentemb::SearchHit>& hits,
                 const std::vector<std::size_t>& truth) {
  std::size_t found = 0;
  for (const auto& h : hits) found += std::count(truth.begin(), truth.end(), h.index);
  return static_cast<double>(found) / truth.size();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<int> int_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

// Builds the HNSW index, prints its build time, size and memory, and writes it
// (with its metadata, for --index-in) to --index-out if given.
sentemb::VectorIndex build_hnsw(const sb::Flags& flags, const VectorMatrix& corpus, int threads) {
  sentemb::IndexSpec spec;
  spec.kind = sentemb::IndexKind::kHnsw;
  spec.hnsw_m = flags.integer("hnsw-m", 32);
  spec.ef_construction = flags.integer("ef-construction", 100);
  spec.threads = threads;
  const double rss_before = proc_status_mb("VmRSS");
  const double t0 = sb::now_seconds();
  sentemb::VectorIndex index =
      sentemb::VectorIndex::build(corpus.data.data(), corpus.rows, corpus.dim, spec);
  const double build_s = sb::now_seconds() - t0;
  const std::string out = flags.str("index-out", "");
  double file_mb = 0;
  if (!out.empty()) {
    index.write(out);
    std::ofstream(sentemb::index_meta_path(out)) << index.meta().to_json();
    std::ifstream f(out, std::ios::binary | std::ios::ate);
    file_mb = static_cast<double>(f.tellg()) / 1e6;
  }
  fmt::print(
      "{{\"method\": \"hnsw\", \"M\": {}, \"ef_construction\": {}, \"threads\": {}, "
      "\"build_s\": {:.1f}, \"index_file_mb\": {:.0f}, \"rss_added_mb\": {:.0f}, "
      "\"peak_rss_mb\": {:.0f}}}\n",
      spec.hnsw_m, spec.ef_construction, threads, build_s, file_mb,
      proc_status_mb("VmRSS") - rss_before, proc_status_mb("VmHWM"));
  std::fflush(stdout);
  return index;
}

int run(const sb::Flags& flags) {
  std::mt19937_64 rng(flags.integer("seed", 1));
  const auto n = static_cast<std::size_t>(flags.real("n", 1e6));
  const double sigma = flags.real("sigma", 0.05);
  const auto nq = static_cast<std::size_t>(flags.integer("queries", 1000));
  const int threads = flags.integer("threads", 2);
  const std::size_t k = 10;

  VectorMatrix corpus, queries;
  std::string source;
  if (const int dim = flags.integer("random", 0); dim > 0) {
    corpus = random_unit_vectors(n, dim, rng);
    queries = random_unit_vectors(nq, dim, rng);
    source = "random unit vectors";
  } else {
    VectorMatrix base = sentemb::read_vectors(flags.required("vectors"));
    sentemb::l2_normalize_rows(base.data.data(), base.rows, base.dim);
    corpus = corpus_vectors(base, n, sigma, rng);
    queries.rows = nq;
    queries.dim = base.dim;
    std::uniform_int_distribution<std::size_t> pick(0, base.rows - 1);
    for (std::size_t i = 0; i < nq; ++i) {
      const std::size_t r = pick(rng);
      queries.data.insert(queries.data.end(), base.row(r), base.row(r) + base.dim);
      add_noise(queries.row(i), base.dim, sigma, rng);
    }
    source = fmt::format("{} real sentence vectors + noisy copies (sigma {})", base.rows, sigma);
  }
  fmt::print(
      "{{\"n\": {}, \"dim\": {}, \"queries\": {}, \"source\": \"{}\", \"rss_mb\": {:.0f}}}\n",
      corpus.rows, corpus.dim, nq, source, proc_status_mb("VmRSS"));
  std::fflush(stdout);

  double t0 = sb::now_seconds();
  const auto truth = exact_top_k(corpus, queries, k);
  fmt::print("{{\"ground_truth_s\": {:.1f}}}\n", sb::now_seconds() - t0);
  std::fflush(stdout);

  // Brute force, one query at a time on one thread (sentemb search without an index).
  {
    sentemb::OmpThreadScope one(1);
    std::vector<double> times;
    const std::size_t brute = std::min<std::size_t>(nq, flags.integer("brute-queries", 100));
    for (std::size_t i = 0; i < brute; ++i) {
      const double s = sb::now_seconds();
      const auto hits = sentemb::search(corpus, queries.row(i), k);
      times.push_back(sb::now_seconds() - s);
    }
    fmt::print(
        "{{\"method\": \"brute force (sentemb search)\", \"queries\": {}, "
        "\"median_ms\": {:.2f}}}\n",
        brute, median(times) * 1e3);
    std::fflush(stdout);
  }

  const std::string in = flags.str("index-in", "");
  const sentemb::VectorIndex index =
      in.empty() ? build_hnsw(flags, corpus, threads) : sentemb::VectorIndex::open(in);
  if (!in.empty() && (index.size() != corpus.rows || index.meta().dim != corpus.dim))
    throw std::runtime_error(fmt::format("{} holds {} vectors of width {}, not these {} of {}", in,
                                         index.size(), index.meta().dim, corpus.rows, corpus.dim));

  for (int ef : int_list(flags.str("ef-search", "16,32,64,128"))) {
    sentemb::IndexSearchOptions options;
    options.ef_search = ef;
    options.threads = 1;
    std::vector<double> times;
    double recall = 0;
    for (std::size_t i = 0; i < nq; ++i) {
      const double s = sb::now_seconds();
      const auto hits = index.search(queries.row(i), k, options);
      times.push_back(sb::now_seconds() - s);
      recall += recall_at(hits, truth[i]);
    }
    fmt::print(
        "{{\"method\": \"hnsw\", \"ef_search\": {}, \"median_ms\": {:.3f}, "
        "\"p99_ms\": {:.3f}, \"recall_at_10\": {:.4f}}}\n",
        ef, median(times) * 1e3,
        (std::sort(times.begin(), times.end()), times[times.size() * 99 / 100]) * 1e3, recall / nq);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(sb::Flags(argc, argv, 1));
  } catch (const std::exception& e) {
    fmt::print(stderr, "sentemb_index_bench: {}\n", e.what());
    return 1;
  }
}
