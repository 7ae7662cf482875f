#include "serve/batch_queue.h"

#include <algorithm>
#include <numeric>

#include "sentemb/errors.h"

namespace sentemb::serve {

BatchQueue::BatchQueue(std::vector<Encoder> encoders, BatchOptions options, Metrics* metrics)
    : encoders_(std::move(encoders)),
      options_(options),
      metrics_(metrics),
      config_(encoders_.at(0).config()),
      tokenizer_(Tokenizer::from_bytes(encoders_[0].tokenizer().serialized())),
      dim_(encoders_[0].dim()) {
  for (auto& encoder : encoders_) workers_.emplace_back([this, &encoder] { work(encoder); });
}

BatchQueue::~BatchQueue() {
  stop();
}

void BatchQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& worker : workers_)
    if (worker.joinable()) worker.join();
}

Encoded BatchQueue::encode(const std::vector<std::string>& sentences) {
  auto job = std::make_unique<Job>();
  for (const auto& sentence : sentences) {
    job->ids.push_back(tokenizer_.encode(sentence, config_.max_len));
    job->tokens += job->ids.back().size();
  }
  Encoded encoded;
  encoded.tokens = job->tokens;
  auto result = job->result.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw Error("the server is shutting down");
    queued_tokens_ += job->tokens;
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  encoded.vectors = result.get();
  return encoded;
}

std::vector<std::unique_ptr<BatchQueue::Job>> BatchQueue::take_batch(
    std::unique_lock<std::mutex>& lock) {
  ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  if (options_.max_wait.count() > 0 && !stopping_) {
    const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
    ready_.wait_until(lock, deadline,
                      [&] { return stopping_ || queued_tokens_ >= options_.batch_tokens; });
  }
  std::vector<std::unique_ptr<Job>> batch;
  std::size_t tokens = 0;
  while (!queue_.empty() &&
         (batch.empty() || tokens + queue_.front()->tokens <= options_.batch_tokens)) {
    tokens += queue_.front()->tokens;
    queued_tokens_ -= queue_.front()->tokens;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (!queue_.empty()) ready_.notify_one();  // another worker may take the rest
  return batch;
}

void BatchQueue::work(Encoder& encoder) {
  for (;;) {
    std::vector<std::unique_ptr<Job>> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      batch = take_batch(lock);
      if (batch.empty()) return;  // stopping, nothing left
    }
    // Every sentence of the batch, job after job; the encoder cuts them into forward
    // passes of similar length (batch_plan.h) and answers in this order.
    std::vector<std::vector<int>> ids;
    std::size_t tokens = 0;
    for (auto& job : batch)
      for (auto& sentence : job->ids) {
        tokens += sentence.size();
        ids.push_back(std::move(sentence));
      }
    const std::size_t C = dim_;
    try {
      std::vector<float> out(ids.size() * C);
      encoder.encode_ids(ids, out.data());
      if (metrics_) metrics_->record_batch(ids.size(), tokens);
      const float* next = out.data();
      for (auto& job : batch) {
        const std::size_t n = job->ids.size() * C;
        job->result.set_value(std::vector<float>(next, next + n));
        next += n;
      }
    } catch (...) {
      for (auto& job : batch) job->result.set_exception(std::current_exception());
    }
  }
}

}  // namespace sentemb::serve
