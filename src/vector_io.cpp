#include "sentemb/vector_io.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "sentemb/errors.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vector_io writes and reads little-endian files with plain memcpy; port it for this host"
#endif

namespace sentemb {

namespace {

std::string display_name(const std::string& path) {
  return path == "-" ? "<stdout>" : path;
}

std::string os_reason() {
  return std::strerror(errno);
}

std::size_t element_size(ElementType type) {
  return type == ElementType::kFloat32 ? sizeof(float) : 1;
}

// Appends element i of rows (of `type`) as text: the shortest float32 decimal
// (fmt's "{}" round-trips), or the byte as a signed or unsigned integer.
void append_element(fmt::memory_buffer& out, const void* rows, ElementType type, std::size_t i) {
  switch (type) {
    case ElementType::kFloat32:
      fmt::format_to(std::back_inserter(out), "{}", static_cast<const float*>(rows)[i]);
      break;
    case ElementType::kInt8:
      fmt::format_to(std::back_inserter(out), "{}",
                     static_cast<int>(static_cast<const std::int8_t*>(rows)[i]));
      break;
    case ElementType::kUint8:
      fmt::format_to(std::back_inserter(out), "{}",
                     static_cast<unsigned>(static_cast<const std::uint8_t*>(rows)[i]));
      break;
  }
}

// ---------------------------------------------------------------------------
// Output file: stdout or a created file, with checked writes.

class OutputFile {
 public:
  explicit OutputFile(const std::string& path) : path_(path), name_(display_name(path)) {
    if (path == "-") {
      file_ = stdout;
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (!file_) throw IoError(fmt::format("cannot create {}: {}", path, os_reason()));
      owned_ = true;
      std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    }
  }
  // Not closed (an exception is unwinding): the output is incomplete, remove it.
  ~OutputFile() {
    if (!closed_) discard();
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, std::size_t bytes) {
    if (bytes == 0) return;
    if (std::fwrite(data, 1, bytes, file_) != bytes) fail("cannot write");
  }
  void write(std::string_view s) { write(s.data(), s.size()); }

  // The current byte offset if the stream can seek back to patch a header;
  // -1 for pipes, terminals and files opened for appending (there every write
  // goes to the end, whatever the position).
  long long seekable_position() {
    if (std::fflush(file_) != 0) fail("cannot write");
    int flags = fcntl(fileno(file_), F_GETFL);
    if (flags == -1 || (flags & O_APPEND)) return -1;
    off_t pos = ftello(file_);
    return pos < 0 ? -1 : static_cast<long long>(pos);
  }
  void seek(long long offset) {
    if (std::fflush(file_) != 0) fail("cannot write");
    if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) fail("cannot seek in");
  }
  void seek_end() {
    if (fseeko(file_, 0, SEEK_END) != 0) fail("cannot seek in");
  }

  void close() {
    closed_ = true;
    if (owned_) {
      FILE* f = file_;
      file_ = nullptr;
      if (std::fclose(f) != 0) fail("cannot write");
    } else if (std::fflush(file_) != 0) {
      fail("cannot write");
    }
  }
  const std::string& name() const { return name_; }

 private:
  // Closes without error checks and removes a file this object created.
  void discard() noexcept {
    if (owned_) {
      if (file_) std::fclose(file_);
      file_ = nullptr;
      std::remove(path_.c_str());
    } else if (file_) {
      std::fflush(file_);
    }
  }

  [[noreturn]] void fail(const char* what) {
    throw IoError(fmt::format("{} {}: {}", what, name_, os_reason()));
  }

  std::string path_, name_;
  FILE* file_ = nullptr;
  bool owned_ = false;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------
// npy

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr std::size_t kNpyMagicSize = 6;
// Fixed total header size: magic (6) + version (2) + length (2) + dict (118).
// A fixed size lets the row count be patched in place; 128 is a multiple of
// 64 (numpy aligns the data that way) and the dict fits any 64-bit N and
// 32-bit D (87 characters at most).
constexpr std::size_t kNpyHeaderSize = 128;

const char* npy_descr(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
      return "<f4";
    case ElementType::kInt8:
      return "|i1";
    case ElementType::kUint8:
      return "|u1";
  }
  return "?";
}

std::string npy_header(std::uint64_t rows, int dim, ElementType type) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}",
                                 npy_descr(type), rows, dim);
  const std::size_t dict_size = kNpyHeaderSize - kNpyMagicSize - 4;
  dict.resize(dict_size - 1, ' ');
  dict += '\n';
  std::string header(kNpyMagic, kNpyMagicSize);
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict_size & 0xFF);
  header += static_cast<char>(dict_size >> 8);
  return header + dict;
}

