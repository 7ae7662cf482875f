// SentencePiece-backed tokenizer; see include/sentemb/tokenizer.h.
#include "sentemb/tokenizer.h"

#include <fmt/core.h>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "sentemb/errors.h"

namespace sentemb {

struct Tokenizer::Impl {
  std::string serialized;
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

// Reads a whole file; IoError names the path and the OS reason.
std::string read_all_bytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw IoError(fmt::format("cannot open tokenizer model '{}': {}", path, std::strerror(errno)));
  }
  std::string bytes;
  char buffer[1 << 16];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) bytes.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  const int error = errno;
  std::fclose(f);
  if (failed) {
    throw IoError(fmt::format("cannot read tokenizer model '{}': {}", path, std::strerror(error)));
  }
  return bytes;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(std::string bytes, const std::string& origin) {
  auto impl = std::make_unique<Impl>();
  impl->serialized = std::move(bytes);
  if (impl->serialized.empty()) {
    throw ModelFileError(fmt::format("{} is empty, not a SentencePiece model", origin));
  }
  const auto status = impl->processor.LoadFromSerializedProto(impl->serialized);
  if (!status.ok()) {
    throw ModelFileError(
        fmt::format("{} is not a valid SentencePiece model: {}", origin, status.ToString()));
  }
  const auto& sp = impl->processor;
  if (sp.pad_id() != Tokenizer::kPadId || sp.unk_id() != Tokenizer::kUnkId ||
      sp.bos_id() != Tokenizer::kBosId || sp.eos_id() != Tokenizer::kEosId) {
    throw ModelFileError(fmt::format(
        "{} has special ids pad={} unk={} bos={} eos={}; sentemb needs pad=0 unk=1 bos=2 eos=3 "
        "(train it with `sentemb tokenizer train`)",
        origin, sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id()));
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  return load(read_all_bytes(path), fmt::format("tokenizer file '{}'", path));
}

Tokenizer Tokenizer::from_bytes(std::string serialized_proto) {
  return load(std::move(serialized_proto), "embedded tokenizer");
}

const std::string& Tokenizer::serialized() const {
  return impl_->serialized;
}

int Tokenizer::vocab_size() const {
  return impl_->processor.GetPieceSize();
}

std::size_t Tokenizer::max_input_bytes(int max_len) {
  if (max_len <= 0) return std::string_view::npos;
  return static_cast<std::size_t>(max_len) * kBytesPerId + kBytesPerId;
}

std::string_view Tokenizer::input_prefix(std::string_view text, int max_len) {
  const std::size_t cap = max_input_bytes(max_len);
  if (text.size() <= cap) return text;
  // At a character boundary (never inside a UTF-8 sequence)...
  std::size_t cut = cap;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  // ...and, when the second half has one, at a space, so that the last word is
  // whole: SentencePiece splits at whitespace before it segments, so the pieces of
  // the words kept are exactly those of the whole text.
  const std::size_t space = text.rfind(' ', cut);
  if (space != std::string_view::npos && space >= cut / 2) cut = space;
  return text.substr(0, cut);
}

std::vector<int> Tokenizer::encode(std::string_view text, int max_len) const {
  std::vector<int> piece_ids;
  const auto status = impl_->processor.Encode(input_prefix(text, max_len), &piece_ids);
  if (!status.ok()) throw Error(fmt::format("tokenizer encode failed: {}", status.ToString()));
  // (T,) = BOS followed by the pieces, cut to max_len.
  std::vector<int> ids;
  std::size_t total = piece_ids.size() + 1;
  if (max_len > 0) total = std::min(total, static_cast<std::size_t>(max_len));
  ids.reserve(total);
  ids.push_back(kBosId);
  ids.insert(ids.end(), piece_ids.begin(), piece_ids.begin() + (total - 1));
  return ids;
}

std::vector<std::vector<int>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                      int max_len, int threads) const {
  std::vector<std::vector<int>> out(texts.size());
  const std::size_t n = texts.size();
  const std::size_t workers =
      std::min<std::size_t>(threads <= 1 ? 1 : static_cast<std::size_t>(threads), n);
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) out[i] = encode(texts[i], max_len);
    return out;
  }
  // Contiguous chunks: worker w encodes [w*n/workers, (w+1)*n/workers). The
  // processor is read-only after loading, so concurrent Encode calls are safe.
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      try {
        const std::size_t begin = w * n / workers, end = (w + 1) * n / workers;
        for (std::size_t i = begin; i < end; ++i) out[i] = encode(texts[i], max_len);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

std::vector<std::string> Tokenizer::pieces(std::string_view text) const {
  std::vector<std::string> out;
  const auto status = impl_->processor.Encode(text, &out);
  if (!status.ok()) throw Error(fmt::format("tokenizer encode failed: {}", status.ToString()));
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  const int size = vocab_size();
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int id : ids) {
    if (id < 0 || id >= size) {
      throw UsageError(fmt::format("token id {} is outside the vocabulary [0, {})", id, size));
    }
    if (id == kPadId || id == kBosId || id == kEosId) continue;
    kept.push_back(id);
  }
  std::string text;
  const auto status = impl_->processor.Decode(kept, &text);
  if (!status.ok()) throw Error(fmt::format("tokenizer decode failed: {}", status.ToString()));
  return text;
}

std::string Tokenizer::id_to_piece(int id) const {
  if (id < 0 || id >= vocab_size()) {
    throw UsageError(
        fmt::format("token id {} is outside the vocabulary [0, {})", id, vocab_size()));
  }
  return impl_->processor.IdToPiece(id);
}

}  // namespace sentemb
