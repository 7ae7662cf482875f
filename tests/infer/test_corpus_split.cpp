// split_text_file and the reader of a part (sharded encoding, issue 19): the parts'
// lines, read one part after another, are the file's lines, with their own numbers.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "test_util.h"

using namespace sentemb;

namespace {

// (line number, text) of every line of `path`, read part after part.
std::vector<std::pair<std::size_t, std::string>> read_in_parts(const std::string& path, int parts,
                                                               std::size_t max_text_bytes) {
  std::vector<std::pair<std::size_t, std::string>> lines;
  for (const TextFilePart& part : split_text_file(path, parts)) {
    ReaderOptions options;
    options.begin = part.begin;
    options.end = part.end;
    options.first_line = part.first_line;
    options.max_text_bytes = max_text_bytes;
    CorpusReader reader(path, CorpusFormat::kText, options);
    for (Record r; reader.next(r);) lines.emplace_back(r.line, r.a);
  }
  return lines;
}

}  // namespace

TEST_CASE("the parts of a text file hold its lines, in order, numbered as in the file",
          "[corpus]") {
  test::TempDir tmp;
  const std::vector<std::string> contents = {
      "",
      "one line without a newline",
      "\xEF\xBB\xBF"
      "bom\nsecond\r\nthird\n\n\nsixth\n",
      "a\nbb\nccc\ndddd\neeeee\nffffff\nggggggg\nhhhhhhhh\n" + std::string(300, 'x') + "\nlast",
  };
  for (const auto& text : contents) {
    const std::string path = tmp.file("in.txt");
    test::write_file(path, text);
    for (std::size_t bound : {std::size_t(0), std::size_t(16)}) {
      const auto whole = read_in_parts(path, 1, bound);
      for (int parts : {2, 3, 7, 50}) {
        INFO("parts " << parts << ", bounded " << bound << ", text " << text.size() << " bytes");
        CHECK(read_in_parts(path, parts, bound) == whole);
        const auto split = split_text_file(path, parts);
        CHECK(split.back().end == text.size());
      }
    }
  }
}