class NpyWriter : public VectorWriter {
 public:
  NpyWriter(const std::string& path, int dim, ElementType type)
      : VectorWriter(path, VectorFormat::kNpy, dim, type), out_(path) {
    header_offset_ = out_.seekable_position();
    // A placeholder, patched in finish().
    if (header_offset_ >= 0) out_.write(npy_header(0, dim, type));
  }

 protected:
  void write_rows(const void* rows, std::size_t n, const std::vector<std::string>&) override {
    const std::size_t bytes = n * static_cast<std::size_t>(dim()) * element_size(element_type());
    if (header_offset_ >= 0) {
      out_.write(rows, bytes);
    } else {
      const auto* begin = static_cast<const char*>(rows);
      buffered_.insert(buffered_.end(), begin, begin + bytes);
    }
  }
  void finish() override {
    const std::uint64_t rows = rows_written();
    if (header_offset_ >= 0) {
      out_.seek(header_offset_);
      out_.write(npy_header(rows, dim(), element_type()));
      out_.seek_end();
    } else {
      out_.write(npy_header(rows, dim(), element_type()));
      out_.write(buffered_.data(), buffered_.size());
    }
    out_.close();
  }

 private:
  OutputFile out_;
  long long header_offset_ = -1;  // where the header starts; -1: not seekable, rows buffered
  std::vector<char> buffered_;    // the (rows_written, dim) elements when not seekable
};

// ---------------------------------------------------------------------------
// fvecs, bvecs, i8vecs: int32 D, then D elements, per vector.

class VecsWriter : public VectorWriter {
 public:
  VecsWriter(const std::string& path, VectorFormat format, int dim, ElementType type)
      : VectorWriter(path, format, dim, type), out_(path) {}

 protected:
  void write_rows(const void* rows, std::size_t n, const std::vector<std::string>&) override {
    const std::int32_t d = dim();
    const std::size_t row_bytes = d * element_size(element_type());
    for (std::size_t i = 0; i < n; ++i) {
      out_.write(&d, sizeof d);
      out_.write(static_cast<const char*>(rows) + i * row_bytes, row_bytes);
    }
  }
  void finish() override { out_.close(); }

 private:
  OutputFile out_;
};

// ---------------------------------------------------------------------------
// tsv and jsonl: text, one vector a line. fmt's "{}" prints the shortest
// decimal that parses back to the same float32, so the text round-trips.

class TsvWriter : public VectorWriter {
 public:
  TsvWriter(const std::string& path, int dim, ElementType type)
      : VectorWriter(path, VectorFormat::kTsv, dim, type), out_(path) {}

 protected:
  void write_rows(const void* rows, std::size_t n, const std::vector<std::string>&) override {
    fmt::memory_buffer line;
    for (std::size_t i = 0; i < n; ++i) {
      line.clear();
      for (int j = 0; j < dim(); ++j) {
        if (j) line.push_back('\t');
        append_element(line, rows, element_type(), i * dim() + j);
      }
      line.push_back('\n');
      out_.write(line.data(), line.size());
    }
  }
  void finish() override { out_.close(); }

 private:
  OutputFile out_;
};

class JsonlWriter : public VectorWriter {
 public:
  JsonlWriter(const std::string& path, int dim, ElementType type)
      : VectorWriter(path, VectorFormat::kJsonl, dim, type), out_(path) {}

