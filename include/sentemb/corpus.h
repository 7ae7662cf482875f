// Streaming readers for the corpus formats: one sentence per line (text) or
// tab-separated records (pairs, triplets, labeled pairs, STS pairs, groups).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentemb {

// The record layouts, one record per line:
//   text      sentence                     (an empty line is a record: a = "")
//   pairs     a TAB b                      (paraphrases / positives)
//   triplets  anchor TAB positive TAB negative
//   labeled   label TAB a TAB b            (label 0 or 1)
//   sts       score TAB a TAB b            (a finite number, e.g. 0..5)
//   groups    group TAB sentence           (sentences sharing a group are positives)
enum class CorpusFormat { kText, kPairs, kTriplets, kLabeled, kSts, kGroups };

// "text", "pairs", "triplets", "labeled", "sts", "groups"; throws UsageError otherwise.
CorpusFormat corpus_format_from_string(const std::string& name);
std::string to_string(CorpusFormat format);
// The accepted names, comma separated, for help and error messages.
std::string corpus_format_names();
// Guess from the file name: *.pairs.tsv, *.triplets.tsv, *.labeled.tsv, *.sts.tsv,
// *.groups.tsv; anything else (including "-") is kText.
CorpusFormat corpus_format_from_path(const std::string& path);
// How many text fields a record has: text 1, pairs 2, triplets 3, labeled 2, sts 2, groups 1.
int text_columns(CorpusFormat format);
// How many tab-separated columns a line has: text 1, pairs 2, triplets 3, labeled 3,
// sts 3, groups 2.
int line_columns(CorpusFormat format);

enum class OnBadLine { kFail, kSkip };

struct ReaderOptions {
  OnBadLine on_bad_line = OnBadLine::kFail;
  // Accept (and ignore) columns after the expected ones, e.g. `score --pairs`
  // reading a file that carries a label in a third column.
  bool allow_extra_columns = false;
  // Text format only, 0: no limit. A longer line keeps only its first
  // max_text_bytes bytes (fewer where that would split a character) in
  // Record::a; the rest is read and checked (NUL bytes, UTF-8) but not kept, so
  // a huge line costs memory up to this size, not its own. `encode` sets it above
  // what the tokenizer reads (Tokenizer::max_input_bytes).
  std::size_t max_text_bytes = 0;
  // A part of a file (encoding shared by processes, split_text_file): the lines from
  // byte `begin` (a line start) to the first line start at or past `end` (0: the end
  // of the file). first_line: the lines before `begin`, so that messages name the
  // file's own line numbers. Not for stdin.
  std::uint64_t begin = 0, end = 0;
  std::size_t first_line = 0;
};

// Part k of `parts` of a text file: it starts at the start of a window of `window`
// lines (line 0, window, 2 window, ...; window 1: any line), the window start
// nearest to byte size * k / parts; first_line counts the lines before it. Sharded
// encoding splits at encode_stream's windows (kEncodeWindow), whose vectors depend on
// which sentences share a batch, so each process encodes the windows one process
// would. One pass over the file; parts past its end are empty (begin = end = size).
struct TextFilePart {
  std::uint64_t begin = 0, end = 0;  // bytes [begin, end)
  std::size_t first_line = 0;
};
std::vector<TextFilePart> split_text_file(const std::string& path, int parts,
                                          std::size_t window = 1);

// One record. text: a. pairs: a, b. triplets: a, b, c. labeled: score = label
// (0 or 1), a, b. sts: score, a, b. groups: group = first column, a = sentence.
// line is the 1-based line number the record came from.
struct Record {
  std::string a, b, c;
  float score = 0;
  std::string group;
  std::size_t line = 0;
};

// Reads a corpus line by line, never the whole file, so memory stays flat on
// big inputs. Every line is checked: no NUL bytes, valid UTF-8, and for the TSV
// formats the column count, non-empty fields and a parsable score. A trailing
// "\r" (CRLF files) and a UTF-8 byte order mark at the start are stripped; a
// missing final newline is fine.
class CorpusReader {
 public:
  // path "-" reads stdin (messages then name it "<stdin>"). Throws IoError
  // naming the path if it cannot be opened.
  CorpusReader(const std::string& path, CorpusFormat format, ReaderOptions options = {});
  ~CorpusReader();
  CorpusReader(CorpusReader&&) noexcept;
  CorpusReader& operator=(CorpusReader&&) noexcept;
  CorpusReader(const CorpusReader&) = delete;
  CorpusReader& operator=(const CorpusReader&) = delete;

  // Reads the next record; false at end of input. A bad line in kFail mode
  // throws InputError(path, line, reason); in kSkip mode it is counted, the
  // first message is remembered, and reading continues. Throws IoError if the
  // file cannot be read (e.g. it is a directory).
  bool next(Record& record);

  const std::string& path() const;
  CorpusFormat format() const;
  std::size_t line_number() const;  // lines consumed so far
  std::size_t records_read() const;
  std::size_t lines_skipped() const;
  // "" when nothing was skipped, else e.g. "skipped 3 bad lines of data.tsv
  // (first: data.tsv:12: expected 2 columns, found 3)".
  std::string skip_summary() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads a whole file. Prints nothing: in kSkip mode the reader's skip_summary()
// ("" when nothing was skipped) goes to *skip_summary when given, for the caller
// to report.
std::vector<Record> read_corpus(const std::string& path, CorpusFormat format,
                                ReaderOptions options = {}, std::string* skip_summary = nullptr);

// The lines of a text file (kText), in order; "-" reads stdin.
std::vector<std::string> read_lines(const std::string& path);

// Reads the next up to `max` records of a stream into `out` (cleared first): one
// window, so a large file is processed with flat memory. Returns out.size():
// fewer than `max` means the input has ended (0: nothing was left), so a loop
// stops there without reading past the end again (an interactive stdin).
std::size_t read_window(CorpusReader& reader, std::size_t max, std::vector<Record>& out);

}  // namespace sentemb
