// sentemb_serve_load: a load generator for `sentemb serve` (issue 20's benchmark).
//
// CLIENTS threads, each with one keep-alive connection, post PER sentences per
// request to /v1/embeddings until SECONDS pass or MAX requests are sent. Prints one
// line: requests sentences_per_s p50_ms p99_ms. Every response must be 200 with
// PER embeddings; anything else ends the run with an error.
//
// Python's urllib clients (bench_serve.py's fallback) cost a new connection and the
// GIL per request; on a 2-core machine they take CPU from the server they measure.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  std::string sentences;
  int clients = 1;
  int per_request = 1;
  double seconds = 5;
  long max_requests = 4000;
};

Options parse(int argc, char** argv) {
  const sentemb::bench::Flags flags(argc, argv, 1);
  Options o;
  o.port = flags.integer("port", 0);
  o.sentences = flags.required("sentences");
  o.clients = flags.integer("clients", 1);
  o.per_request = flags.integer("per-request", 1);
  o.seconds = flags.real("seconds", 5);
  o.max_requests = flags.integer("max-requests", 4000);
  if (o.port <= 0 || o.clients < 1 || o.per_request < 1)
    throw std::invalid_argument(
        "usage: sentemb_serve_load --port P --sentences FILE [--clients N] [--per-request K] "
        "[--seconds S] [--max-requests M]");
  return o;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  if (lines.empty()) throw std::runtime_error(path + ": no sentences");
  return lines;
}

// One client: posts requests until the deadline or the shared request budget ends.
void client(const Options& o, const std::vector<std::string>& sentences, std::size_t first,
            Clock::time_point deadline, std::atomic<long>& budget, std::vector<double>& latencies) {
  httplib::Client http("127.0.0.1", o.port);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);
  http.set_read_timeout(60, 0);
  std::size_t k = first;
  while (Clock::now() < deadline && budget.fetch_sub(1) > 0) {
    nlohmann::json input = nlohmann::json::array();
    for (int j = 0; j < o.per_request; ++j) input.push_back(sentences[k++ % sentences.size()]);
    const std::string body = nlohmann::json{{"input", input}}.dump();
    const auto start = Clock::now();
    const auto res = http.Post("/v1/embeddings", body, "application/json");
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!res) throw std::runtime_error("request failed: " + httplib::to_string(res.error()));
    if (res->status != 200)
      throw std::runtime_error("HTTP " + std::to_string(res->status) + ": " + res->body);
    if (nlohmann::json::parse(res->body).at("data").size() !=
        static_cast<std::size_t>(o.per_request))
      throw std::runtime_error("response with the wrong number of embeddings");
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const auto sentences = read_lines(o.sentences);
  std::atomic<long> budget{o.max_requests};
  std::vector<std::vector<double>> latencies(o.clients);
  std::vector<std::thread> threads;
  std::mutex error_mutex;
  std::string error;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back([&, i] {
      try {
        client(o, sentences, static_cast<std::size_t>(i) * 7919, deadline, budget, latencies[i]);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        error = e.what();
      }
    });
  for (auto& t : threads) t.join();
  if (!error.empty()) throw std::runtime_error(error);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pick = [&](double q) { return all[std::min(all.size() - 1, std::size_t(q * all.size()))]; };
  std::printf("%zu %.1f %.2f %.2f\n", all.size(), all.size() * o.per_request / elapsed, pick(0.5),
              pick(0.99));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sentemb_serve_load: %s\n", e.what());
  return 1;
}
