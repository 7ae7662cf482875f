#include "serve/routes.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "sentemb/errors.h"
#include "sentemb/model_info.h"
#include "serve/api_error.h"
#include "serve/auth.h"
#include "serve/responses.h"

namespace sentemb::serve {

std::string error_body(const std::string& message, const std::string& type) {
  return nlohmann::json{{"error", {{"message", message}, {"type", type}}}}.dump();
}

namespace {

constexpr const char* kJson = "application/json";

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Runs `handler`, maps its exceptions to status codes with JSON bodies, and records
// the request in the metrics under `endpoint`.
Handler guarded(const RouteContext& context, std::string endpoint, Handler handler) {
  return [&context, endpoint = std::move(endpoint), handler = std::move(handler)](
             const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    res.status = 200;
    try {
      handler(req, res);
    } catch (const ApiError& e) {
      res.status = e.status();
      res.set_content(error_body(e.what(), e.type()), kJson);
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(error_body(e.what(), "server_error"), kJson);
    }
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    context.metrics->record_request(endpoint, res.status, seconds.count());
  };
}

std::string status_message(int status, const RouteContext& context) {
  switch (status) {
    case 404:
      return "no such endpoint";
    case 405:
      return "method not allowed";
    case 413:
      return fmt::format(
          "the body is larger than the server's limit of {} bytes (--max-body-bytes)",
          context.max_body_bytes);
    case 408:
      return "the request was not received in time";
    default:
      return fmt::format("HTTP status {}", status);
  }
}

}  // namespace

void install_routes(httplib::Server& server, const RouteContext& context) {
  const RouteContext& c = context;
  if (!c.api_key.empty()) {
    server.set_pre_routing_handler([&c](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/health" || bearer_matches(req.get_header_value("Authorization"), c.api_key))
        return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(error_body("missing or wrong API key (Authorization: Bearer KEY)",
                                 "authentication_error"),
                      kJson);
      c.metrics->record_request(req.path, 401, 0);
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  server.set_error_handler([&c](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(error_body(status_message(res.status, c), "invalid_request_error"), kJson);
  });

  server.Post(
      "/v1/embeddings",
      guarded(c, "/v1/embeddings", [&c](const httplib::Request& req, httplib::Response& res) {
        const auto request = parse_embeddings_request(req.body, c.limits);
        const auto truncation = plan_truncation(request.dimensions, c.queue->config());
        const Encoded encoded = c.queue->encode(request.input);
        res.set_content(embeddings_response(encoded.vectors, c.queue->dim(), truncation,
                                            c.normalize, request.format,
                                            request.model.empty() ? c.model_name : request.model,
                                            encoded.tokens),
                        kJson);
      }));
  server.Post("/similarity",
              guarded(c, "/similarity", [&c](const httplib::Request& req, httplib::Response& res) {
                const auto request = parse_similarity_request(req.body, c.limits);
                std::vector<std::string> sentences;
                for (const auto& p : request.pairs) sentences.push_back(p.first);
                for (const auto& p : request.pairs) sentences.push_back(p.second);
                const Encoded encoded = c.queue->encode(sentences);
                res.set_content(similarity_response(encoded.vectors, c.queue->dim(),
                                                    request.pairs.size(), encoded.tokens),
                                kJson);
              }));
  server.Get("/health", guarded(c, "/health", [](const httplib::Request&, httplib::Response& res) {
               res.set_content(R"({"status":"ok"})", kJson);
             }));
  server.Get("/info", guarded(c, "/info", [&c](const httplib::Request&, httplib::Response& res) {
               res.set_content(model_info_json(c.queue->config(), c.queue->tokenizer()), kJson);
             }));
  server.Get("/metrics",
             guarded(c, "/metrics", [&c](const httplib::Request&, httplib::Response& res) {
               res.set_content(c.metrics->prometheus(), "text/plain; version=0.0.4");
             }));
}

}  // namespace sentemb::serve
