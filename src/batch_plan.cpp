#include "batch_plan.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace sentemb {

std::vector<std::size_t> plan_batches(const std::vector<std::size_t>& lengths,
                                      std::size_t max_batch, std::size_t overhead_rows) {
  if (max_batch == 0) throw std::invalid_argument("plan_batches: max_batch must be positive");
  const std::size_t n = lengths.size();
  // cost[i]: the cheapest way to encode the first i sentences; start[i]: where the
  // last batch of that way begins. A batch [j, i) pads to lengths[i - 1] (sorted).
  std::vector<std::size_t> cost(n + 1, std::numeric_limits<std::size_t>::max()), start(n + 1, 0);
  cost[0] = 0;
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = i - std::min(i, max_batch); j < i; ++j) {
      const std::size_t c = cost[j] + overhead_rows + (i - j) * lengths[i - 1];
      if (c < cost[i]) cost[i] = c, start[i] = j;
    }
  std::vector<std::size_t> ends;
  for (std::size_t i = n; i > 0; i = start[i]) ends.push_back(i);
  std::reverse(ends.begin(), ends.end());
  return ends;
}

}  // namespace sentemb
