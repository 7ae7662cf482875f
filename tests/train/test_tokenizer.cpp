// Tokenizer training and use: special ids, encode/decode round trip, truncation,
// batching, serialization, error types.
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "sentemb/errors.h"
#include "sentemb/tokenizer.h"
#include "sentemb/train/tokenizer_trainer.h"
#include "test_util.h"

using sentemb::Tokenizer;
using sentemb::TokenizerTrainOptions;
namespace st = sentemb::test;

namespace {

std::vector<std::string> tiny_corpus_lines() {
  std::istringstream in(st::read_file(st::data_path("tokenizer/tiny_corpus.txt")));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() >= 300);
  return lines;
}

TokenizerTrainOptions tiny_options() {
  TokenizerTrainOptions options;
  options.vocab_size = 256;
  options.character_coverage = 1.0f;
  return options;
}

// Trained once and shared: training takes a fraction of a second, but several
// test cases use the same tokenizer.
const Tokenizer& trained_tiny() {
  static const Tokenizer tokenizer =
      Tokenizer::from_bytes(sentemb::train_tokenizer(tiny_corpus_lines(), tiny_options()));
  return tokenizer;
}

}  // namespace

TEST_CASE("trained tokenizer has the fixed special ids and the requested vocab", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  CHECK(tok.vocab_size() == 256);
  CHECK(tok.id_to_piece(Tokenizer::kPadId) == "<pad>");
  CHECK(tok.id_to_piece(Tokenizer::kUnkId) == "<unk>");
  CHECK(tok.id_to_piece(Tokenizer::kBosId) == "<s>");
  CHECK(tok.id_to_piece(Tokenizer::kEosId) == "</s>");
  CHECK(Tokenizer::kPadId == 0);
  CHECK(Tokenizer::kUnkId == 1);
  CHECK(Tokenizer::kBosId == 2);
  CHECK(Tokenizer::kEosId == 3);
}

TEST_CASE("encode starts with BOS and decode inverts it for ASCII text", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  for (const std::string text :
       {"The old man walked to the river.", "Where did the captain go?",
        "In 1929, the baker sold 42 apples (about 3.6 km away)!", "a basket of bread"}) {
    const std::vector<int> ids = tok.encode(text, 0);
    REQUIRE(ids.size() >= 2);
    CHECK(ids[0] == Tokenizer::kBosId);
    for (std::size_t i = 1; i < ids.size(); ++i) {
      CHECK(ids[i] > Tokenizer::kEosId);  // no specials among the pieces
      CHECK(ids[i] < tok.vocab_size());
    }
    CHECK(tok.decode(ids) == text);
  }
  // Normalization collapses and trims whitespace.
  CHECK(tok.decode(tok.encode("  the   old man  ", 0)) == "the old man");
}

TEST_CASE("non-ASCII text in the training corpus round-trips", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  CHECK(tok.decode(tok.encode("a naïve café in Zürich", 0)) == "a naïve café in Zürich");
  // A character never seen in training becomes <unk>.
  const std::vector<int> ids = tok.encode("the \xe4\xb8\xad river", 0);  // U+4E2D
  CHECK(std::count(ids.begin(), ids.end(), Tokenizer::kUnkId) == 1);
}

TEST_CASE("empty text encodes to BOS alone", "[tokenizer]") {
  CHECK(trained_tiny().encode("", 0) == std::vector<int>{Tokenizer::kBosId});
  CHECK(trained_tiny().encode("", 5) == std::vector<int>{Tokenizer::kBosId});
  CHECK(trained_tiny().pieces("").empty());
}

