// Trains a SentencePiece tokenizer (unigram or BPE) with sentemb's fixed special
// ids (pad 0, unk 1, bos 2, eos 3) from in-memory sentences or corpus files.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sentemb/corpus.h"

namespace sentemb {

struct TokenizerTrainOptions {
  int vocab_size = 8000;
  std::string model_type = "unigram";  // or "bpe"; UsageError otherwise
  float character_coverage = 0.9995f;  // in (0, 1]
  // Case-fold in the tokenizer's normaliser (SentencePiece nmt_nfkc_cf): "A" and "a"
  // share pieces, at training and at every later encode, since the rule is saved in
  // the model. Helps small vocabularies on mixed-case text.
  bool lowercase = false;
  // When there are more sentences, this many are drawn by a seeded reservoir
  // sample (deterministic for the same input), so memory stays bounded.
  std::size_t max_sentences = 1'000'000;
  int threads = 2;
  bool hard_vocab_limit = false;  // false: allow a smaller vocab when the text is too small
};

// Checks the options; throws UsageError naming the bad one.
void validate(const TokenizerTrainOptions& options);

// Trains on the given sentences (empty ones are ignored) and returns the
// serialized .model bytes, usable with Tokenizer::from_bytes. The same input
// and options give the same bytes (threads included: SentencePiece records the
// thread count in the model and sums its statistics per thread). Throws UsageError for bad options,
// no non-empty sentence, or a vocabulary SentencePiece cannot reach.
std::string train_tokenizer(const std::vector<std::string>& sentences,
                            const TokenizerTrainOptions& options);

// Reads every text column of the given corpus files (the format of each file
// from corpus_format_from_path, or `format` for all when given), trains, and
// writes PREFIX.model and PREFIX.vocab (one "piece TAB score" line per id).
// Returns the number of sentences used (at most options.max_sentences).
// Throws InputError for a bad line, IoError for unreadable/unwritable files.
std::size_t train_tokenizer_from_files(const std::vector<std::string>& paths,
                                       std::optional<CorpusFormat> format,
                                       const TokenizerTrainOptions& options,
                                       const std::string& out_prefix);

// The "piece TAB score" lines of a serialized model, as SentencePiece writes
// them to a .vocab file.
std::string vocab_text(const std::string& serialized_model);

}  // namespace sentemb
