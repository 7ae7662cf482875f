// The API key check: `Authorization: Bearer KEY`, compared in constant time.
#pragma once

#include <string>

namespace sentemb::serve {

// Whether `header` (the Authorization header's value) is "Bearer " + key. The time
// taken depends on the lengths only, never on where the strings differ.
bool bearer_matches(const std::string& header, const std::string& key);

}  // namespace sentemb::serve
