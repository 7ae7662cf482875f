// UTF-8 validation of input text.
#pragma once

#include <cstddef>
#include <string_view>

namespace sentemb {

// True if s is well-formed UTF-8 as defined by RFC 3629 / Unicode Table 3-7:
// no overlong encodings, no UTF-16 surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF, no truncated sequences. On failure, if bad_offset is not null,
// *bad_offset is the byte offset of the first byte of the first bad sequence.
bool is_valid_utf8(std::string_view s, std::size_t* bad_offset = nullptr);

}  // namespace sentemb
