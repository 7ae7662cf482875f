// Corpus readers: every format on good input, every kind of bad line in fail
// and skip mode, and the awkward files (CRLF, no final newline, empty, NUL
// bytes, invalid UTF-8, a 10 MB line).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/errors.h"
#include "test_util.h"

using namespace sentemb;
using sentemb::test::data_path;
using sentemb::test::TempDir;
using sentemb::test::write_file;

namespace {

std::string corpus_path(const std::string& name) {
  return data_path("corpus/" + name);
}

std::vector<Record> read(const std::string& name, CorpusFormat format, ReaderOptions options = {}) {
  return read_corpus(corpus_path(name), format, options);
}

// Message of the InputError thrown while reading a whole file in fail mode.
std::string fail_message(const std::string& path, CorpusFormat format, ReaderOptions options = {}) {
  try {
    read_corpus(path, format, options);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError reading " << path);
  return "";
}

ReaderOptions skip_mode() {
  ReaderOptions options;
  options.on_bad_line = OnBadLine::kSkip;
  return options;
}

}  // namespace

TEST_CASE("format names round-trip and unknown names are a usage error", "[corpus]") {
  for (auto format : {CorpusFormat::kText, CorpusFormat::kPairs, CorpusFormat::kTriplets,
                      CorpusFormat::kLabeled, CorpusFormat::kSts, CorpusFormat::kGroups}) {
    CHECK(corpus_format_from_string(to_string(format)) == format);
  }
  CHECK(to_string(CorpusFormat::kLabeled) == "labeled");
  CHECK_THROWS_AS(corpus_format_from_string("pair"), UsageError);
  CHECK_THROWS_WITH(corpus_format_from_string("csv"),
                    Catch::Contains("csv") && Catch::Contains("triplets"));
  CHECK(corpus_format_names() == "text, pairs, triplets, labeled, sts, groups");
}

TEST_CASE("the format is guessed from the file name", "[corpus]") {
  CHECK(corpus_format_from_path("data/train.pairs.tsv") == CorpusFormat::kPairs);
  CHECK(corpus_format_from_path("snli.triplets.tsv") == CorpusFormat::kTriplets);
  CHECK(corpus_format_from_path("x.labeled.tsv") == CorpusFormat::kLabeled);
  CHECK(corpus_format_from_path("/a/b/stsb.sts.tsv") == CorpusFormat::kSts);
  CHECK(corpus_format_from_path("coco.groups.tsv") == CorpusFormat::kGroups);
  CHECK(corpus_format_from_path("sentences.txt") == CorpusFormat::kText);
  CHECK(corpus_format_from_path("other.tsv") == CorpusFormat::kText);
  CHECK(corpus_format_from_path("pairs.tsv.bak") == CorpusFormat::kText);
  CHECK(corpus_format_from_path("-") == CorpusFormat::kText);
}

TEST_CASE("column counts per format", "[corpus]") {
  CHECK(text_columns(CorpusFormat::kText) == 1);
  CHECK(text_columns(CorpusFormat::kPairs) == 2);
  CHECK(text_columns(CorpusFormat::kTriplets) == 3);
  CHECK(text_columns(CorpusFormat::kLabeled) == 2);
  CHECK(text_columns(CorpusFormat::kSts) == 2);
  CHECK(text_columns(CorpusFormat::kGroups) == 1);
  CHECK(line_columns(CorpusFormat::kLabeled) == 3);
  CHECK(line_columns(CorpusFormat::kGroups) == 2);
}

TEST_CASE("text: one record per line, empty lines included", "[corpus]") {
  auto records = read("lines.txt", CorpusFormat::kText);
  REQUIRE(records.size() == 4);
  CHECK(records[0].a == "first line");
  CHECK(records[1].a.empty());
  CHECK(records[1].line == 2);
  CHECK(records[2].a == "third line\twith a tab");  // tabs are part of the sentence
  CHECK(records[3].a ==
        "Caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 \xE2\x80\x9Cquoted\xE2\x80\x9D "
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x99\x82");
  CHECK(records[3].line == 4);
}

TEST_CASE("pairs", "[corpus]") {
  auto records = read("good.pairs.tsv", CorpusFormat::kPairs);
  REQUIRE(records.size() == 3);
  CHECK(records[0].a == "The cat sat.");
  CHECK(records[0].b == "A cat was sitting.");
  CHECK(records[0].c.empty());
  CHECK(records[2].a ==
        "\xC3\x9C"
        "ber alles.");
  CHECK(records[2].line == 3);
}

TEST_CASE("triplets", "[corpus]") {
  auto records = read("good.triplets.tsv", CorpusFormat::kTriplets);
  REQUIRE(records.size() == 2);
  CHECK(records[1].a == "Dogs bark.");
  CHECK(records[1].b == "A dog is barking.");
  CHECK(records[1].c == "Cats purr.");
}

TEST_CASE("labeled", "[corpus]") {
  auto records = read("good.labeled.tsv", CorpusFormat::kLabeled);
  REQUIRE(records.size() == 3);
  CHECK(records[0].score == 1.0f);
  CHECK(records[0].a == "How old are you?");
  CHECK(records[0].b == "What is your age?");
  CHECK(records[1].score == 0.0f);
  CHECK(records[1].b == "Where do you live?");
  CHECK(records[2].score == 1.0f);  // "1.0" is the label 1
}

TEST_CASE("sts", "[corpus]") {
  auto records = read("good.sts.tsv", CorpusFormat::kSts);
  REQUIRE(records.size() == 4);
  CHECK(records[0].score == Approx(4.5f));
  CHECK(records[0].a == "A plane is taking off.");
  CHECK(records[0].b == "An air plane is taking off.");
  CHECK(records[1].score == 0.0f);
  CHECK(records[2].score == Approx(3.25f));
  CHECK(records[3].score == Approx(-0.1f));
}

TEST_CASE("groups", "[corpus]") {
  auto records = read("good.groups.tsv", CorpusFormat::kGroups);
  REQUIRE(records.size() == 3);
  CHECK(records[0].group == "img1");
  CHECK(records[0].a == "A dog runs on grass.");
  CHECK(records[1].group == "img1");
  CHECK(records[2].group == "img2");
  CHECK(records[2].a == "Two people on a beach.");
  CHECK(records[2].b.empty());
}

TEST_CASE("a reused Record carries nothing over from the previous line", "[corpus]") {
  TempDir tmp;
  std::string path = tmp.file("mixed.sts.tsv");
  write_file(path, "4\tlong first sentence a\tlong first sentence b\n1\tx\ty\n");
  CorpusReader reader(path, CorpusFormat::kSts);
  Record record;
  REQUIRE(reader.next(record));
  REQUIRE(reader.next(record));
  CHECK(record.a == "x");
  CHECK(record.b == "y");
  CHECK(record.score == 1.0f);
  CHECK(record.line == 2);
  CHECK_FALSE(reader.next(record));
  CHECK_FALSE(reader.next(record));  // stays at the end
}

TEST_CASE("CRLF line endings are stripped", "[corpus]") {
  auto pairs = read("crlf.pairs.tsv", CorpusFormat::kPairs);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].b == "right one");
  CHECK(pairs[1].b == "right two");
  auto lines = read("crlf.txt", CorpusFormat::kText);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].a == "first");
  CHECK(lines[1].a.empty());
  CHECK(lines[2].a == "last");
  // Only one \r is stripped: a \r inside the text stays.
  TempDir tmp;
  write_file(tmp.file("cr.txt"), "a\r\r\nb\rc\n");
  auto cr = read_corpus(tmp.file("cr.txt"), CorpusFormat::kText);
  REQUIRE(cr.size() == 2);
  CHECK(cr[0].a == "a\r");
  CHECK(cr[1].a == "b\rc");
}

