#include "serve/auth.h"

namespace sentemb::serve {

bool bearer_matches(const std::string& header, const std::string& key) {
  static const std::string kScheme = "Bearer ";
  const std::string expected = kScheme + key;
  // Every byte of the expected value is compared whatever the header's length, and
  // the differences are OR-ed, so no early exit leaks the matching prefix.
  unsigned char diff = header.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char got = i < header.size() ? static_cast<unsigned char>(header[i]) : 0;
    diff |= got ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

}  // namespace sentemb::serve
