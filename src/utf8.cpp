#include "sentemb/utf8.h"

#include <cstdint>
#include <cstring>

namespace sentemb {

namespace {

// Length of the ASCII prefix of [p, end). Checks 8 bytes at a time: almost all
// corpus text is ASCII, so this is the fast path.
std::size_t ascii_prefix(const unsigned char* p, const unsigned char* end) {
  const unsigned char* start = p;
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    if (word & 0x8080808080808080ULL) break;
    p += 8;
  }
  while (p < end && *p < 0x80) ++p;
  return static_cast<std::size_t>(p - start);
}

}  // namespace

bool is_valid_utf8(std::string_view s, std::size_t* bad_offset) {
  const auto* begin = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = begin + s.size();
  const unsigned char* p = begin;
  auto fail = [&](const unsigned char* at) {
    if (bad_offset) *bad_offset = static_cast<std::size_t>(at - begin);
    return false;
  };
  while (p < end) {
    p += ascii_prefix(p, end);
    if (p >= end) break;
    const unsigned char lead = *p;
    // Well-formed byte sequences (Unicode Table 3-7). The allowed range of the
    // second byte encodes the overlong, surrogate and > U+10FFFF exclusions:
    //   C2..DF  80..BF
    //   E0      A0..BF  80..BF          (E0 80..9F would be overlong)
    //   E1..EC  80..BF  80..BF
    //   ED      80..9F  80..BF          (ED A0..BF would be a surrogate)
    //   EE..EF  80..BF  80..BF
    //   F0      90..BF  80..BF  80..BF  (F0 80..8F would be overlong)
    //   F1..F3  80..BF  80..BF  80..BF
    //   F4      80..8F  80..BF  80..BF  (F4 90.. would exceed U+10FFFF)
    // C0, C1 (overlong 2-byte) and F5..FF never appear.
    int length;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    } else {
      return fail(p);
    }
    if (end - p < length) return fail(p);
    if (p[1] < lo || p[1] > hi) return fail(p);
    for (int i = 2; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return fail(p);
    }
    p += length;
  }
  return true;
}

}  // namespace sentemb
