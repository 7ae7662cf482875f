// Counters and histograms of the server, rendered as Prometheus text (GET /metrics):
// requests and errors per endpoint, sentences and tokens encoded, request latency,
// and the sentences per encoder batch. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sentemb::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Prometheus lines for `name` (_bucket with le labels, _sum, _count).
  std::string render(const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::size_t> counts_;  // per bound, not cumulative; last: above every bound
  double sum_ = 0;
  std::size_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // One answered request: its route, HTTP status and seconds from receipt to answer.
  void record_request(const std::string& endpoint, int status, double seconds);
  // One encoder batch: how many sentences and tokens it held.
  void record_batch(std::size_t sentences, std::size_t tokens);
  std::string prometheus() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> requests_;                // endpoint
  std::map<std::pair<std::string, int>, std::size_t> errors_;  // endpoint, status
  std::size_t sentences_ = 0, tokens_ = 0;
  Histogram latency_, batch_sizes_;
};

}  // namespace sentemb::serve
