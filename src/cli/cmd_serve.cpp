// `sentemb serve`: the HTTP embedding server (src/serve/).
#include <cstdlib>
#include <memory>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "serve/server.h"

namespace sentemb::cli {

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve embeddings over HTTP: POST /v1/embeddings (OpenAI API), POST /similarity,\n"
      "GET /health, /info, /metrics. Concurrent requests are batched together.");
  struct Args {
    EncoderFlags encoder;
    serve::ServeOptions serve;
  };
  auto args = std::make_shared<Args>();
  args->encoder.add_to(cmd, true);
  auto& s = args->serve;
  cmd->add_option("--host", s.host, "Address to listen on (loopback unless told otherwise)");
  cmd->add_option("--port", s.port, "TCP port; 0: any free port (see --port-file)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--port-file", s.port_file,
                  "Write the port here once the model is loaded and the port is open");
  cmd->add_option("--workers", s.workers, "Worker threads, each with its own encoder")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-tokens", s.batch_tokens,
                  "Tokens per batch a worker encodes at once (a larger request runs alone)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-wait-ms", s.max_wait_ms,
                  "How long a worker waits for a batch to fill before encoding (0: never)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-inputs", s.max_inputs, "Sentences per request at most")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-body-bytes", s.max_body_bytes, "Request body size at most (413 above)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--api-key", s.api_key,
                  "Require 'Authorization: Bearer KEY' (default: env SENTEMB_API_KEY; none: open)");
  cmd->add_option("--timeout", s.timeout_s, "Read and write timeout per connection, seconds")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--http-threads", s.http_threads, "Connections served at once")
      ->check(CLI::PositiveNumber);
  cmd->callback([args] {
    serve::ServeOptions options = args->serve;
    options.model_path = args->encoder.model;
    options.encoder = args->encoder.options();
    if (options.api_key.empty())
      if (const char* key = std::getenv("SENTEMB_API_KEY")) options.api_key = key;
    serve::serve(options);
  });
}

}  // namespace sentemb::cli
