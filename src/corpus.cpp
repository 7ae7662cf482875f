#include "sentemb/corpus.h"

#include <fmt/format.h>
#include <sys/types.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "sentemb/errors.h"
#include "sentemb/utf8.h"

namespace sentemb {

namespace {

struct FormatInfo {
  CorpusFormat format;
  const char* name;
  const char* suffix;  // file-name suffix that implies the format
  int text_columns;
  int line_columns;
};

constexpr std::array<FormatInfo, 6> kFormats = {{
    {CorpusFormat::kText, "text", nullptr, 1, 1},
    {CorpusFormat::kPairs, "pairs", ".pairs.tsv", 2, 2},
    {CorpusFormat::kTriplets, "triplets", ".triplets.tsv", 3, 3},
    {CorpusFormat::kLabeled, "labeled", ".labeled.tsv", 2, 3},
    {CorpusFormat::kSts, "sts", ".sts.tsv", 2, 3},
    {CorpusFormat::kGroups, "groups", ".groups.tsv", 1, 2},
}};

const FormatInfo& info(CorpusFormat format) {
  for (const auto& f : kFormats) {
    if (f.format == format) return f;
  }
  throw UsageError(fmt::format("unknown corpus format {}", static_cast<int>(format)));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_blank(std::string_view s) {
  for (char ch : s) {
    if (ch != ' ' && ch != '\t' && ch != '\v' && ch != '\f') return false;
  }
  return true;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A field quoted in an error message: at most ~40 bytes, cut on a UTF-8
// character boundary (the line is already known to be valid UTF-8).
std::string quote_field(std::string_view s) {
  constexpr std::size_t kMax = 40;
  if (s.size() <= kMax) return fmt::format("'{}'", s);
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return fmt::format("'{}...'", s.substr(0, cut));
}

// Parses a finite number; accepts surrounding spaces and a leading '+'.
// Locale independent (std::from_chars), so "0.5" parses the same everywhere.
bool parse_finite(std::string_view field, float& value) {
  std::string_view s = trim_spaces(field);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  return ec == std::errc() && ptr == end && std::isfinite(value);
}

}  // namespace

CorpusFormat corpus_format_from_string(const std::string& name) {
  for (const auto& f : kFormats) {
    if (name == f.name) return f.format;
  }
  throw UsageError(
      fmt::format("unknown corpus format '{}' (expected one of: {})", name, corpus_format_names()));
}

std::string to_string(CorpusFormat format) {
  return info(format).name;
}

std::string corpus_format_names() {
  std::string names;
  for (const auto& f : kFormats) {
    if (!names.empty()) names += ", ";
    names += f.name;
  }
  return names;
}

CorpusFormat corpus_format_from_path(const std::string& path) {
  for (const auto& f : kFormats) {
    if (f.suffix != nullptr && ends_with(path, f.suffix)) return f.format;
  }
  return CorpusFormat::kText;
}

int text_columns(CorpusFormat format) {
  return info(format).text_columns;
}

int line_columns(CorpusFormat format) {
  return info(format).line_columns;
}

struct CorpusReader::State {
  std::string path;
  std::string display_name;  // the name used in messages: path, or "<stdin>"
  CorpusFormat format;
  ReaderOptions options;
  int expected_columns;
  std::FILE* file = nullptr;
  bool owns_file = false;
  // Line buffer for POSIX getline(): grows as needed, reused between lines.
  char* buffer = nullptr;
  std::size_t capacity = 0;
  std::size_t line_number = 0;
  std::size_t records = 0;
  std::size_t skipped = 0;
  std::string first_skip_message;
  std::string error;  // reason of the current bad line
  // Bounded reading (text format with options.max_text_bytes): the kept start of
  // the line, and the 1-based byte columns of the first NUL and of the first
  // invalid UTF-8 byte in the part read past it (0: none).
  std::string kept;
  std::size_t tail_nul = 0, tail_bad_utf8 = 0;

  bool bounded() const { return format == CorpusFormat::kText && options.max_text_bytes > 0; }

  ~State() {
    if (owns_file && file != nullptr) std::fclose(file);
    std::free(buffer);
  }

  [[noreturn]] void throw_read_error() const {
    throw IoError(fmt::format("cannot read {}: {}", display_name, std::strerror(errno)));
  }

  // Checks the bytes of a line past its kept start, `offset` bytes into the line,
  // as parse() checks a whole line, in chunks of 64 KiB: memory stays flat however
  // long the line. Reads up to the end of the line.
  void check_tail(std::string chunk, std::size_t offset) {
    constexpr std::size_t kChunk = 1 << 16;
    auto check = [&](bool last) {
      std::size_t end = chunk.size();
      if (!last) {
        // Keep the last character, maybe incomplete, for the next chunk: from the
        // last byte that is not a continuation byte, if one of the last 4 is (more
        // continuation bytes than that are an error inside this chunk anyway).
        std::size_t p = end;
        while (p > 0 && end - p < 4 && (static_cast<unsigned char>(chunk[p - 1]) & 0xC0) == 0x80)
          --p;
        if (p > 0 && (static_cast<unsigned char>(chunk[p - 1]) & 0xC0) != 0x80) end = p - 1;
      }
      const std::string_view part(chunk.data(), end);
      if (tail_nul == 0)
        if (const void* nul = std::memchr(part.data(), '\0', part.size()))
          tail_nul = offset + (static_cast<const char*>(nul) - part.data()) + 1;
      std::size_t bad = 0;
      if (tail_bad_utf8 == 0 && !is_valid_utf8(part, &bad)) tail_bad_utf8 = offset + bad + 1;
      chunk.erase(0, end);
      offset += end;
    };
    int c;
    while ((c = getc_unlocked(file)) != EOF && c != '\n') {
      chunk.push_back(static_cast<char>(c));
      if (chunk.size() >= kChunk) check(false);
    }
    if (c == EOF && std::ferror(file)) throw_read_error();
    if (!chunk.empty() && chunk.back() == '\r') chunk.pop_back();  // CRLF
    check(true);
  }

  // read_line() in bounded mode: keeps the first max_text_bytes bytes of the
  // line, cut back to a character boundary, and checks the rest without keeping it.
  bool read_line_bounded(std::string_view& line) {
    const std::size_t limit = options.max_text_bytes;
    kept.clear();
    tail_nul = tail_bad_utf8 = 0;
    errno = 0;
    int c = EOF;
    bool any = false, ended = false;
    while (kept.size() < limit + 4 && (c = getc_unlocked(file)) != EOF) {
      any = true;
      if (c == '\n') {
        ended = true;
        break;
      }
      kept.push_back(static_cast<char>(c));
    }
    if (c == EOF && std::ferror(file)) throw_read_error();
    if (!any) return false;
    ++line_number;
    // A byte order mark some editors put at the start of UTF-8 files.
    const std::size_t bom = line_number == 1 && kept.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    if (!ended && kept.size() == limit + 4) {  // longer than the limit, or exactly limit + 4
      std::size_t cut = limit;
      while (cut > bom && (static_cast<unsigned char>(kept[cut]) & 0xC0) == 0x80) --cut;
      std::string rest = kept.substr(cut);
      kept.resize(cut);
      check_tail(std::move(rest), cut - bom);
    } else if (!kept.empty() && kept.back() == '\r') {
      kept.pop_back();
    }
    line = std::string_view(kept).substr(bom);
    return true;
  }

  // Reads the next line into `line` without its "\n" or "\r\n"; false at end.
  bool read_line(std::string_view& line) {
    if (options.end > 0 && static_cast<std::uint64_t>(::ftello(file)) >= options.end) return false;
    if (bounded()) return read_line_bounded(line);
    errno = 0;
    ssize_t n = ::getline(&buffer, &capacity, file);
    if (n < 0) {
      if (std::ferror(file)) throw_read_error();
      return false;
    }
    ++line_number;
    std::size_t length = static_cast<std::size_t>(n);
    if (length > 0 && buffer[length - 1] == '\n') --length;
    if (length > 0 && buffer[length - 1] == '\r') --length;
    line = std::string_view(buffer, length);
    // A byte order mark some editors put at the start of UTF-8 files.
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    return true;
  }

  // Checks the line and fills `record`; on a bad line sets `error` and returns false.
  bool parse(std::string_view line, Record& record) {
    if (const void* nul = std::memchr(line.data(), '\0', line.size())) {
      auto column = static_cast<const char*>(nul) - line.data() + 1;
      error = fmt::format("NUL byte at byte column {}", column);
      return false;
    }
    if (tail_nul != 0) {
      error = fmt::format("NUL byte at byte column {}", tail_nul);
      return false;
    }
    std::size_t bad = 0;
    if (!is_valid_utf8(line, &bad)) {
      error = fmt::format("invalid UTF-8 at byte column {}", bad + 1);
      return false;
    }
    if (tail_bad_utf8 != 0) {
      error = fmt::format("invalid UTF-8 at byte column {}", tail_bad_utf8);
      return false;
    }
    record.line = line_number;
    record.score = 0;
    if (format == CorpusFormat::kText) {
      // One sentence per line, tabs and all; an empty line is an empty sentence
      // so that `encode` writes exactly one vector per input line.
      record.a.assign(line);
      record.b.clear();
      record.c.clear();
      record.group.clear();
      return true;
    }

    // Split on tabs: keep the first expected_columns fields, count the rest.
    std::array<std::string_view, 3> fields;
    int found = 0;
    std::size_t start = 0;
    while (true) {
      std::size_t tab = line.find('\t', start);
      std::string_view field =
          line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
      if (found < expected_columns) fields[found] = field;
      ++found;
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (found < expected_columns || (found > expected_columns && !options.allow_extra_columns)) {
      error = fmt::format("expected {}{} columns, found {}",
                          options.allow_extra_columns ? "at least " : "", expected_columns, found);
      return false;
    }
    for (int i = 0; i < expected_columns; ++i) {
      if (is_blank(fields[i])) {
        error = fmt::format("column {} of {} is empty", i + 1, expected_columns);
        return false;
      }
    }

    record.b.clear();
    record.c.clear();
    record.group.clear();
    switch (format) {
      case CorpusFormat::kPairs:
        record.a.assign(fields[0]);
        record.b.assign(fields[1]);
        break;
      case CorpusFormat::kTriplets:
        record.a.assign(fields[0]);
        record.b.assign(fields[1]);
        record.c.assign(fields[2]);
        break;
      case CorpusFormat::kLabeled:
        if (!parse_finite(fields[0], record.score) || (record.score != 0 && record.score != 1)) {
          error = fmt::format("column 1: label must be 0 or 1, found {}", quote_field(fields[0]));
          return false;
        }
        record.a.assign(fields[1]);
        record.b.assign(fields[2]);
        break;
      case CorpusFormat::kSts:
        if (!parse_finite(fields[0], record.score)) {
          error = fmt::format("column 1: score must be a finite number, found {}",
                              quote_field(fields[0]));
          return false;
        }
        record.a.assign(fields[1]);
        record.b.assign(fields[2]);
        break;
      case CorpusFormat::kGroups:
        record.group.assign(fields[0]);
        record.a.assign(fields[1]);
        break;
      case CorpusFormat::kText:
        break;
    }
    return true;
  }
};

CorpusReader::CorpusReader(const std::string& path, CorpusFormat format, ReaderOptions options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  s.format = format;
  s.options = options;
  s.expected_columns = line_columns(format);
  if (path == "-") {
    s.display_name = "<stdin>";
    s.file = stdin;
  } else {
    s.display_name = path;
    s.file = std::fopen(path.c_str(), "rb");
    if (s.file == nullptr) {
      throw IoError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    }
    s.owns_file = true;
    std::setvbuf(s.file, nullptr, _IOFBF, 1 << 16);
    if (options.begin > 0 && ::fseeko(s.file, static_cast<off_t>(options.begin), SEEK_SET) != 0)
      throw IoError(fmt::format("cannot seek in {}: {}", path, std::strerror(errno)));
    s.line_number = options.first_line;
  }
}

namespace {

// Assigns window starts, seen in file order, to the parts whose byte targets they
// pass: part k takes the nearer of the last start before its target and the first
// at or past it (the earlier one on a tie).
class PartPlacer {
 public:
  PartPlacer(std::uint64_t size, int parts)
      : size_(size), split_(static_cast<std::size_t>(parts)) {}

  void window_start(const TextFilePart& start) {
    for (; next_ < split_.size() && start.begin >= target(next_); ++next_)
      split_[next_] = target(next_) - last_.begin <= start.begin - target(next_) ? last_ : start;
    last_ = start;
  }

  std::vector<TextFilePart> finish() {
    for (; next_ < split_.size(); ++next_) split_[next_] = last_;
    for (std::size_t k = 0; k + 1 < split_.size(); ++k) split_[k].end = split_[k + 1].begin;
    split_.back().end = size_;
    // An empty part starts at the end: an `end` of 0 would mean "to the end of the file".
    for (auto& part : split_)
      if (part.begin == part.end) part.begin = part.end = size_;
    return std::move(split_);
  }

 private:
  std::uint64_t target(std::size_t k) const { return size_ * k / split_.size(); }

  std::uint64_t size_;
  std::vector<TextFilePart> split_;
  std::size_t next_ = 1;  // the first part without a start
  TextFilePart last_;     // the last window start seen (line 0 at first)
};

}  // namespace

std::vector<TextFilePart> split_text_file(const std::string& path, int parts, std::size_t window) {
  if (parts < 1 || window < 1)
    throw UsageError(
        fmt::format("split_text_file: parts ({}) and window ({}) must be >= 1", parts, window));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) throw IoError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::fseek(file.get(), 0, SEEK_END);
  const std::uint64_t size = static_cast<std::uint64_t>(::ftello(file.get()));
  std::rewind(file.get());
  PartPlacer placer(size, parts);
  std::vector<char> buffer(1 << 16);
  std::uint64_t offset = 0;  // of buffer[0] in the file
  std::size_t lines = 0;     // lines ended so far
  char last = '\n';
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0;) {
    for (const char* p = buffer.data();
         (p = static_cast<const char*>(std::memchr(p, '\n', buffer.data() + n - p))) != nullptr;) {
      ++p;
      if (++lines % window == 0) placer.window_start({offset + (p - buffer.data()), 0, lines});
    }
    offset += n;
    last = buffer[n - 1];
  }
  if (std::ferror(file.get())) throw IoError(fmt::format("cannot read {}", path));
  // A last line without a newline ends at the end of the file.
  if (last != '\n' && ++lines % window == 0) placer.window_start({size, 0, lines});
  return placer.finish();
}

CorpusReader::~CorpusReader() = default;
CorpusReader::CorpusReader(CorpusReader&&) noexcept = default;
CorpusReader& CorpusReader::operator=(CorpusReader&&) noexcept = default;

bool CorpusReader::next(Record& record) {
  State& s = *state_;
  std::string_view line;
  while (s.read_line(line)) {
    if (s.parse(line, record)) {
      ++s.records;
      return true;
    }
    if (s.options.on_bad_line == OnBadLine::kFail) {
      throw InputError(s.display_name, s.line_number, s.error);
    }
    if (s.skipped++ == 0) {
      s.first_skip_message = fmt::format("{}:{}: {}", s.display_name, s.line_number, s.error);
    }
  }
  return false;
}

const std::string& CorpusReader::path() const {
  return state_->path;
}
CorpusFormat CorpusReader::format() const {
  return state_->format;
}
std::size_t CorpusReader::line_number() const {
  return state_->line_number;
}
std::size_t CorpusReader::records_read() const {
  return state_->records;
}
std::size_t CorpusReader::lines_skipped() const {
  return state_->skipped;
}

std::string CorpusReader::skip_summary() const {
  const State& s = *state_;
  if (s.skipped == 0) return "";
  return fmt::format("skipped {} bad line{} of {} (first: {})", s.skipped,
                     s.skipped == 1 ? "" : "s", s.display_name, s.first_skip_message);
}

std::vector<Record> read_corpus(const std::string& path, CorpusFormat format, ReaderOptions options,
                                std::string* skip_summary) {
  CorpusReader reader(path, format, options);
  std::vector<Record> records;
  Record record;
  while (reader.next(record)) records.push_back(record);
  if (skip_summary != nullptr) *skip_summary = reader.skip_summary();
  return records;
}

std::vector<std::string> read_lines(const std::string& path) {
  CorpusReader reader(path, CorpusFormat::kText);
  std::vector<std::string> lines;
  Record record;
  while (reader.next(record)) lines.push_back(std::move(record.a));
  return lines;
}

std::size_t read_window(CorpusReader& reader, std::size_t max, std::vector<Record>& out) {
  out.clear();
  Record record;
  while (out.size() < max && reader.next(record)) out.push_back(std::move(record));
  return out.size();
}

}  // namespace sentemb
