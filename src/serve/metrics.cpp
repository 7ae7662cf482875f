#include "serve/metrics.h"

#include <fmt/format.h>

namespace sentemb::serve {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
  std::string out = fmt::format("# HELP {0} {1}\n# TYPE {0} histogram\n", name, help);
  std::size_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
  return out;
}

Metrics::Metrics()
    : latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}),
      batch_sizes_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}) {}

void Metrics::record_request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[endpoint];
  if (status >= 400) ++errors_[{endpoint, status}];
  latency_.observe(seconds);
}

void Metrics::record_batch(std::size_t sentences, std::size_t tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  sentences_ += sentences;
  tokens_ += tokens;
  batch_sizes_.observe(static_cast<double>(sentences));
}

std::string Metrics::prometheus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out =
      "# HELP sentemb_requests_total HTTP requests answered, by endpoint.\n"
      "# TYPE sentemb_requests_total counter\n";
  for (const auto& [endpoint, n] : requests_)
    out += fmt::format("sentemb_requests_total{{endpoint=\"{}\"}} {}\n", endpoint, n);
  out +=
      "# HELP sentemb_errors_total HTTP requests answered with a 4xx or 5xx status.\n"
      "# TYPE sentemb_errors_total counter\n";
  for (const auto& [key, n] : errors_)
    out += fmt::format("sentemb_errors_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  out += fmt::format(
      "# HELP sentemb_sentences_total Sentences encoded.\n"
      "# TYPE sentemb_sentences_total counter\nsentemb_sentences_total {}\n"
      "# HELP sentemb_tokens_total Tokens encoded (BOS included, after truncation).\n"
      "# TYPE sentemb_tokens_total counter\nsentemb_tokens_total {}\n",
      sentences_, tokens_);
  out += latency_.render("sentemb_request_duration_seconds", "Time from request to response.");
  out += batch_sizes_.render("sentemb_batch_sentences", "Sentences per encoder batch.");
  return out;
}

}  // namespace sentemb::serve
