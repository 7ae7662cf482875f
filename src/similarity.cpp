#include "sentemb/similarity.h"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sentemb/errors.h"

namespace sentemb {

float dot(const float* a, const float* b, int dim) {
  float sum = 0;
  for (int i = 0; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

float cosine(const float* a, const float* b, int dim) {
  // Accumulate in double: the vectors need not be normalised and may be long.
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < dim; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (aa == 0 || bb == 0) return 0;
  return static_cast<float>(ab / std::sqrt(aa * bb));
}

void l2_normalize_rows(float* rows, std::size_t n, int dim) {
  for (std::size_t r = 0; r < n; ++r) {
    float* row = rows + r * static_cast<std::size_t>(dim);
    double sq = 0;
    for (int i = 0; i < dim; ++i) sq += static_cast<double>(row[i]) * row[i];
    if (sq == 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(sq));
    for (int i = 0; i < dim; ++i) row[i] *= inv;
  }
}

void dot_scores(const float* queries, std::size_t nq, const float* candidates, std::size_t nc,
                int dim, float* scores) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto q = static_cast<Eigen::Index>(nq), c = static_cast<Eigen::Index>(nc);
  Eigen::Map<const RowMajor> Q(queries, q, dim);     // (nq, dim)
  Eigen::Map<const RowMajor> C(candidates, c, dim);  // (nc, dim)
  Eigen::Map<RowMajor> S(scores, q, c);              // (nq, nc)
  S.noalias() = Q * C.transpose();
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw UsageError(fmt::format("pearson: {} x values but {} y values", x.size(), y.size()));
  const std::size_t n = x.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  // Two passes (means, then centred sums) avoid the cancellation of the
  // one-pass Σxy - n x̄ ȳ formula.
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  // Rounding can push |r| a hair above 1 for perfectly correlated data.
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(n);
  for (std::size_t i = 0; i < n;) {
    // order[i..j) hold equal values; they share the mean of ranks i+1 .. j.
    std::size_t j = i + 1;
    while (j < n && x[order[j]] == x[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t t = i; t < j; ++t) ranks[order[t]] = rank;
    i = j;
  }
  return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw UsageError(fmt::format("spearman: {} x values but {} y values", x.size(), y.size()));
  return pearson(average_ranks(x), average_ranks(y));
}

}  // namespace sentemb
