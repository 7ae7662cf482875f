// The typed error of the HTTP API: a status code, an OpenAI-style error type and a
// message naming the offending field. Routes throw it; the server turns it into
// `{"error":{"message":…,"type":…}}` with that status.
#pragma once

#include <stdexcept>
#include <string>

namespace sentemb::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message)
      : std::runtime_error(message), status_(status), type_(std::move(type)) {}
  int status() const { return status_; }
  const std::string& type() const { return type_; }

  // 400 invalid_request_error: the body or a field is wrong.
  static ApiError bad_request(const std::string& message) {
    return ApiError(400, "invalid_request_error", message);
  }

 private:
  int status_;
  std::string type_;
};

// The JSON body of an error response.
std::string error_body(const std::string& message, const std::string& type);

}  // namespace sentemb::serve
