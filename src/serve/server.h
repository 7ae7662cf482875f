// `sentemb serve`: an HTTP/1.1 embedding server over one model. The port opens only
// once the model is loaded (and is written to port_file then), so a client that can
// connect is answered; SIGINT/SIGTERM stop accepting, finish the requests in flight
// and return.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "sentemb/encoder.h"

namespace sentemb::serve {

struct ServeOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;         // 0: any free port (see port_file)
  std::string port_file;   // when set, the bound port is written there once serving
  EncoderOptions encoder;  // each worker's encoder (threads: OpenMP threads per worker)
  int workers = 1;         // encoder-owning worker threads
  std::size_t batch_tokens = 8192;
  int max_wait_ms = 0;
  std::size_t max_inputs = 2048;
  std::size_t max_body_bytes = 8 << 20;
  std::string api_key;    // empty: no authentication
  int timeout_s = 10;     // read and write timeouts against slow clients
  int http_threads = 64;  // connections served at once
};

// Loads the model, serves until SIGINT or SIGTERM, and returns after the requests
// in flight are answered. Throws IoError when the address cannot be bound.
void serve(const ServeOptions& options);

}  // namespace sentemb::serve
