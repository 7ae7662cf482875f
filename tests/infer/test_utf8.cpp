// UTF-8 validation: hand-picked edge cases plus an exhaustive comparison with a
// straightforward reference decoder over every 1-, 2- and 3-byte string.
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>

#include "sentemb/utf8.h"

using sentemb::is_valid_utf8;

namespace {

// Reference: decode each sequence to a code point the slow, obvious way and
// reject overlongs, surrogates and values above U+10FFFF.
bool reference_valid(const std::string& s, std::size_t* bad) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto lead = static_cast<unsigned char>(s[i]);
    int length;
    std::uint32_t cp;
    if (lead < 0x80) {
      length = 1, cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, cp = lead & 0x07;
    } else {
      *bad = i;
      return false;
    }
    if (i + length > s.size()) {
      *bad = i;
      return false;
    }
    for (int k = 1; k < length; ++k) {
      auto byte = static_cast<unsigned char>(s[i + k]);
      if ((byte & 0xC0) != 0x80) {
        *bad = i;
        return false;
      }
      cp = (cp << 6) | (byte & 0x3F);
    }
    const std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad = i;
      return false;
    }
    i += length;
  }
  return true;
}

std::string encode(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::size_t bad_offset_of(const std::string& s) {
  std::size_t offset = 12345;
  REQUIRE_FALSE(is_valid_utf8(s, &offset));
  return offset;
}

}  // namespace

TEST_CASE("valid UTF-8 is accepted", "[utf8]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ASCII text, with punctuation!"));
  CHECK(is_valid_utf8("Caf\xC3\xA9"));                // é, 2 bytes
  CHECK(is_valid_utf8("\xE2\x80\x94 \xE6\x97\xA5"));  // em dash, 日: 3 bytes
  CHECK(is_valid_utf8("\xF0\x9F\x99\x82"));           // 🙂: 4 bytes
  CHECK(is_valid_utf8("\xED\x9F\xBF"));               // U+D7FF, just below the surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));               // U+E000, just above them
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF, the last code point
  CHECK(is_valid_utf8(std::string("a\0b", 3)));       // NUL is valid UTF-8 (the reader rejects it)
}

TEST_CASE("overlong encodings are rejected", "[utf8]") {
  CHECK(bad_offset_of("ab\xC0\xAF") == 2);           // '/' as 2 bytes
  CHECK(bad_offset_of("\xC1\xBF") == 0);             // U+007F as 2 bytes
  CHECK(bad_offset_of("x\xE0\x80\xAF") == 1);        // '/' as 3 bytes
  CHECK(bad_offset_of("\xE0\x9F\xBF") == 0);         // U+07FF as 3 bytes
  CHECK(bad_offset_of("xyz\xF0\x80\x80\xAF") == 3);  // '/' as 4 bytes
  CHECK(bad_offset_of("\xF0\x8F\xBF\xBF") == 0);     // U+FFFF as 4 bytes
}

TEST_CASE("surrogates and code points above U+10FFFF are rejected", "[utf8]") {
  CHECK(bad_offset_of("ok \xED\xA0\x80") == 3);   // U+D800
  CHECK(bad_offset_of("\xED\xBF\xBF") == 0);      // U+DFFF
  CHECK(bad_offset_of("\xF4\x90\x80\x80") == 0);  // U+110000
  CHECK(bad_offset_of("\xF5\x80\x80\x80") == 0);  // lead byte F5 never appears
  CHECK(bad_offset_of("\xFF") == 0);
}

TEST_CASE("truncated sequences and stray continuation bytes are rejected", "[utf8]") {
  CHECK(bad_offset_of("abc\xE2\x82") == 3);   // € cut short at the end of the text
  CHECK(bad_offset_of("abc\xE2\x82x") == 3);  // ... and followed by ASCII
  CHECK(bad_offset_of("\xF0\x9F\x99") == 0);  // 🙂 missing its last byte
  CHECK(bad_offset_of("\xC3") == 0);
  CHECK(bad_offset_of("caf\xC3\xA9\x80") == 5);  // continuation byte with no lead
  CHECK(bad_offset_of("\xC3\xA9\xC3(") == 2);
}

TEST_CASE("the bad offset is exact past the 8-byte ASCII fast path", "[utf8]") {
  for (std::size_t position : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u}) {
    std::string s(1024, 'a');
    s[position] = '\x80';
    CHECK(bad_offset_of(s) == position);
  }
  // Valid multi-byte characters between ASCII runs do not derail the scan.
  std::string mixed;
  for (int i = 0; i < 100; ++i) mixed += "abcdefghij\xC3\xA9\xE2\x80\x94\xF0\x9F\x99\x82";
  CHECK(is_valid_utf8(mixed));
  mixed += "\xED\xA0\x80";
  CHECK(bad_offset_of(mixed) == mixed.size() - 3);
}

TEST_CASE("every code point encodes to valid UTF-8 unless it is a surrogate", "[utf8]") {
  std::size_t mismatches = 0;
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (is_valid_utf8(encode(cp)) == surrogate) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("agrees with a reference decoder on every 1-, 2- and 3-byte string", "[utf8]") {
  std::size_t mismatches = 0;
  std::string s;
  auto compare = [&] {
    std::size_t expected_bad = 0, actual_bad = 0;
    bool expected = reference_valid(s, &expected_bad);
    bool actual = is_valid_utf8(s, &actual_bad);
    if (expected != actual || (!expected && expected_bad != actual_bad)) ++mismatches;
  };
  for (int b0 = 0; b0 < 256; ++b0) {
    s.assign(1, static_cast<char>(b0));
    compare();
    for (int b1 = 0; b1 < 256; ++b1) {
      s.assign({static_cast<char>(b0), static_cast<char>(b1)});
      compare();
      for (int b2 = 0; b2 < 256; ++b2) {
        s.assign({static_cast<char>(b0), static_cast<char>(b1), static_cast<char>(b2)});
        compare();
      }
    }
  }
  CHECK(mismatches == 0);

  // 4-byte strings: random samples biased towards lead bytes F0..F4.
  std::mt19937 rng(42);
  for (int i = 0; i < 200000; ++i) {
    s.clear();
    s += static_cast<char>(0xEE + rng() % 18);
    for (int k = 0; k < 3; ++k) s += static_cast<char>(rng() % 2 ? 0x80 + rng() % 64 : rng() % 256);
    compare();
  }
  CHECK(mismatches == 0);
}