TEST_CASE("a file without a final newline keeps its last line", "[corpus]") {
  auto pairs = read("no_final_newline.pairs.tsv", CorpusFormat::kPairs);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[1].a == "a two");
  CHECK(pairs[1].b == "b two");
  auto lines = read("no_final_newline.txt", CorpusFormat::kText);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].a == "two");
}

TEST_CASE("an empty file gives zero records", "[corpus]") {
  CHECK(read("empty.txt", CorpusFormat::kText).empty());
  CorpusReader reader(corpus_path("empty.pairs.tsv"), CorpusFormat::kPairs);
  Record record;
  CHECK_FALSE(reader.next(record));
  CHECK(reader.line_number() == 0);
  CHECK(reader.records_read() == 0);
  CHECK(reader.skip_summary().empty());
}

TEST_CASE("a UTF-8 byte order mark at the start is stripped", "[corpus]") {
  auto records = read("bom.pairs.tsv", CorpusFormat::kPairs);
  REQUIRE(records.size() == 1);
  CHECK(records[0].a == "with bom");
}

TEST_CASE("counters track lines and records", "[corpus]") {
  CorpusReader reader(corpus_path("lines.txt"), CorpusFormat::kText);
  CHECK(reader.path() == corpus_path("lines.txt"));
  CHECK(reader.format() == CorpusFormat::kText);
  Record record;
  REQUIRE(reader.next(record));
  REQUIRE(reader.next(record));
  CHECK(reader.line_number() == 2);
  CHECK(reader.records_read() == 2);
  while (reader.next(record)) {
  }
  CHECK(reader.line_number() == 4);
  CHECK(reader.records_read() == 4);
  CHECK(reader.lines_skipped() == 0);
}

