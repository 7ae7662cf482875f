// Fuzzes the corpus readers: the input bytes are a corpus file, read in every
// format, both on_bad_line modes, with and without allow_extra_columns.
// Expected failures are sentemb::Error (InputError for a bad line in kFail
// mode); anything else — a crash, a sanitizer report, another exception, or a
// record that breaks the documented guarantees — is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "sentemb/corpus.h"
#include "sentemb/errors.h"
#include "sentemb/utf8.h"

namespace {

using sentemb::CorpusFormat;
using sentemb::OnBadLine;

// CorpusReader reads from a path: the input goes into an in-memory file.
const std::string& input_path(const std::uint8_t* data, std::size_t size) {
  static sentemb::fuzz::MemFile file("sentemb_fuzz_corpus");
  file.assign({reinterpret_cast<const char*>(data), size});
  return file.path();
}

bool clean_text(const std::string& s) {
  return s.find('\0') == std::string::npos && sentemb::is_valid_utf8(s);
}

// The guarantees corpus.h gives for every record it returns.
void check_record(const sentemb::Record& r, CorpusFormat format, std::size_t lines) {
  FUZZ_CHECK(r.line >= 1 && r.line <= lines);
  FUZZ_CHECK(clean_text(r.a) && clean_text(r.b) && clean_text(r.c) && clean_text(r.group));
  switch (format) {
    case CorpusFormat::kText:
      FUZZ_CHECK(r.b.empty() && r.c.empty() && r.group.empty());
      break;
    case CorpusFormat::kPairs:
      FUZZ_CHECK(!r.a.empty() && !r.b.empty() && r.c.empty());
      break;
    case CorpusFormat::kTriplets:
      FUZZ_CHECK(!r.a.empty() && !r.b.empty() && !r.c.empty());
      break;
    case CorpusFormat::kLabeled:
      FUZZ_CHECK(r.score == 0.0f || r.score == 1.0f);
      FUZZ_CHECK(!r.a.empty() && !r.b.empty());
      break;
    case CorpusFormat::kSts:
      FUZZ_CHECK(std::isfinite(r.score));
      FUZZ_CHECK(!r.a.empty() && !r.b.empty());
      break;
    case CorpusFormat::kGroups:
      FUZZ_CHECK(!r.group.empty() && !r.a.empty());
      break;
  }
}

void read_all(const std::string& path, std::size_t size, CorpusFormat format,
              sentemb::ReaderOptions options) {
  // A file of n bytes has at most n lines (n + 1 if the last one lacks "\n"
  // only when n > 0, and that line is counted in n anyway).
  const std::size_t max_lines = size;
  try {
    sentemb::CorpusReader reader(path, format, options);
    sentemb::Record record;
    std::size_t records = 0;
    while (reader.next(record)) {
      ++records;
      FUZZ_CHECK(records <= max_lines);
      check_record(record, format, reader.line_number());
    }
    FUZZ_CHECK(reader.records_read() == records);
    FUZZ_CHECK(reader.line_number() <= max_lines);
    // Every line is either a record or skipped (kFail would have thrown).
    FUZZ_CHECK(reader.records_read() + reader.lines_skipped() == reader.line_number());
    FUZZ_CHECK(reader.skip_summary().empty() == (reader.lines_skipped() == 0));
    if (options.on_bad_line == OnBadLine::kFail) FUZZ_CHECK(reader.lines_skipped() == 0);
  } catch (const sentemb::InputError&) {
    FUZZ_CHECK(options.on_bad_line == OnBadLine::kFail);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = input_path(data, size);
  for (CorpusFormat format : {CorpusFormat::kText, CorpusFormat::kPairs, CorpusFormat::kTriplets,
                              CorpusFormat::kLabeled, CorpusFormat::kSts, CorpusFormat::kGroups}) {
    for (OnBadLine mode : {OnBadLine::kFail, OnBadLine::kSkip}) {
      for (bool extra : {false, true}) {
        sentemb::ReaderOptions options;
        options.on_bad_line = mode;
        options.allow_extra_columns = extra;
        read_all(path, size, format, options);
      }
    }
  }
  // The input as a file name / format name: cheap string handling.
  const std::string name(reinterpret_cast<const char*>(data), size);
  sentemb::corpus_format_from_path(name);
  try {
    sentemb::corpus_format_from_string(name);
  } catch (const sentemb::UsageError&) {
  }
  return 0;
}
