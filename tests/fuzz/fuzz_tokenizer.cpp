// Fuzzes text input: Tokenizer::encode() and pieces() with the tiny test
// tokenizer on the input bytes as text, and is_valid_utf8() against an
// independent reference validator (differential check).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"
#include "sentemb/utf8.h"

namespace {

const sentemb::Tokenizer& tokenizer() {
  static const sentemb::Tokenizer t =
      sentemb::Tokenizer::from_file(SENTEMB_TEST_DATA "/tokenizer/tiny.model");
  return t;
}

// Reference UTF-8 validator written from the definition rather than from
// Table 3-7: decode the scalar value, then reject overlong forms, surrogates
// and values above U+10FFFF. Returns the offset of the first bad sequence, or
// npos when the text is well formed.
std::size_t reference_bad_offset(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned b0 = static_cast<unsigned char>(s[i]);
    int length;
    std::uint32_t value;
    std::uint32_t min_value;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      length = 2, value = b0 & 0x1F, min_value = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3, value = b0 & 0x0F, min_value = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4, value = b0 & 0x07, min_value = 0x10000;
    } else {
      return i;  // a continuation byte or F8..FF as a lead
    }
    if (s.size() - i < static_cast<std::size_t>(length)) return i;
    for (int k = 1; k < length; ++k) {
      const unsigned b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      value = (value << 6) | (b & 0x3F);
    }
    if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return i;
    i += length;
  }
  return std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::size_t bad = 12345;
  const bool valid = sentemb::is_valid_utf8(text, &bad);
  const std::size_t expected = reference_bad_offset(text);
  FUZZ_CHECK(valid == (expected == std::string_view::npos));
  if (!valid) FUZZ_CHECK(bad == expected);

  const auto& tok = tokenizer();
  const int vocab = tok.vocab_size();
  try {
    const auto ids = tok.encode(text, 64);
    FUZZ_CHECK(!ids.empty() && ids.size() <= 64);
    FUZZ_CHECK(ids[0] == sentemb::Tokenizer::kBosId);
    for (int id : ids) FUZZ_CHECK(id >= 0 && id < vocab);
    const auto unlimited = tok.encode(text, 0);
    FUZZ_CHECK(unlimited.size() >= ids.size());
    // The truncated ids are a prefix of the full encoding.
    for (std::size_t i = 0; i < ids.size(); ++i) FUZZ_CHECK(unlimited[i] == ids[i]);
    const auto pieces = tok.pieces(text);
    FUZZ_CHECK(pieces.size() + 1 == unlimited.size());
    // decode() accepts whatever encode() produced.
    tok.decode(unlimited);
  } catch (const sentemb::Error&) {
    // SentencePiece may refuse some input; that must surface as an Error.
  }
  return 0;
}