TEST_CASE("a missing file is an IoError naming the path", "[corpus]") {
  std::string path = corpus_path("does_not_exist.pairs.tsv");
  CHECK_THROWS_AS(CorpusReader(path, CorpusFormat::kPairs), IoError);
  CHECK_THROWS_WITH(CorpusReader(path, CorpusFormat::kPairs),
                    Catch::Contains("does_not_exist.pairs.tsv"));
}

TEST_CASE("a directory is an IoError naming the path", "[corpus]") {
  TempDir tmp;
  CHECK_THROWS_WITH(read_corpus(tmp.path().string(), CorpusFormat::kText),
                    Catch::Contains(tmp.path().string()));
}

TEST_CASE("bad lines fail with file:line and the reason", "[corpus]") {
  SECTION("wrong column count") {
    std::string path = corpus_path("bad_columns.pairs.tsv");
    std::string message = fail_message(path, CorpusFormat::kPairs);
    CHECK_THAT(message, Catch::StartsWith(path + ":2: "));
    CHECK_THAT(message, Catch::Contains("expected 2 columns, found 3"));
  }
  SECTION("too few columns") {
    TempDir tmp;
    write_file(tmp.file("t.triplets.tsv"), "a\tb\tc\na\tb\n");
    CHECK_THAT(fail_message(tmp.file("t.triplets.tsv"), CorpusFormat::kTriplets),
               Catch::Contains("t.triplets.tsv:2: expected 3 columns, found 2"));
  }
  SECTION("empty field") {
    std::string path = corpus_path("bad_empty_field.pairs.tsv");
    CHECK_THAT(fail_message(path, CorpusFormat::kPairs),
               Catch::StartsWith(path + ":2: ") && Catch::Contains("column 1 of 2 is empty"));
  }
  SECTION("blank line in a TSV format") {
    std::string path = corpus_path("bad_blank_line.pairs.tsv");
    CHECK_THAT(fail_message(path, CorpusFormat::kPairs),
               Catch::Contains("bad_blank_line.pairs.tsv:2: expected 2 columns, found 1"));
  }
  SECTION("label other than 0 or 1") {
    std::string path = corpus_path("bad_label.labeled.tsv");
    CHECK_THAT(fail_message(path, CorpusFormat::kLabeled),
               Catch::Contains("bad_label.labeled.tsv:2: ") &&
                   Catch::Contains("label must be 0 or 1, found '2'"));
  }
  SECTION("score that is not a finite number") {
    std::string path = corpus_path("bad_score.sts.tsv");
    CHECK_THAT(fail_message(path, CorpusFormat::kSts),
               Catch::Contains("bad_score.sts.tsv:2: ") && Catch::Contains("'nan'"));
  }
  SECTION("empty group") {
    std::string path = corpus_path("bad_group.groups.tsv");
    CHECK_THAT(fail_message(path, CorpusFormat::kGroups),
               Catch::Contains("bad_group.groups.tsv:2: column 1 of 2 is empty"));
  }
  SECTION("InputError carries the file and line") {
    std::string path = corpus_path("bad_columns.pairs.tsv");
    try {
      read_corpus(path, CorpusFormat::kPairs);
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK(e.file() == path);
      CHECK(e.line() == 2);
    }
  }
}

