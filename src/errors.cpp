#include "sentemb/errors.h"

#include <fmt/format.h>

namespace sentemb {

InputError::InputError(std::string file, std::size_t line, const std::string& message)
    : Error(fmt::format("{}:{}: {}", file, line, message)), file_(std::move(file)), line_(line) {}

}  // namespace sentemb
