// Dynamic batching: HTTP threads submit the sentences of a request and wait; worker
// threads, each owning one Encoder, take queued requests together (up to a token
// budget, after waiting at most max_wait for more) and encode them as one
// length-sorted batch. Many small concurrent requests so cost about what one
// offline `encode` of all their sentences costs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sentemb/encoder.h"
#include "serve/metrics.h"

namespace sentemb::serve {

struct BatchOptions {
  std::size_t batch_tokens = 8192;        // tokens per worker batch (a larger request runs alone)
  std::chrono::microseconds max_wait{0};  // how long a worker waits for a batch to fill
};

struct Encoded {
  std::vector<float> vectors;  // (sentences, dim) row-major
  std::size_t tokens = 0;      // ids encoded, BOS included, after truncation
};

class BatchQueue {
 public:
  // One worker thread per encoder; all encoders must load the same model.
  BatchQueue(std::vector<Encoder> encoders, BatchOptions options, Metrics* metrics);
  ~BatchQueue();  // stop()
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  int dim() const { return dim_; }
  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

  // Tokenizes on the calling thread, queues and blocks until a worker encoded the
  // sentences. Thread-safe. Throws what the encoder threw, or Error after stop().
  Encoded encode(const std::vector<std::string>& sentences);
  // Encodes what is queued, then joins the workers. Idempotent.
  void stop();

 private:
  struct Job {
    std::vector<std::vector<int>> ids;
    std::size_t tokens = 0;
    std::promise<std::vector<float>> result;
  };
  void work(Encoder& encoder);
  std::vector<std::unique_ptr<Job>> take_batch(std::unique_lock<std::mutex>& lock);

  std::vector<Encoder> encoders_;
  BatchOptions options_;
  Metrics* metrics_;
  ModelConfig config_;
  Tokenizer tokenizer_;  // a copy for the submitting threads
  int dim_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::unique_ptr<Job>> queue_;
  std::size_t queued_tokens_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace sentemb::serve