 protected:
  void write_rows(const void* rows, std::size_t n, const std::vector<std::string>& texts) override {
    if (texts.size() != n)
      throw UsageError(
          fmt::format("writing {}: the jsonl format needs the text of every vector", out_.name()));
    fmt::memory_buffer line;
    for (std::size_t i = 0; i < n; ++i) {
      line.clear();
      // Invalid UTF-8 should have been rejected by the reader; replace rather
      // than throw in the middle of a file if some slips through.
      std::string text =
          nlohmann::json(texts[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      fmt::format_to(std::back_inserter(line), "{{\"text\": {}, \"embedding\": [", text);
      for (int j = 0; j < dim(); ++j) {
        if (j) fmt::format_to(std::back_inserter(line), ", ");
        const std::size_t at = i * dim() + j;
        if (element_type() == ElementType::kFloat32 &&
            !std::isfinite(static_cast<const float*>(rows)[at])) {
          fmt::format_to(std::back_inserter(line), "null");  // JSON has no NaN / Inf
        } else {
          append_element(line, rows, element_type(), at);
        }
      }
      fmt::format_to(std::back_inserter(line), "]}}\n");
      out_.write(line.data(), line.size());
    }
  }
  void finish() override { out_.close(); }

 private:
  OutputFile out_;
};

// ---------------------------------------------------------------------------
// Readers

class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw IoError(fmt::format("cannot open {}: {}", path, os_reason()));
    if (fseeko(file_, 0, SEEK_END) != 0 || (size_ = ftello(file_)) < 0 ||
        fseeko(file_, 0, SEEK_SET) != 0)
      throw IoError(fmt::format("cannot read {}: {}", path, os_reason()));
  }
  ~InputFile() { std::fclose(file_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return static_cast<std::uint64_t>(size_); }
  std::uint64_t remaining() const { return size() - position_; }

  // Reads exactly `bytes` or throws "truncated" with `what` for context.
  void read(void* data, std::size_t bytes, const std::string& what) {
    if (bytes > remaining())
      throw IoError(fmt::format("{}: truncated: {} needs {} bytes, {} left", path_, what, bytes,
                                remaining()));
    if (std::fread(data, 1, bytes, file_) != bytes)
      throw IoError(fmt::format("cannot read {}: {}", path_, os_reason()));
    position_ += bytes;
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
  off_t size_ = 0;
  std::uint64_t position_ = 0;
};

// The value after 'key': in a NumPy header dict (quotes ' or "), leading
// spaces skipped; npos if the key is absent.
std::size_t npy_value_start(const std::string& dict, const std::string& key) {
  for (char q : {'\'', '"'}) {
    std::string quoted = q + key + q;
    std::size_t at = dict.find(quoted);
    if (at == std::string::npos) continue;
    at = dict.find(':', at + quoted.size());
    if (at == std::string::npos) return at;
    at = dict.find_first_not_of(' ', at + 1);
    return at;
  }
  return std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------------------

VectorFormat vector_format_from_string(const std::string& name) {
  if (name == "npy") return VectorFormat::kNpy;
  if (name == "fvecs") return VectorFormat::kFvecs;
  if (name == "tsv") return VectorFormat::kTsv;
  if (name == "jsonl") return VectorFormat::kJsonl;
  if (name == "bvecs") return VectorFormat::kBvecs;
  if (name == "i8vecs") return VectorFormat::kI8vecs;
  throw UsageError(
      fmt::format("unknown vector format '{}' (expected one of {})", name, vector_format_names()));
}

std::string to_string(VectorFormat format) {
  switch (format) {
    case VectorFormat::kNpy:
      return "npy";
    case VectorFormat::kFvecs:
      return "fvecs";
    case VectorFormat::kTsv:
      return "tsv";
    case VectorFormat::kJsonl:
      return "jsonl";
    case VectorFormat::kBvecs:
      return "bvecs";
    case VectorFormat::kI8vecs:
      return "i8vecs";
  }
  return "?";
}

std::string vector_format_names() {
  return "npy, fvecs, tsv, jsonl, bvecs, i8vecs";
}

std::optional<VectorFormat> vector_format_from_path(const std::string& path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".npy")) return VectorFormat::kNpy;
  if (ends_with(".fvecs")) return VectorFormat::kFvecs;
  if (ends_with(".tsv") || ends_with(".txt")) return VectorFormat::kTsv;
  if (ends_with(".jsonl") || ends_with(".json")) return VectorFormat::kJsonl;
  if (ends_with(".bvecs")) return VectorFormat::kBvecs;
  if (ends_with(".i8vecs")) return VectorFormat::kI8vecs;
  return std::nullopt;
}

std::string to_string(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
      return "float32";
    case ElementType::kInt8:
      return "int8";
    case ElementType::kUint8:
      return "uint8";
  }
  return "?";
}

void check_format_holds(VectorFormat format, ElementType type) {
  ElementType only;
  if (format == VectorFormat::kFvecs)
    only = ElementType::kFloat32;
  else if (format == VectorFormat::kBvecs)
    only = ElementType::kUint8;
  else if (format == VectorFormat::kI8vecs)
    only = ElementType::kInt8;
  else
    return;  // npy, tsv, jsonl hold any
  if (type == only) return;
  const char* instead = type == ElementType::kFloat32 ? "fvecs"
                        : type == ElementType::kUint8 ? "bvecs"
                                                      : "i8vecs";
  throw UsageError(fmt::format("the {} format holds {} elements, not {}: use {} (or npy)",
                               to_string(format), to_string(only), to_string(type), instead));
}

