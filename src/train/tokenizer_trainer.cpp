// SentencePiece training with sentemb's fixed special ids; see
// include/sentemb/train/tokenizer_trainer.h.
#include "sentemb/train/tokenizer_trainer.h"

#include <fmt/format.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"

// Exported by libsentencepiece 0.1.97 but not declared in its public headers.
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace sentemb {
namespace {

// Fixed seed of the reservoir sample: the same input gives the same tokenizer.
constexpr std::uint64_t kSampleSeed = 0x5e47e3b5u;

// Feeds SentencePiece the selected sentences straight from memory (no temp files).
class IndexedSentenceIterator : public sentencepiece::SentenceIterator {
 public:
  IndexedSentenceIterator(const std::vector<std::string>& sentences,
                          const std::vector<std::size_t>& order)
      : sentences_(sentences), order_(order) {}
  bool done() const override { return pos_ >= order_.size(); }
  void Next() override { ++pos_; }
  const std::string& value() const override { return sentences_[order_[pos_]]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  const std::vector<std::size_t>& order_;
  std::size_t pos_ = 0;
};

// Silences SentencePiece's INFO and WARNING logs during training (the
// "--minloglevel" argument is parsed only after the command is logged) and
// restores the process-wide level afterwards.
class QuietLogs {
 public:
  QuietLogs() : saved_(sentencepiece::logging::GetMinLogLevel()) {
    sentencepiece::logging::SetMinLogLevel(2);  // 0 INFO, 1 WARNING, 2 ERROR
  }
  ~QuietLogs() { sentencepiece::logging::SetMinLogLevel(saved_); }

 private:
  int saved_;
};

// Keeps at most `capacity` items from a stream: item k (0-based) replaces a
// uniformly drawn slot with probability capacity/(k+1) (Algorithm R), so every
// item is equally likely to be kept whatever the stream length.
class ReservoirSampler {
 public:
  explicit ReservoirSampler(std::size_t capacity) : capacity_(capacity), rng_(kSampleSeed) {}
  // The slot the k-th item goes to, or capacity() when it is dropped.
  std::size_t offer() {
    const std::size_t k = seen_++;
    if (k < capacity_) return k;
    const std::size_t j = std::uniform_int_distribution<std::size_t>(0, k)(rng_);
    return j < capacity_ ? j : capacity_;
  }
  std::size_t capacity() const { return capacity_; }
  std::size_t seen() const { return seen_; }

 private:
  std::size_t capacity_;
  std::size_t seen_ = 0;
  std::mt19937_64 rng_;
};

void write_file_or_throw(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    throw IoError(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_error = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    throw IoError(
        fmt::format("cannot write '{}': {}", path, std::strerror(written ? errno : write_error)));
  }
}

}  // namespace

void validate(const TokenizerTrainOptions& options) {
  if (options.model_type != "unigram" && options.model_type != "bpe") {
    throw UsageError(
        fmt::format("--model-type must be unigram or bpe, got '{}'", options.model_type));
  }
  // 4 special pieces plus at least a few characters.
  if (options.vocab_size < 8) {
    throw UsageError(fmt::format("--vocab-size must be at least 8, got {}", options.vocab_size));
  }
  if (!(options.character_coverage > 0.0f && options.character_coverage <= 1.0f)) {
    throw UsageError(
        fmt::format("--character-coverage must be in (0, 1], got {}", options.character_coverage));
  }
  if (options.max_sentences == 0) throw UsageError("--max-sentences must be at least 1");
  if (options.threads < 1) {
    throw UsageError(fmt::format("--threads must be at least 1, got {}", options.threads));
  }
}

std::string train_tokenizer(const std::vector<std::string>& sentences,
                            const TokenizerTrainOptions& options) {
  validate(options);

  // The non-empty sentences, reservoir-sampled down to max_sentences and then
  // put back in input order, so SentencePiece never samples (its sampling is
  // seeded globally) and the result depends on the input alone.
  std::vector<std::size_t> order;
  ReservoirSampler sampler(options.max_sentences);
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    if (sentences[i].empty()) continue;
    const std::size_t slot = sampler.offer();
    if (slot == order.size()) {
      order.push_back(i);
    } else if (slot < order.size()) {
      order[slot] = i;
    }
  }
  if (order.empty()) throw UsageError("no non-empty sentence to train the tokenizer on");
  std::sort(order.begin(), order.end());

  const std::string args = fmt::format(
      "--model_type={} --vocab_size={} --character_coverage={} --num_threads={} "
      "--hard_vocab_limit={} --pad_id={} --unk_id={} --bos_id={} --eos_id={} "
      "--normalization_rule_name={} --input_sentence_size=0 --minloglevel=2",
      options.model_type, options.vocab_size, options.character_coverage, options.threads,
      options.hard_vocab_limit ? "true" : "false", Tokenizer::kPadId, Tokenizer::kUnkId,
      Tokenizer::kBosId, Tokenizer::kEosId, options.lowercase ? "nmt_nfkc_cf" : "nmt_nfkc");

  IndexedSentenceIterator iterator(sentences, order);
  std::string serialized;
  sentencepiece::util::Status status;
  {
    QuietLogs quiet;
    status = sentencepiece::SentencePieceTrainer::Train(args, &iterator, &serialized);
  }
  if (!status.ok()) {
    throw UsageError(fmt::format("SentencePiece training failed ({} {} vocab on {} sentences): {}",
                                 options.model_type, options.vocab_size, order.size(),
                                 status.ToString()));
  }
  return serialized;
}

std::string vocab_text(const std::string& serialized_model) {
  sentencepiece::SentencePieceProcessor processor;
  const auto status = processor.LoadFromSerializedProto(serialized_model);
  if (!status.ok()) {
    throw ModelFileError(fmt::format("not a SentencePiece model: {}", status.ToString()));
  }
  std::string text;
  for (int id = 0; id < processor.GetPieceSize(); ++id) {
    text += fmt::format("{}\t{}\n", processor.IdToPiece(id), processor.GetScore(id));
  }
  return text;
}

std::size_t train_tokenizer_from_files(const std::vector<std::string>& paths,
                                       std::optional<CorpusFormat> format,
                                       const TokenizerTrainOptions& options,
                                       const std::string& out_prefix) {
  validate(options);
  if (paths.empty()) throw UsageError("no input file to train the tokenizer on");
  if (out_prefix.empty()) throw UsageError("--out must name an output prefix");

  // Stream every text column through a reservoir: memory stays bounded by
  // max_sentences whatever the corpus size.
  std::vector<std::string> kept;
  ReservoirSampler sampler(options.max_sentences);
  auto offer = [&](std::string& sentence) {
    if (sentence.empty()) return;
    const std::size_t slot = sampler.offer();
    if (slot == kept.size()) {
      kept.push_back(std::move(sentence));
    } else if (slot < kept.size()) {
      kept[slot] = std::move(sentence);
    }
  };
  for (const auto& path : paths) {
    const CorpusFormat file_format = format ? *format : corpus_format_from_path(path);
    const int columns = text_columns(file_format);
    CorpusReader reader(path, file_format);
    Record record;
    while (reader.next(record)) {
      offer(record.a);
      if (columns >= 2) offer(record.b);
      if (columns >= 3) offer(record.c);
    }
  }
  if (kept.empty()) {
    throw UsageError(
        fmt::format("the input files hold no non-empty sentence ({})", fmt::join(paths, ", ")));
  }

  const std::string serialized = train_tokenizer(kept, options);

  const std::filesystem::path model_path = out_prefix + ".model";
  if (model_path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(model_path.parent_path(), ec);
    if (ec) {
      throw IoError(fmt::format("cannot create directory '{}': {}",
                                model_path.parent_path().string(), ec.message()));
    }
  }
  write_file_or_throw(out_prefix + ".model", serialized);
  write_file_or_throw(out_prefix + ".vocab", vocab_text(serialized));
  return kept.size();
}

}  // namespace sentemb