TEST_CASE("records before a bad line are returned before the error", "[corpus]") {
  CorpusReader reader(corpus_path("bad_columns.pairs.tsv"), CorpusFormat::kPairs);
  Record record;
  REQUIRE(reader.next(record));
  CHECK(record.a == "good a");
  CHECK_THROWS_AS(reader.next(record), InputError);
}

TEST_CASE("skip mode counts bad lines and summarises the first", "[corpus]") {
  SECTION("columns") {
    std::string path = corpus_path("bad_columns.pairs.tsv");
    CorpusReader reader(path, CorpusFormat::kPairs, skip_mode());
    std::vector<std::string> firsts;
    Record record;
    while (reader.next(record)) firsts.push_back(record.a);
    CHECK(firsts == std::vector<std::string>{"good a", "good a2", "good a3"});
    CHECK(reader.lines_skipped() == 2);
    CHECK(reader.records_read() == 3);
    CHECK(reader.line_number() == 5);
    CHECK(reader.skip_summary() == "skipped 2 bad lines of " + path + " (first: " + path +
                                       ":2: expected 2 columns, found 3)");
  }
  SECTION("empty fields, including a whitespace-only one") {
    CorpusReader reader(corpus_path("bad_empty_field.pairs.tsv"), CorpusFormat::kPairs,
                        skip_mode());
    Record record;
    while (reader.next(record)) {
    }
    CHECK(reader.records_read() == 2);
    CHECK(reader.lines_skipped() == 2);
  }
  SECTION("labels") {
    CorpusReader reader(corpus_path("bad_label.labeled.tsv"), CorpusFormat::kLabeled, skip_mode());
    Record record;
    std::vector<float> labels;
    while (reader.next(record)) labels.push_back(record.score);
    CHECK(labels == std::vector<float>{1, 0});
    CHECK(reader.lines_skipped() == 2);
    CHECK_THAT(reader.skip_summary(), Catch::StartsWith("skipped 2 bad lines of "));
  }
  SECTION("scores: nan, text, inf, overflow, trailing junk") {
    auto records = read("bad_score.sts.tsv", CorpusFormat::kSts, skip_mode());
    REQUIRE(records.size() == 2);
    CHECK(records[0].score == 4.0f);
    CHECK(records[1].score == 3.5f);
    CHECK(records[1].line == 3);
    CorpusReader reader(corpus_path("bad_score.sts.tsv"), CorpusFormat::kSts, skip_mode());
    Record record;
    while (reader.next(record)) {
    }
    CHECK(reader.lines_skipped() == 5);
  }
  SECTION("a single skipped line") {
    CorpusReader reader(corpus_path("bad_group.groups.tsv"), CorpusFormat::kGroups, skip_mode());
    Record record;
    while (reader.next(record)) {
    }
    CHECK_THAT(reader.skip_summary(), Catch::StartsWith("skipped 1 bad line of "));
  }
}