VectorWriter::VectorWriter(std::string path, VectorFormat format, int dim, ElementType type)
    : path_(display_name(path)), format_(format), dim_(dim), type_(type) {}

VectorWriter::~VectorWriter() = default;

std::unique_ptr<VectorWriter> VectorWriter::open(const std::string& path, VectorFormat format,
                                                 int dim, ElementType type) {
  if (dim < 1) throw UsageError(fmt::format("vector width must be positive, got {}", dim));
  check_format_holds(format, type);
  std::unique_ptr<VectorWriter> writer;
  switch (format) {
    case VectorFormat::kNpy:
      writer = std::make_unique<NpyWriter>(path, dim, type);
      break;
    case VectorFormat::kFvecs:
    case VectorFormat::kBvecs:
    case VectorFormat::kI8vecs:
      writer = std::make_unique<VecsWriter>(path, format, dim, type);
      break;
    case VectorFormat::kTsv:
      writer = std::make_unique<TsvWriter>(path, dim, type);
      break;
    case VectorFormat::kJsonl:
      writer = std::make_unique<JsonlWriter>(path, dim, type);
      break;
  }
  return writer;
}

void VectorWriter::write(const float* rows, std::size_t n, const std::vector<std::string>& texts) {
  write_elements(rows, ElementType::kFloat32, n, texts);
}

void VectorWriter::write_codes(const std::uint8_t* codes, std::size_t n,
                               const std::vector<std::string>& texts) {
  if (type_ == ElementType::kFloat32)
    throw UsageError(fmt::format("writing {}: bytes to a float32 writer", path_));
  write_elements(codes, type_, n, texts);
}

void VectorWriter::write_elements(const void* rows, ElementType type, std::size_t n,
                                  const std::vector<std::string>& texts) {
  if (closed_) throw UsageError(fmt::format("writing {} after it was closed", path_));
  if (type != type_)
    throw UsageError(fmt::format("writing {} elements to {}, a writer of {}", to_string(type),
                                 path_, to_string(type_)));
  if (!texts.empty() && texts.size() != n)
    throw UsageError(fmt::format("writing {}: {} rows but {} texts", path_, n, texts.size()));
  write_rows(rows, n, texts);
  rows_written_ += n;
}

void VectorWriter::close() {
  if (closed_) return;
  closed_ = true;
  finish();
}