TEST_CASE("max_len truncation keeps BOS and counts it", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  const std::string text = "The little dog painted the green hills at night.";
  const std::vector<int> full = tok.encode(text, 0);
  REQUIRE(full.size() > 5);
  for (int max_len : {1, 2, 5}) {
    const std::vector<int> cut = tok.encode(text, max_len);
    CHECK(cut.size() == static_cast<std::size_t>(max_len));
    CHECK(cut == std::vector<int>(full.begin(), full.begin() + max_len));
  }
  CHECK(tok.encode(text, static_cast<int>(full.size())) == full);
  CHECK(tok.encode(text, 10'000) == full);
  CHECK(tok.encode(text, -1) == full);
}

TEST_CASE("pieces are the surface pieces of encode without BOS", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  const std::string text = "The teacher visited the market.";
  const std::vector<std::string> pieces = tok.pieces(text);
  const std::vector<int> ids = tok.encode(text, 0);
  REQUIRE(pieces.size() + 1 == ids.size());
  std::string joined;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    CHECK(tok.id_to_piece(ids[i + 1]) == pieces[i]);
    joined += pieces[i];
  }
  CHECK(joined ==
        "\xe2\x96\x81The\xe2\x96\x81teacher\xe2\x96\x81visited\xe2\x96\x81the"
        "\xe2\x96\x81market.");  // ▁ marks word starts
}

TEST_CASE("encode_batch equals encode per item in input order", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  std::vector<std::string> texts = tiny_corpus_lines();
  texts.resize(101);
  texts.push_back("");
  for (int max_len : {0, 6}) {
    std::vector<std::vector<int>> expected;
    for (const auto& t : texts) expected.push_back(tok.encode(t, max_len));
    for (int threads : {0, 1, 3, 500}) {
      INFO("threads " << threads << " max_len " << max_len);
      CHECK(tok.encode_batch(texts, max_len, threads) == expected);
    }
  }
  CHECK(tok.encode_batch({}, 0, 3).empty());
}

TEST_CASE("decode drops pad, bos and eos and rejects unknown ids", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  std::vector<int> ids = tok.encode("the river", 0);
  std::vector<int> padded = ids;
  padded.push_back(Tokenizer::kEosId);
  padded.push_back(Tokenizer::kPadId);
  padded.push_back(Tokenizer::kPadId);
  CHECK(tok.decode(padded) == "the river");
  CHECK(tok.decode({}) == "");
  CHECK_THROWS_AS(tok.decode({2, tok.vocab_size()}), sentemb::UsageError);
  CHECK_THROWS_AS(tok.decode({-1}), sentemb::UsageError);
  CHECK_THROWS_AS(tok.id_to_piece(tok.vocab_size()), sentemb::UsageError);
}

TEST_CASE("from_bytes(serialized()) gives the same tokenizer", "[tokenizer]") {
  const Tokenizer& tok = trained_tiny();
  Tokenizer copy = Tokenizer::from_bytes(tok.serialized());
  CHECK(copy.serialized() == tok.serialized());
  CHECK(copy.vocab_size() == tok.vocab_size());
  for (const auto& line : tiny_corpus_lines()) REQUIRE(copy.encode(line, 0) == tok.encode(line, 0));
  // Moves keep it usable.
  Tokenizer moved = std::move(copy);
  CHECK(moved.encode("the river", 0) == tok.encode("the river", 0));
}

TEST_CASE("from_file loads the committed tiny.model", "[tokenizer]") {
  Tokenizer tok = Tokenizer::from_file(st::data_path("tokenizer/tiny.model"));
  CHECK(tok.vocab_size() == 256);
  CHECK(tok.serialized() == st::read_file(st::data_path("tokenizer/tiny.model")));
  CHECK(tok.decode(tok.encode("The old man walked to the river.", 0)) ==
        "The old man walked to the river.");
}

TEST_CASE("loading errors have the right types", "[tokenizer]") {
  st::TempDir tmp;
  CHECK_THROWS_AS(Tokenizer::from_file(tmp.file("missing.model")), sentemb::IoError);
  CHECK_THROWS_WITH(Tokenizer::from_file(tmp.file("missing.model")),
                    Catch::Contains("missing.model"));
  CHECK_THROWS_AS(Tokenizer::from_file(tmp.path().string()), sentemb::IoError);  // a directory
  CHECK_THROWS_AS(Tokenizer::from_file(st::data_path("tokenizer/tiny_corpus.txt")),
                  sentemb::ModelFileError);
  st::write_file(tmp.file("empty.model"), "");
  CHECK_THROWS_AS(Tokenizer::from_file(tmp.file("empty.model")), sentemb::ModelFileError);
  // A truncated model file.
  const std::string bytes = st::read_file(st::data_path("tokenizer/tiny.model"));
  CHECK_THROWS_AS(Tokenizer::from_bytes(bytes.substr(0, bytes.size() / 2)),
                  sentemb::ModelFileError);
  CHECK_THROWS_AS(Tokenizer::from_bytes("not a model at all"), sentemb::ModelFileError);
  // A real SentencePiece model with spm_train's default ids (unk 0, bos 1, eos 2, no pad).
  CHECK_THROWS_WITH(Tokenizer::from_file(st::data_path("tokenizer/default_ids.model")),
                    Catch::Contains("special ids"));
}

TEST_CASE("training is deterministic", "[tokenizer]") {
  TokenizerTrainOptions options = tiny_options();
  options.threads = 2;
  const auto lines = tiny_corpus_lines();
  CHECK(sentemb::train_tokenizer(lines, options) == sentemb::train_tokenizer(lines, options));
}

TEST_CASE("bpe tokenizers train and round-trip", "[tokenizer]") {
  TokenizerTrainOptions options = tiny_options();
  options.model_type = "bpe";
  options.vocab_size = 200;
  Tokenizer tok = Tokenizer::from_bytes(sentemb::train_tokenizer(tiny_corpus_lines(), options));
  CHECK(tok.vocab_size() == 200);
  CHECK(tok.id_to_piece(Tokenizer::kBosId) == "<s>");
  CHECK(tok.decode(tok.encode("The old man walked to the river.", 0)) ==
        "The old man walked to the river.");
}

TEST_CASE("a too-small corpus gives a smaller vocab unless the limit is hard", "[tokenizer]") {
  const std::vector<std::string> few = {"the cat sat on the mat", "the dog sat on the log"};
  TokenizerTrainOptions options;
  options.vocab_size = 500;
  Tokenizer tok = Tokenizer::from_bytes(sentemb::train_tokenizer(few, options));
  CHECK(tok.vocab_size() < 500);
  CHECK(tok.vocab_size() > 4);
  options.hard_vocab_limit = true;
  CHECK_THROWS_AS(sentemb::train_tokenizer(few, options), sentemb::UsageError);
}

TEST_CASE("max_sentences samples a deterministic subset", "[tokenizer]") {
  TokenizerTrainOptions options = tiny_options();
  options.vocab_size = 150;
  options.max_sentences = 200;
  const auto lines = tiny_corpus_lines();
  const std::string a = sentemb::train_tokenizer(lines, options);
  CHECK(a == sentemb::train_tokenizer(lines, options));
  options.max_sentences = 1'000'000;
  CHECK(a != sentemb::train_tokenizer(lines, options));
}

TEST_CASE("bad training options and inputs throw UsageError", "[tokenizer]") {
  const auto lines = tiny_corpus_lines();
  TokenizerTrainOptions options = tiny_options();
  options.model_type = "wordpiece";
  CHECK_THROWS_WITH(sentemb::train_tokenizer(lines, options), Catch::Contains("wordpiece"));
  options = tiny_options();
  options.vocab_size = 4;
  CHECK_THROWS_AS(sentemb::train_tokenizer(lines, options), sentemb::UsageError);
  options = tiny_options();
  options.vocab_size = 20;  // fewer than the corpus' distinct characters
  CHECK_THROWS_WITH(sentemb::train_tokenizer(lines, options), Catch::Contains("character"));
  options = tiny_options();
  options.character_coverage = 1.5f;
  CHECK_THROWS_AS(sentemb::train_tokenizer(lines, options), sentemb::UsageError);
  options = tiny_options();
  options.threads = 0;
  CHECK_THROWS_AS(sentemb::train_tokenizer(lines, options), sentemb::UsageError);
  CHECK_THROWS_AS(sentemb::train_tokenizer({}, tiny_options()), sentemb::UsageError);
  CHECK_THROWS_AS(sentemb::train_tokenizer({"", ""}, tiny_options()), sentemb::UsageError);
}

TEST_CASE("train_tokenizer_from_files reads every text column and writes model and vocab",
          "[tokenizer]") {
  st::TempDir tmp;
  const auto lines = tiny_corpus_lines();
  // 200 pairs (400 sentences) in a .pairs.tsv plus 3 plain lines.
  std::string pairs;
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2)
    pairs += lines[i] + "\t" + lines[i + 1] + "\n";
  st::write_file(tmp.file("train.pairs.tsv"), pairs);
  st::write_file(tmp.file("extra.txt"), "one more line\nand another\nthe last one\n");
  const std::string prefix = tmp.file("out/tok");
  const std::size_t used = sentemb::train_tokenizer_from_files(
      {tmp.file("train.pairs.tsv"), tmp.file("extra.txt")}, std::nullopt, tiny_options(), prefix);
  CHECK(used == lines.size() / 2 * 2 + 3);
  Tokenizer tok = Tokenizer::from_file(prefix + ".model");
  CHECK(tok.vocab_size() == 256);
  const std::string vocab = st::read_file(prefix + ".vocab");
  CHECK(std::count(vocab.begin(), vocab.end(), '\n') == 256);
  CHECK(vocab.rfind("<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\n", 0) == 0);

  // Forcing the text format reads each pairs line as one sentence.
  const std::size_t as_text = sentemb::train_tokenizer_from_files(
      {tmp.file("train.pairs.tsv")}, sentemb::CorpusFormat::kText, tiny_options(), prefix);
  CHECK(as_text == lines.size() / 2);

  CHECK_THROWS_AS(sentemb::train_tokenizer_from_files({tmp.file("nope.txt")}, std::nullopt,
                                                      tiny_options(), prefix),
                  sentemb::IoError);
  st::write_file(tmp.file("bad.pairs.tsv"), "only one column\n");
  CHECK_THROWS_AS(sentemb::train_tokenizer_from_files({tmp.file("bad.pairs.tsv")}, std::nullopt,
                                                      tiny_options(), prefix),
                  sentemb::InputError);
}

TEST_CASE("a lowercase tokenizer folds case at encode time, and the default keeps it",
          "[tokenizer]") {
  TokenizerTrainOptions options = tiny_options();
  options.lowercase = true;
  const Tokenizer folding =
      Tokenizer::from_bytes(sentemb::train_tokenizer(tiny_corpus_lines(), options));
  // A corpus line in lower case, and the same with every ASCII letter upper-cased.
  std::string lower = tiny_corpus_lines().front(), mixed = lower;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : mixed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(mixed != lower);
  CHECK(folding.encode(mixed, 0) == folding.encode(lower, 0));
  CHECK(folding.decode(folding.encode(mixed, 0)) == lower);
  // The rule travels in the serialized model, so a reloaded tokenizer folds too.
  const Tokenizer reloaded = Tokenizer::from_bytes(folding.serialized());
  CHECK(reloaded.encode(mixed, 0) == folding.encode(lower, 0));
  CHECK(trained_tiny().encode(mixed, 0) != trained_tiny().encode(lower, 0));
}
