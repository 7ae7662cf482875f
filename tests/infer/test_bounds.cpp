// Bounded memory on hostile input (issue 17): the tokenizer reads a bounded prefix
// of a huge sentence, the text reader keeps a bounded start of a huge line, the
// inference attention runs in bounded chunks, and map_model reads in place only
// 64-byte-aligned tensors. Also: the corpus library prints nothing itself.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "nn/attention.h"
#include "nn/dnnl_context.h"
#include "sentemb/corpus.h"
#include "model_file_internal.h"
#include "sentemb/model_file.h"
#include "sentemb/tokenizer.h"
#include "test_models.h"
#include "test_util.h"

using namespace sentemb;
namespace st = sentemb::test;

namespace {

Tokenizer tiny_tokenizer() {
  return Tokenizer::from_bytes(st::read_file(st::data_path("tokenizer/tiny.model")));
}

// The first max_len ids of the whole text, tokenized without any limit.
std::vector<int> unlimited_prefix(const Tokenizer& tok, const std::string& text, int max_len) {
  std::vector<int> ids = tok.encode(text, 0);
  ids.resize(std::min<std::size_t>(ids.size(), max_len));
  return ids;
}

// Words of the tiny corpus, repeated in random order up to `bytes` bytes.
std::string long_text(std::size_t bytes, std::uint32_t seed, const std::string& separator = " ") {
  std::vector<std::string> words;
  std::string word;
  for (char c : st::read_file(st::data_path("tokenizer/tiny_corpus.txt"))) {
    if (c == ' ' || c == '\n' || c == '\t') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  REQUIRE(!words.empty());
  std::mt19937 rng(seed);
  std::string text;
  while (text.size() < bytes) {
    text += words[rng() % words.size()];
    text += separator;
  }
  return text;
}

// The error reading a whole text file gives ("" for none).
std::string read_error(const std::string& path, ReaderOptions options) {
  try {
    CorpusReader reader(path, CorpusFormat::kText, options);
    Record r;
    while (reader.next(r)) {
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the tokenizer reads a bounded prefix and keeps the first max_len ids",
          "[tokenizer][bounds]") {
  const Tokenizer tok = tiny_tokenizer();
  for (int max_len : {2, 8, 32, 128, 512}) {
    INFO("max_len " << max_len);
    const std::size_t cap = Tokenizer::max_input_bytes(max_len);
    CHECK(cap == static_cast<std::size_t>(max_len + 1) * Tokenizer::kBytesPerId);
    // Words and spaces; one long "word"; multi-byte characters (2, 3 and 4 bytes)
    // with the cap landing inside a character; tabs and doubled spaces.
    const std::vector<std::string> texts = {
        long_text(3 * cap, 1),
        std::string(3 * cap, 'a'),
        [&] {
          std::string s;
          while (s.size() < 3 * cap) s += "é日本\xF0\x9F\x98\x80 a";
          return s;
        }(),
        long_text(3 * cap, 2, " \t  "),
    };
    for (std::size_t i = 0; i < texts.size(); ++i) {
      INFO("text " << i);
      const std::string& text = texts[i];
      const std::string_view prefix = Tokenizer::input_prefix(text, max_len);
      CHECK(prefix.size() <= cap);
      CHECK(prefix.size() >= cap / 2 - 4);
      CHECK(text.compare(0, prefix.size(), prefix) == 0);
      // Never inside a UTF-8 sequence.
      CHECK((static_cast<unsigned char>(text[prefix.size()]) & 0xC0) != 0x80);
      const std::vector<int> ids = tok.encode(text, max_len);
      CHECK(static_cast<int>(ids.size()) == max_len);
      CHECK(ids == unlimited_prefix(tok, text, max_len));
    }
  }
  // Short texts and no limit: the whole text.
  CHECK(Tokenizer::input_prefix("short", 4) == "short");
  const std::string big(1 << 20, 'x');
  CHECK(Tokenizer::input_prefix(big, 0).size() == big.size());
}

TEST_CASE("a text line longer than max_text_bytes keeps its start and is still checked",
          "[corpus][bounds]") {
  st::TempDir tmp;
  const std::string path = tmp.file("long.txt");
  const std::string long_line = std::string(200000, 'x') + "\xC3\xA9" + std::string(100000, 'y');
  // 1: short; 2: long; 3: long with CRLF; 4: a multi-byte character across the limit;
  // 5: short, last, no final newline.
  const std::string across = std::string(99, 'z') + "\xE6\x97\xA5" + std::string(50, 'w');
  st::write_file(path, "short one\n" + long_line + "\n" + long_line + "\r\n" + across + "\nend");
  ReaderOptions options;
  options.max_text_bytes = 100;
  CorpusReader reader(path, CorpusFormat::kText, options);
  Record r;
  REQUIRE(reader.next(r));
  CHECK(r.a == "short one");
  REQUIRE(reader.next(r));
  CHECK(r.a == std::string(100, 'x'));
  CHECK(r.line == 2);
  REQUIRE(reader.next(r));
  CHECK(r.a == std::string(100, 'x'));
  REQUIRE(reader.next(r));
  CHECK(r.a == std::string(99, 'z'));  // the 3-byte character would not fit whole
  REQUIRE(reader.next(r));
  CHECK(r.a == "end");
  CHECK(r.line == 5);
  CHECK_FALSE(reader.next(r));

  // Errors past the kept bytes name the same line and column as without a limit,
  // across the 64 KiB chunks the rest is checked in: the first chunk ends at byte
  // `edge` of the line (the limit, then 64 KiB).
  const std::size_t edge = 100 + (1 << 16);
  const std::string emoji = "\xF0\x9F\x98\x80";
  std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(150000, 'a') + std::string("\0", 1) + "b",
       "bad.txt:2: NUL byte at byte column 150001"},
      {std::string(70000, 'a') + "\xC0\xAF", "bad.txt:2: invalid UTF-8 at byte column 70001"},
  };
  for (std::size_t back = 1; back <= 6; ++back) {
    // An incomplete character across the chunk end; a valid one, then stray
    // continuation bytes; a valid one, then a NUL.
    cases.push_back({std::string(edge - back, 'a') + "\xE6\x97" + "b",
                     "bad.txt:2: invalid UTF-8 at byte column " + std::to_string(edge - back + 1)});
    cases.push_back({std::string(edge - back, 'a') + emoji + "\x80\x80",
                     "bad.txt:2: invalid UTF-8 at byte column " + std::to_string(edge - back + 5)});
    cases.push_back({std::string(edge - back, 'a') + emoji + std::string("\0", 1),
                     "bad.txt:2: NUL byte at byte column " + std::to_string(edge - back + 5)});
  }
  for (const auto& [bad, message] : cases) {
    INFO(message);
    const std::string bad_path = tmp.file("bad.txt");
    st::write_file(bad_path, "fine\n" + bad + "\nfine\n");
    const std::string expected = read_error(bad_path, {});
    CHECK_THAT(expected, Catch::Contains(message));
    CHECK(read_error(bad_path, options) == expected);
  }
  // A byte order mark is not kept and does not count in columns.
  st::write_file(path, "\xEF\xBB\xBF" + std::string(300, 'q') + std::string("\0", 1) + "\n");
  CHECK_THAT(read_error(path, options), Catch::Contains(":1: NUL byte at byte column 301"));
}

TEST_CASE("read_corpus prints nothing and hands the skip summary back", "[corpus]") {
  st::TempDir tmp;
  const std::string path = tmp.file("some_bad.pairs.tsv");
  st::write_file(path, "a\tb\nonly one column\nc\td\n");
  ReaderOptions options;
  options.on_bad_line = OnBadLine::kSkip;
  // stderr goes to a file for the call.
  const std::string err_path = tmp.file("stderr");
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  ::dup2(fd, 2);
  ::close(fd);
  std::string summary = "unset";
  const auto records = read_corpus(path, CorpusFormat::kPairs, options, &summary);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  CHECK(records.size() == 2);
  CHECK(st::read_file(err_path).empty());
  CHECK_THAT(summary, Catch::StartsWith("skipped 1 bad line of " + path));
  // Without the out-parameter nothing is printed either (and nothing breaks).
  CHECK(read_corpus(path, CorpusFormat::kPairs, options).size() == 2);
}

TEST_CASE("map_model reads in place only tensors aligned to 64 bytes", "[model_file][bounds]") {
  alignas(64) static char buffer[256];
  CHECK(in_place_aligned(buffer));
  CHECK(in_place_aligned(buffer + 64));
  CHECK(in_place_aligned(buffer + 128));
  // 4-byte aligned (enough for a float) is not enough.
  for (int offset : {4, 8, 16, 32, 60, 68}) CHECK_FALSE(in_place_aligned(buffer + offset));
  CHECK_FALSE(in_place_aligned(buffer + 1));
}

namespace {

// ctx of Attention::forward on random qkv with mixed lengths, with at most
// `chunk` scores per chunk (0: the default).
std::vector<float> attention_ctx(bool bf16, std::int64_t chunk, int B, int T_, int C, int NH) {
  const auto qkv_f = st::random_vector(std::size_t(B) * T_ * 3 * C, 11);
  std::vector<float> mask(std::size_t(B) * T_, 0.0f);
  for (int b = 0; b < B; ++b)
    for (int t = T_ - b; t < T_; ++t) mask[std::size_t(b) * T_ + t] = nn::kMaskedScore;
  nn::Attention attention(C, NH, bf16);
  if (chunk > 0) attention.set_max_chunk_scores(chunk);
  std::vector<float> probs(attention.forward_scratch(B, T_));
  std::vector<float> ctx_f(std::size_t(B) * T_ * C);
  if (!bf16) {
    attention.forward(qkv_f.data(), mask.data(), probs.data(), ctx_f.data(), B, T_);
    return ctx_f;
  }
  std::vector<std::uint16_t> qkv(qkv_f.size()), ctx(ctx_f.size());
  nn::to_bf16(qkv_f.data(), qkv.data(), qkv.size());
  attention.forward(qkv.data(), mask.data(), probs.data(), ctx.data(), B, T_);
  for (std::size_t i = 0; i < ctx.size(); ++i) {
    const std::uint32_t bits = std::uint32_t(ctx[i]) << 16;
    std::memcpy(&ctx_f[i], &bits, 4);
  }
  return ctx_f;
}

}  // namespace

TEST_CASE("chunked inference attention equals unchunked", "[layers][bounds]") {
  const int B = 5, T = 24, C = 32, NH = 4;
  for (bool bf16 : {false, true}) {
    INFO((bf16 ? "bf16" : "fp32"));
    const auto whole = attention_ctx(bf16, 0, B, T, C, NH);
    // One head of one sentence at a time; 3 heads (4 = 3 + 1); 2 sentences (5 = 2 + 2 + 1).
    for (std::int64_t chunk :
         {std::int64_t(T) * T, std::int64_t(3) * T * T, std::int64_t(2) * NH * T * T}) {
      INFO("chunk " << chunk);
      nn::Attention probe(C, NH, bf16);
      probe.set_max_chunk_scores(chunk);
      CHECK(probe.forward_scratch(B, T) <= chunk);
      const auto chunked = attention_ctx(bf16, chunk, B, T, C, NH);
      float most = 0;
      for (std::size_t i = 0; i < whole.size(); ++i)
        most = std::max(most, std::abs(chunked[i] - whole[i]));
      CHECK(most <= (bf16 ? 1e-2f : 1e-5f));
    }
  }
  // The default bound: 64 MiB of scores, whatever the batch and length.
  nn::Attention big(1024, 16);
  CHECK(big.forward_scratch(64, 4096) * 4 <= (std::int64_t(64) << 20));
  CHECK(big.forward_scratch(64, 512) * 4 <= (std::int64_t(64) << 20));
  CHECK(big.forward_scratch(1, 8) == 16 * 8 * 8);
}