namespace {

struct NpyHeader {
  std::string descr;
  std::uint64_t rows = 0, dim = 0;
  std::size_t element_size = 0;
};

// Reads a .npy header up to its data and checks that the file holds exactly the
// data of the shape, with elements of the size the dtype `accept` returns (0: a
// dtype it refuses). `kind` names the arrays expected, e.g. "float32", and
// `dtypes` their descr strings.
template <class Accept>
NpyHeader read_npy_header(InputFile& in, const std::string& path, const char* kind,
                          const char* dtypes, const Accept& accept) {
  auto bad = [&](const std::string& why) {
    return IoError(fmt::format("{}: not a 2-D {} NumPy array: {}", path, kind, why));
  };
  char prefix[kNpyMagicSize + 2];
  if (in.size() < sizeof prefix) throw bad("too short for a .npy header");
  in.read(prefix, sizeof prefix, "the magic string");
  if (std::memcmp(prefix, kNpyMagic, kNpyMagicSize) != 0) throw bad("no \\x93NUMPY magic string");
  const int major = static_cast<unsigned char>(prefix[kNpyMagicSize]);
  std::uint32_t dict_size = 0;
  if (major == 1) {
    unsigned char len[2];
    in.read(len, 2, "the header length");
    dict_size = len[0] | (len[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    in.read(len, 4, "the header length");
    dict_size =
        len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<std::uint32_t>(len[3]) << 24);
  } else {
    throw bad(fmt::format("unsupported format version {}", major));
  }
  // v2/v3 lengths are 32-bit: check the file holds the header before allocating
  // it, or a 12-byte file could ask for 4 GiB.
  if (dict_size > in.remaining())
    throw IoError(fmt::format("{}: truncated: the header needs {} bytes, {} left", path, dict_size,
                              in.remaining()));
  std::string dict(dict_size, '\0');
  in.read(dict.data(), dict_size, "the header");

  // descr: the dtype.
  std::size_t at = npy_value_start(dict, "descr");
  if (at == std::string::npos || (dict[at] != '\'' && dict[at] != '"')) throw bad("no 'descr'");
  std::size_t end = dict.find(dict[at], at + 1);
  if (end == std::string::npos) throw bad("unterminated 'descr'");
  const std::string descr = dict.substr(at + 1, end - at - 1);
  const std::size_t element_size = accept(descr);
  if (element_size == 0) throw bad(fmt::format("dtype '{}' (expected {})", descr, dtypes));

  at = npy_value_start(dict, "fortran_order");
  if (at == std::string::npos) throw bad("no 'fortran_order'");
  if (dict.compare(at, 4, "True") == 0) throw bad("Fortran (column-major) order");
  if (dict.compare(at, 5, "False") != 0) throw bad("bad 'fortran_order'");

  at = npy_value_start(dict, "shape");
  if (at == std::string::npos || dict[at] != '(') throw bad("no 'shape'");
  end = dict.find(')', at);
  if (end == std::string::npos) throw bad("unterminated 'shape'");
  std::vector<std::uint64_t> shape;
  std::string_view dims(dict.data() + at + 1, end - at - 1);
  while (!dims.empty()) {
    std::size_t comma = dims.find(',');
    std::string_view item = dims.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      std::uint64_t value = 0;
      for (char c : item) {
        if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10)
          throw bad(fmt::format("bad shape '{}'", dict.substr(at, end - at + 1)));
        value = value * 10 + (c - '0');
      }
      shape.push_back(value);
    }
    if (comma == std::string_view::npos) break;
    dims.remove_prefix(comma + 1);
  }
  if (shape.size() != 2)
    throw bad(fmt::format("shape {} has {} dimensions, expected 2 (rows, dim)",
                          dict.substr(at, end - at + 1), shape.size()));
  const std::uint64_t rows = shape[0], dim = shape[1];
  if (dim > INT32_MAX) throw bad(fmt::format("dim {} is too large", dim));
  if (dim == 0 && rows > 0) throw bad("rows of width 0");
  // Compare by division so a huge shape cannot overflow the byte count.
  const std::uint64_t left = in.remaining();
  const std::uint64_t row_bytes = dim * element_size;
  const bool fits = row_bytes == 0 || rows <= UINT64_MAX / row_bytes;
  if (!fits || rows * row_bytes != left) {
    std::string needed = fits ? std::to_string(rows * row_bytes) : "more than 2^64";
    throw IoError(fmt::format("{}: shape ({}, {}) needs {} bytes of data, the file has {}{}", path,
                              rows, dim, needed, left,
                              fits && rows * row_bytes > left ? " (truncated)" : ""));
  }

  return {descr, rows, dim, element_size};
}

}  // namespace

VectorMatrix read_npy(const std::string& path) {
  InputFile in(path);
  // '<f4' is read as is, '<f8' converted.
  const NpyHeader h =
      read_npy_header(in, path, "float32", "'<f4' or '<f8'", [](const std::string& descr) {
        return descr == "<f4" ? 4 : descr == "<f8" ? 8 : 0;
      });
  const std::uint64_t rows = h.rows, dim = h.dim;
  const std::size_t element_size = h.element_size;
  VectorMatrix m;
  m.rows = rows;
  m.dim = static_cast<int>(dim);
  m.data.resize(rows * dim);
  if (element_size == 4) {
    in.read(m.data.data(), m.data.size() * 4, "the data");
  } else {
    // Sized only when there are rows: then the data check above bounds dim by the
    // file size (a header may declare (0, 2^30) doubles: 8 GiB for one row).
    std::vector<double> row(rows > 0 ? dim : 0);
    for (std::uint64_t r = 0; r < rows; ++r) {
      in.read(row.data(), dim * 8, "the data");
      for (std::uint64_t j = 0; j < dim; ++j) m.data[r * dim + j] = static_cast<float>(row[j]);
    }
  }
  return m;
}

