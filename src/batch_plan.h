#pragma once
// How sentences sorted by length are cut into forward passes.
//
// A forward pass pads every sentence to its longest, so it costs about
//   overhead + n · T_max   token rows
// (measured on the reference model, 2 threads: 0.8 ms for one 9-token sentence,
// 14.5 ms for 64 of them, about 22 µs a row plus 30-odd rows' worth per pass).
// Cutting a sorted list where lengths jump saves padding; cutting too often pays
// the overhead again. plan_batches finds the cheapest cuts by dynamic programming.
#include <cstddef>
#include <vector>

namespace sentemb {

// The rows' worth of fixed cost per forward pass (weights streamed, kernels entered).
inline constexpr std::size_t kForwardOverheadRows = 32;

// lengths: ascending. Returns the end of each batch (the last is lengths.size()); no
// batch holds more than max_batch sentences. O(n · max_batch).
std::vector<std::size_t> plan_batches(const std::vector<std::size_t>& lengths,
                                      std::size_t max_batch,
                                      std::size_t overhead_rows = kForwardOverheadRows);

}  // namespace sentemb