TEST_CASE("extra columns are accepted only when allowed", "[corpus]") {
  std::string path = corpus_path("good.triplets.tsv");
  CHECK_THAT(fail_message(path, CorpusFormat::kPairs),
             Catch::Contains(":1: expected 2 columns, found 3"));
  ReaderOptions options;
  options.allow_extra_columns = true;
  auto records = read_corpus(path, CorpusFormat::kPairs, options);
  REQUIRE(records.size() == 2);
  CHECK(records[0].a == "A man plays guitar.");
  CHECK(records[0].b == "Someone plays music.");
  CHECK(records[0].c.empty());
  // Too few columns is still an error.
  CHECK_THAT(fail_message(corpus_path("bad_columns.pairs.tsv"), CorpusFormat::kPairs, options),
             Catch::Contains(":4: expected at least 2 columns, found 1"));
}

TEST_CASE("a NUL byte is an error naming the line and column", "[corpus]") {
  TempDir tmp;
  std::string path = tmp.file("nul.txt");
  write_file(path, std::string("fine\nbro\0ken\nfine again\n", 25));
  CHECK_THAT(fail_message(path, CorpusFormat::kText),
             Catch::Contains("nul.txt:2: NUL byte at byte column 4"));
  auto records = read_corpus(path, CorpusFormat::kText, skip_mode());
  REQUIRE(records.size() == 2);
  CHECK(records[1].a == "fine again");
  CHECK(records[1].line == 3);
}

TEST_CASE("invalid UTF-8 is an error naming the line and byte column", "[corpus]") {
  TempDir tmp;
  SECTION("overlong") {
    write_file(tmp.file("bad.txt"), "ok\nok\nslash \xC0\xAF here\n");
    CHECK_THAT(fail_message(tmp.file("bad.txt"), CorpusFormat::kText),
               Catch::Contains("bad.txt:3: invalid UTF-8 at byte column 7"));
  }
  SECTION("truncated sequence") {
    write_file(tmp.file("bad.pairs.tsv"), "euro \xE2\x82\tb\n");
    CHECK_THAT(fail_message(tmp.file("bad.pairs.tsv"), CorpusFormat::kPairs),
               Catch::Contains("bad.pairs.tsv:1: invalid UTF-8 at byte column 6"));
  }
  SECTION("truncated at the end of the file") {
    write_file(tmp.file("bad.txt"), "good\nends in \xF0\x9F\x99");
    CHECK_THAT(fail_message(tmp.file("bad.txt"), CorpusFormat::kText),
               Catch::Contains("bad.txt:2: invalid UTF-8 at byte column 9"));
  }
  SECTION("surrogate") {
    write_file(tmp.file("bad.groups.tsv"), "g\t\xED\xA0\x80\n");
    CHECK_THAT(fail_message(tmp.file("bad.groups.tsv"), CorpusFormat::kGroups),
               Catch::Contains("bad.groups.tsv:1: invalid UTF-8 at byte column 3"));
  }
  SECTION("skip mode") {
    write_file(tmp.file("bad.txt"), "a\n\xFF\nb\n\xC3\n");
    CorpusReader reader(tmp.file("bad.txt"), CorpusFormat::kText, skip_mode());
    Record record;
    std::vector<std::string> lines;
    while (reader.next(record)) lines.push_back(record.a);
    CHECK(lines == std::vector<std::string>{"a", "b"});
    CHECK(reader.lines_skipped() == 2);
    CHECK_THAT(reader.skip_summary(), Catch::Contains("bad.txt:2: invalid UTF-8 at byte column 1"));
  }
}

TEST_CASE("a 10 MB line is read whole", "[corpus]") {
  TempDir tmp;
  std::string path = tmp.file("long.pairs.tsv");
  std::string a(10 * 1024 * 1024, 'x');
  a[12345] = 'y';
  write_file(path, "short\tpair\n" + a + "\tend\nlast\tpair\n");
  auto records = read_corpus(path, CorpusFormat::kPairs);
  REQUIRE(records.size() == 3);
  CHECK(records[1].a == a);
  CHECK(records[1].b == "end");
  CHECK(records[2].a == "last");
}
