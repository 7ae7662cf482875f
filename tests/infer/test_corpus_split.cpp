// split_text_file and the reader of a part (sharded encoding, issue 19): the parts'
// lines, read one part after another, are the file's lines, with their own numbers.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/errors.h"
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

TEST_CASE("windowed parts start at the window start nearest their byte target", "[corpus]") {
  test::TempDir tmp;
  const std::string path = tmp.file("in.txt");
  // 10 lines of 10 bytes: window starts every 3 lines at bytes 0, 30, 60, 90.
  std::string text;
  for (int i = 0; i < 10; ++i) text += "line " + std::to_string(i) + "...\n";
  REQUIRE(text.size() == 100);
  test::write_file(path, text);
  // 2 parts: target 50 is nearer 60 than 30.
  const auto two = split_text_file(path, 2, 3);
  REQUIRE(two.size() == 2);
  CHECK(two[0].begin == 0);
  CHECK(two[0].end == 60);
  CHECK(two[1].begin == 60);
  CHECK(two[1].first_line == 6);
  CHECK(two[1].end == 100);
  // 4 parts: targets 25 -> 30, 50 -> 60, and 75, as near 60 as 90, the earlier: 60.
  // Part 2 is then empty, moved to the end.
  const auto four = split_text_file(path, 4, 3);
  CHECK(four[1].begin == 30);
  CHECK(four[1].end == 60);
  CHECK(four[2].begin == 100);
  CHECK(four[2].end == 100);
  CHECK(four[3].begin == 60);
  CHECK(four[3].first_line == 6);
  // More parts than windows: the extra parts are empty, at the end.
  const auto many = split_text_file(path, 8, 5);  // window starts 0, 50, 100 (the end)
  for (const auto& part : many) {
    INFO("part from " << part.begin << " to " << part.end);
    CHECK((part.begin % 50 == 0));
    CHECK((part.begin == part.end ? part.begin == 100 : true));
  }
  CHECK_THROWS_AS(split_text_file(path, 0, 3), UsageError);
  CHECK_THROWS_AS(split_text_file(path, 2, 0), UsageError);
  CHECK_THROWS_AS(split_text_file(tmp.file("missing.txt"), 2, 3), IoError);
}
