#include "serve/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <thread>

#include "sentemb/errors.h"
#include "serve/batch_queue.h"
#include "serve/routes.h"

namespace sentemb::serve {

namespace {

// SIGINT and SIGTERM are blocked in every thread (workers, oneDNN's OpenMP threads,
// httplib's pool inherit the mask of the thread that creates them, this one) and taken
// by a watcher thread with sigtimedwait: a signal must never land on a thread inside a
// oneDNN JIT kernel (see src/train/stop_signals.cpp).
sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

void write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw IoError(fmt::format("cannot write {}", tmp));
  fmt::print(f, "{}\n", port);
  const bool ok = std::fclose(f) == 0 && std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) throw IoError(fmt::format("cannot write {}", path));
}

}  // namespace

void serve(const ServeOptions& options) {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (options.workers < 1) throw UsageError("--workers must be at least 1");
  std::vector<Encoder> encoders;
  for (int i = 0; i < options.workers; ++i)
    encoders.push_back(Encoder::load(options.model_path, options.encoder));
  const bool normalize = options.encoder.normalize.value_or(encoders[0].config().normalize);

  Metrics metrics;
  BatchOptions batch_options;
  batch_options.batch_tokens = options.batch_tokens;
  batch_options.max_wait = std::chrono::milliseconds(options.max_wait_ms);
  BatchQueue queue(std::move(encoders), batch_options, &metrics);

  RouteContext context;
  context.queue = &queue;
  context.metrics = &metrics;
  context.limits.max_inputs = options.max_inputs;
  context.api_key = options.api_key;
  context.model_name = options.model_path;
  context.normalize = normalize;
  context.max_body_bytes = options.max_body_bytes;

  httplib::Server server;
  const std::size_t http_threads = std::max(1, options.http_threads);
  server.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  server.set_read_timeout(options.timeout_s, 0);
  server.set_write_timeout(options.timeout_s, 0);
  server.set_keep_alive_timeout(2);
  // Responses are written as headers, then body: with Nagle's algorithm on, a keep-alive
  // client's delayed ACK holds the second write back 40 ms or more.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(options.max_body_bytes);
  // httplib 0.11 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into
  // Debian's library), so a burst of 64 connects would wait for SYN retries (1 s). The
  // listening socket is remembered here and listen() called again after binding, which
  // on Linux only raises the backlog.
  int listening_socket = -1;
  server.set_socket_options([&listening_socket](socket_t sock) {
    httplib::default_socket_options(sock);
    listening_socket = sock;
  });
  install_routes(server, context);

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0) throw IoError(fmt::format("cannot bind {} to a free port", options.host));
  } else if (!server.bind_to_port(options.host, port)) {
    throw IoError(fmt::format("cannot bind {}:{}", options.host, port));
  }
  if (listening_socket >= 0) ::listen(listening_socket, SOMAXCONN);
  if (!options.port_file.empty()) write_port_file(options.port_file, port);
  fmt::print(stderr, "sentemb serve: {} on http://{}:{} ({} worker{}, {} batch tokens)\n",
             options.model_path, options.host, port, options.workers,
             options.workers == 1 ? "" : "s", options.batch_tokens);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec poll{0, 100 * 1000 * 1000};
    while (!done.load()) {
      const int signal = sigtimedwait(&signals, nullptr, &poll);
      if (signal == SIGINT || signal == SIGTERM) {
        fmt::print(stderr, "sentemb serve: signal {}: finishing the requests in flight\n", signal);
        // stop() before listen_after_bind() started would be lost.
        while (!server.is_running() && !done.load())
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        server.stop();
        return;
      }
    }
  });
  const bool listened = server.listen_after_bind();
  done = true;
  watcher.join();
  queue.stop();
  if (!listened) throw IoError(fmt::format("serving on {}:{} failed", options.host, port));
  fmt::print(stderr, "sentemb serve: stopped\n");
}

}  // namespace sentemb::serve