namespace {

// Reads an fvecs / bvecs / i8vecs file (`format`) of T elements: every vector
// must have the same width. An empty file gives rows = 0, dim = 0.
template <class T>
std::vector<T> read_vecs(const std::string& path, const char* format, std::size_t& rows, int& dim) {
  InputFile in(path);
  std::vector<T> data;
  rows = 0;
  dim = 0;
  while (in.remaining() > 0) {
    std::int32_t d = 0;
    in.read(&d, sizeof d, fmt::format("the width of vector {}", rows + 1));
    if (rows == 0) {
      if (d < 1 || d > (1 << 24))
        throw IoError(
            fmt::format("{}: not an {} file: first vector has width {}", path, format, d));
      dim = d;
      data.reserve(in.remaining() / (4 + sizeof(T) * static_cast<std::uint64_t>(d)) * d);
    } else if (d != dim) {
      throw IoError(
          fmt::format("{}: vector {} has width {}, the first has {}", path, rows + 1, d, dim));
    }
    // Check before growing: an 8-byte file may declare a width of 2^24 elements.
    if (d * sizeof(T) > in.remaining())
      throw IoError(fmt::format("{}: truncated: vector {} needs {} bytes, {} left", path, rows + 1,
                                d * sizeof(T), in.remaining()));
    data.resize(data.size() + d);
    in.read(data.data() + rows * d, d * sizeof(T), fmt::format("vector {}", rows + 1));
    ++rows;
  }
  return data;
}

}  // namespace

VectorMatrix read_fvecs(const std::string& path) {
  VectorMatrix m;
  m.data = read_vecs<float>(path, "fvecs", m.rows, m.dim);
  return m;
}

VectorMatrix read_vectors(const std::string& path) {
  auto format = vector_format_from_path(path);
  if (format == VectorFormat::kNpy) return read_npy(path);
  if (format == VectorFormat::kFvecs) return read_fvecs(path);
  throw UsageError(
      fmt::format("cannot read vectors from {}: expected a .npy or .fvecs file", path));
}

namespace {

// The element type of a code npy dtype; nullopt for others.
std::optional<ElementType> code_dtype(const std::string& descr) {
  if (descr == "|i1" || descr == "<i1" || descr == "i1") return ElementType::kInt8;
  if (descr == "|u1" || descr == "<u1" || descr == "u1") return ElementType::kUint8;
  return std::nullopt;
}

CodeMatrix read_npy_codes(const std::string& path) {
  InputFile in(path);
  const NpyHeader h =
      read_npy_header(in, path, "int8 or uint8", "'|i1' or '|u1'",
                      [](const std::string& descr) { return code_dtype(descr) ? 1 : 0; });
  CodeMatrix m;
  m.rows = h.rows;
  m.width = static_cast<int>(h.dim);
  m.type = *code_dtype(h.descr);
  m.data.resize(h.rows * h.dim);
  in.read(m.data.data(), m.data.size(), "the data");
  return m;
}

}  // namespace

ElementType vector_file_element_type(const std::string& path) {
  const auto format = vector_format_from_path(path);
  if (format == VectorFormat::kFvecs) return ElementType::kFloat32;
  if (format == VectorFormat::kBvecs) return ElementType::kUint8;
  if (format == VectorFormat::kI8vecs) return ElementType::kInt8;
  if (format != VectorFormat::kNpy)
    throw UsageError(fmt::format(
        "cannot read vectors from {}: expected a .npy, .fvecs, .bvecs or .i8vecs file", path));
  InputFile in(path);
  const NpyHeader h = read_npy_header(in, path, "float32, int8 or uint8",
                                      "'<f4', '<f8', '|i1' or '|u1'", [](const std::string& descr) {
                                        if (descr == "<f4") return 4;
                                        if (descr == "<f8") return 8;
                                        return code_dtype(descr) ? 1 : 0;
                                      });
  if (auto type = code_dtype(h.descr)) return *type;
  return ElementType::kFloat32;
}

CodeMatrix read_codes(const std::string& path) {
  const auto format = vector_format_from_path(path);
  if (format == VectorFormat::kNpy) return read_npy_codes(path);
  if (format != VectorFormat::kBvecs && format != VectorFormat::kI8vecs)
    throw UsageError(fmt::format(
        "cannot read quantized vectors from {}: expected a .npy, .bvecs or .i8vecs file", path));
  CodeMatrix m;
  m.type = format == VectorFormat::kBvecs ? ElementType::kUint8 : ElementType::kInt8;
  m.data = read_vecs<std::uint8_t>(path, format == VectorFormat::kBvecs ? "bvecs" : "i8vecs",
                                   m.rows, m.width);
  return m;
}

}  // namespace sentemb
