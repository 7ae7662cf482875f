// A SentencePiece tokenizer: text → model input ids (BOS first) and back.
// The SentencePiece types stay behind a pimpl so users of this header need
// neither its headers nor its protobuf runtime.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentemb {

class Tokenizer {
 public:
  // Fixed special ids, set when a tokenizer is trained (train_tokenizer) and
  // checked when one is loaded: pad 0, unk 1, bos 2 (<s>), eos 3 (</s>).
  static constexpr int kPadId = 0, kUnkId = 1, kBosId = 2, kEosId = 3;

  // Loads a SentencePiece .model file. Throws IoError if the file cannot be read,
  // ModelFileError if it is not a SentencePiece model or its special ids differ
  // from the fixed ones above.
  static Tokenizer from_file(const std::string& path);
  // Same from the bytes of a .model file (e.g. embedded in a sentemb model file).
  // Throws ModelFileError.
  static Tokenizer from_bytes(std::string serialized_proto);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // The .model bytes this tokenizer was loaded from.
  const std::string& serialized() const;
  int vocab_size() const;

  // Model input ids: BOS then the pieces' ids, truncated to at most max_len ids
  // in total (BOS counts); max_len <= 0 means no limit. Empty text gives {BOS}.
  // With a limit only input_prefix(text, max_len) is tokenized, so a huge line
  // costs no more than a long sentence.
  std::vector<int> encode(std::string_view text, int max_len) const;
  // encode() for many texts, split across `threads` std::threads in contiguous
  // chunks (threads <= 1: inline). The result is in input order.
  std::vector<std::vector<int>> encode_batch(const std::vector<std::string>& texts, int max_len,
                                             int threads) const;
  // The bytes encode() reads of a text for max_len ids: at most
  // max_input_bytes(max_len) = (max_len + 1) · kBytesPerId bytes, cut at a character
  // boundary and, where the second half of that has a space, at the last space.
  // Why the first max_len ids are those of the whole text: a piece is at most 16
  // characters (SentencePiece's max_sentencepiece_length, which sentemb's trainer
  // leaves at its default) of at most 4 bytes, so max_len pieces span at most
  // 64·max_len bytes of words; kBytesPerId = 128 doubles that for the whitespace
  // between them (a run collapses to one ▁). SentencePiece splits the normalized
  // text at whitespace before it segments a word, so cutting at a space leaves the
  // segmentation of every word before it unchanged. Only text whose first
  // max_len pieces need more than 128 bytes each (long runs of spaces or of
  // characters NFKC normalization drops) can differ, and then only in ids past the
  // cut. max_len <= 0: no limit (npos).
  static constexpr std::size_t kBytesPerId = 128;
  static std::size_t max_input_bytes(int max_len);
  static std::string_view input_prefix(std::string_view text, int max_len);
  // The surface pieces of the (normalized) text, e.g. "▁Hel" "lo"; no BOS.
  std::vector<std::string> pieces(std::string_view text) const;
  // Text of the ids; the special ids pad, bos and eos are dropped, unk decodes
  // to " ⁇ ". Throws UsageError for an id outside [0, vocab_size()).
  std::string decode(const std::vector<int>& ids) const;
  // The piece of one id, e.g. "▁the" or "<s>". Throws UsageError when out of range.
  std::string id_to_piece(int id) const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  // Loads the processor and checks the special ids; `origin` names the source in messages.
  static Tokenizer load(std::string bytes, const std::string& origin);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentemb
