// The HTTP routes: POST /v1/embeddings, POST /similarity, GET /health, /info and
// /metrics, the API key check before routing, and JSON error bodies for every
// 4xx/5xx, including those httplib answers itself (404, 413).
#pragma once

#include <string>

#include "serve/batch_queue.h"
#include "serve/metrics.h"
#include "serve/requests.h"

namespace httplib {
class Server;
}

namespace sentemb::serve {

struct RouteContext {
  BatchQueue* queue = nullptr;
  Metrics* metrics = nullptr;
  RequestLimits limits;
  std::string api_key;     // empty: no authentication
  std::string model_name;  // echoed when a request names none
  bool normalize = true;   // whether vectors are unit length (renormalise after truncation)
  std::size_t max_body_bytes = 0;
};

// Installs the routes on `server`; `context` must outlive it.
void install_routes(httplib::Server& server, const RouteContext& context);

}  // namespace sentemb::serve
