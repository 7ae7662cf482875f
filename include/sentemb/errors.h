// Typed exceptions. Every message names what went wrong and where: the file and
// line of bad input, the tensor of a bad model file, the option of a bad call.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace sentemb {

// Base of every error sentemb throws; the CLI catches it and exits non-zero.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed input text: wrong column count, empty field, invalid UTF-8, bad number.
// what() reads "FILE:LINE: message".
class InputError : public Error {
 public:
  InputError(std::string file, std::size_t line, const std::string& message);
  const std::string& file() const { return file_; }
  std::size_t line() const { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

// A model or checkpoint file that is truncated, corrupt, of a newer version, or
// whose tensors do not match the configuration.
class ModelFileError : public Error {
 public:
  using Error::Error;
};

// A file that cannot be opened, read or written (names the path and the OS reason).
class IoError : public Error {
 public:
  using Error::Error;
};

// An invalid option value or combination of options.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Training diverged: a loss or gradient became NaN or infinite.
class NumericError : public Error {
 public:
  using Error::Error;
};

}  // namespace sentemb
