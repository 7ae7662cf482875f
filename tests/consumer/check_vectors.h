// What both consumer programs check of the vectors they get: two rows, each of unit
// length (the fixture models normalise), and different from each other.
#pragma once

#include <cmath>
#include <cstdio>
#include <vector>

namespace consumer {

inline double dot(const float* a, const float* b, int dim) {
  double sum = 0;
  for (int i = 0; i < dim; ++i) sum += double(a[i]) * b[i];
  return sum;
}

// Prints the norms and the cosine; false (with the reason on stderr) if a check fails.
inline bool two_distinct_unit_vectors(const std::vector<float>& vectors, int dim) {
  if (dim <= 0 || vectors.size() != 2 * std::size_t(dim)) {
    std::fprintf(stderr, "expected 2 vectors of width %d, got %zu values\n", dim, vectors.size());
    return false;
  }
  const float* a = vectors.data();
  const float* b = a + dim;
  const double norm_a = std::sqrt(dot(a, a, dim)), norm_b = std::sqrt(dot(b, b, dim));
  const double cosine = dot(a, b, dim) / (norm_a * norm_b);
  std::printf("dim %d, norms %.6f %.6f, cosine %.6f\n", dim, norm_a, norm_b, cosine);
  if (std::abs(norm_a - 1) > 1e-4 || std::abs(norm_b - 1) > 1e-4) {
    std::fprintf(stderr, "vectors are not of unit length\n");
    return false;
  }
  if (!(cosine < 0.9999)) {
    std::fprintf(stderr, "the two sentences got the same vector\n");
    return false;
  }
  return true;
}

}  // namespace consumer
