// `sentemb tokenizer train|encode|decode`: train a SentencePiece tokenizer on
// corpus files and inspect how it splits text.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "sentemb/corpus.h"
#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"
#include "sentemb/train/tokenizer_trainer.h"
#include "sentemb/utf8.h"

namespace sentemb::cli {
namespace {

constexpr const char* kStdinName = "<stdin>";

// Reads stdin line by line with the line number; strips a trailing "\r" (CRLF
// input) and a UTF-8 byte order mark at the start.
class StdinLines {
 public:
  StdinLines() { std::ios::sync_with_stdio(false); }
  bool next(std::string& line) {
    if (!std::getline(std::cin, line)) return false;
    ++number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number_ == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    return true;
  }
  std::size_t number() const { return number_; }

 private:
  std::size_t number_ = 0;
};

void add_train(CLI::App& parent) {
  auto* cmd = parent.add_subcommand(
      "train",
      "Train a SentencePiece tokenizer (pad 0, unk 1, bos 2, eos 3) on every text column of "
      "the input files; writes PREFIX.model and PREFIX.vocab");
  struct Args {
    std::vector<std::string> inputs;
    std::string format = "auto";
    std::string out;
    TokenizerTrainOptions options;
  };
  auto args = std::make_shared<Args>();
  std::vector<std::string> formats = {"auto",    "text", "pairs", "triplets",
                                      "labeled", "sts",  "groups"};
  cmd->add_option("--input,-i", args->inputs,
                  "Corpus file to read (repeat for several; '-' is stdin)")
      ->required();
  cmd->add_option("--format", args->format,
                  "Corpus format of every input; auto: from each file name (*.pairs.tsv, "
                  "*.triplets.tsv, *.labeled.tsv, *.sts.tsv, *.groups.tsv, else text)")
      ->check(CLI::IsMember(formats));
  cmd->add_option("--vocab-size", args->options.vocab_size, "Number of pieces, specials included")
      ->required()
      ->default_str("")  // required: no default to show
      ->check(CLI::Range(8, 1'000'000));
  cmd->add_option("--model-type", args->options.model_type, "SentencePiece algorithm")
      ->check(CLI::IsMember({"unigram", "bpe"}));
  cmd->add_option("--character-coverage", args->options.character_coverage,
                  "Fraction of characters covered by the vocab; the rarest rest become <unk>")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--max-sentences", args->options.max_sentences,
                  "Train on a deterministic random sample of at most this many sentences")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->options.threads, "Training threads")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--lowercase", args->options.lowercase,
                "Case-fold text in the tokenizer (SentencePiece nmt_nfkc_cf), at training and "
                "every later encode");
  cmd->add_flag("--hard-vocab-limit", args->options.hard_vocab_limit,
                "Fail instead of producing a smaller vocab when the text is too small");
  cmd->add_option("--out,-o", args->out, "Output prefix: writes PREFIX.model and PREFIX.vocab")
      ->required();
  cmd->callback([args] {
    std::optional<CorpusFormat> format;
    if (args->format != "auto") format = corpus_format_from_string(args->format);
    const auto start = std::chrono::steady_clock::now();
    const std::size_t sentences =
        train_tokenizer_from_files(args->inputs, format, args->options, args->out);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const Tokenizer tokenizer = Tokenizer::from_file(args->out + ".model");
    fmt::print(
        stderr, "trained {} tokenizer: {} sentences, vocab {}, {:.1f} s -> {}.model, {}.vocab\n",
        args->options.model_type, sentences, tokenizer.vocab_size(), seconds, args->out, args->out);
  });
}

void add_encode(CLI::App& parent) {
  auto* cmd = parent.add_subcommand(
      "encode",
      "Tokenize stdin line by line: one output line per input line, space-separated ids "
      "(BOS first) or pieces");
  struct Args {
    std::string model;
    bool pieces = false;
    int max_len = 0;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--model,-m", args->model, "Tokenizer file (.model)")->required();
  cmd->add_flag("--pieces", args->pieces, "Print the pieces instead of ids (no BOS)");
  cmd->add_option(
         "--max-len", args->max_len,
         "Keep at most this many ids per line, BOS included (with --pieces: pieces); 0: no limit")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args] {
    const Tokenizer tokenizer = Tokenizer::from_file(args->model);
    StdinLines lines;
    std::string line, out;
    while (lines.next(line)) {
      std::size_t bad = 0;
      if (!is_valid_utf8(line, &bad)) {
        throw InputError(kStdinName, lines.number(),
                         fmt::format("invalid UTF-8 at byte {}", bad + 1));
      }
      out.clear();
      if (args->pieces) {
        std::vector<std::string> pieces = tokenizer.pieces(line);
        if (args->max_len > 0 && pieces.size() > static_cast<std::size_t>(args->max_len)) {
          pieces.resize(args->max_len);
        }
        out = fmt::format("{}\n", fmt::join(pieces, " "));
      } else {
        out = fmt::format("{}\n", fmt::join(tokenizer.encode(line, args->max_len), " "));
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    std::fflush(stdout);
  });
}

void add_decode(CLI::App& parent) {
  auto* cmd = parent.add_subcommand(
      "decode", "Turn space-separated ids on stdin back into text, one line per line");
  auto model = std::make_shared<std::string>();
  cmd->add_option("--model,-m", *model, "Tokenizer file (.model)")->required();
  cmd->callback([model] {
    const Tokenizer tokenizer = Tokenizer::from_file(*model);
    StdinLines lines;
    std::string line;
    std::vector<int> ids;
    while (lines.next(line)) {
      ids.clear();
      const char* p = line.c_str();
      while (true) {
        while (*p == ' ' || *p == '\t') ++p;
        if (*p == '\0') break;
        char* end = nullptr;
        const long id = std::strtol(p, &end, 10);
        const std::string token(p, end == p ? std::strcspn(p, " \t") : end - p);
        if (end == p || (*end != '\0' && *end != ' ' && *end != '\t')) {
          throw InputError(
              kStdinName, lines.number(),
              fmt::format("'{}' is not a token id", std::string(p, std::strcspn(p, " \t"))));
        }
        if (id < 0 || id >= tokenizer.vocab_size()) {
          throw InputError(kStdinName, lines.number(),
                           fmt::format("token id {} is outside the vocabulary [0, {})", token,
                                       tokenizer.vocab_size()));
        }
        ids.push_back(static_cast<int>(id));
        p = end;
      }
      const std::string out = tokenizer.decode(ids) + "\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    std::fflush(stdout);
  });
}

}  // namespace

void add_tokenizer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenizer", "Train and inspect SentencePiece tokenizers");
  cmd->require_subcommand(1);
  add_train(*cmd);
  add_encode(*cmd);
  add_decode(*cmd);
}

}  // namespace sentemb::cli
