#include "tensor_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "sentemb/errors.h"

namespace sentemb {

namespace {

constexpr char kMagic[8] = {'S', 'E', 'N', 'T', 'E', 'M', 'B', '\0'};
constexpr std::uint32_t kDtypeFloat32 = 0;
constexpr int kMaxDims = 8;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the supported targets are little-endian
  out.append(bytes, sizeof(T));
}

// Bounds-checked cursor over the file's bytes.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string_view take(std::uint64_t n, const std::string& what) {
    need(n, what);
    auto s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t remaining() const { return bytes_.size() - pos_; }
  std::size_t pos() const { return pos_; }

 private:
  void need(std::uint64_t n, const std::string& what) {
    if (n > remaining())
      throw ModelFileError(fmt::format(
          "{}: truncated or corrupt file: {} needs {} bytes at offset {}, only {} remain", source_,
          what, n, pos_, remaining()));
  }
  std::string_view bytes_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace

const NamedTensor* TensorFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void TensorView::copy_to(float* out) const {
  if (count > 0) std::memcpy(out, data, count * sizeof(float));  // no memcpy from null
}

const TensorView* TensorFileView::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::uint64_t tensor_file_checksum(std::string_view bytes) {
  // FNV-1a, but on 64-bit words: eight times fewer multiplies than byte-wise.
  constexpr std::uint64_t kOffset = 0xcbf29ce484222325ull, kPrime = 0x100000001b3ull;
  std::uint64_t h = kOffset;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * kPrime;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * kPrime;
  return h;
}

std::string serialize_tensor_file(const TensorFile& file) {
  std::string out;
  std::size_t total = 64 + file.header.size() + file.blob.size();
  for (const auto& t : file.tensors)
    total += 64 + kTensorAlignment + t.name.size() + t.data.size() * sizeof(float);
  out.reserve(total);
  out.append(kMagic, sizeof(kMagic));
  put<std::uint32_t>(out, kTensorFileVersion);
  put<std::uint64_t>(out, file.header.size());
  out += file.header;
  put<std::uint64_t>(out, file.blob.size());
  out += file.blob;
  put<std::uint32_t>(out, static_cast<std::uint32_t>(file.tensors.size()));
  for (const auto& t : file.tensors) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.name.size()));
    out += t.name;
    put<std::uint32_t>(out, kDtypeFloat32);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.shape.size()));
    for (auto d : t.shape) put<std::uint64_t>(out, static_cast<std::uint64_t>(d));
    put<std::uint64_t>(out, t.data.size() * sizeof(float));
    out.append((kTensorAlignment - out.size() % kTensorAlignment) % kTensorAlignment, '\0');
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));
  }
  put<std::uint64_t>(out, tensor_file_checksum(out));
  return out;
}

TensorFileView view_tensor_file(std::string_view bytes, const std::string& source) {
  Cursor in(bytes, source);
  auto magic = in.take(sizeof(kMagic), "the magic number");
  if (std::memcmp(magic.data(), kMagic, sizeof(kMagic)) != 0)
    throw ModelFileError(fmt::format("{}: not a sentemb model file (bad magic number)", source));
  const auto version = in.get<std::uint32_t>("the format version");
  if (version > kTensorFileVersion)
    throw ModelFileError(fmt::format(
        "{}: format version {} is newer than this sentemb supports ({}); upgrade sentemb", source,
        version, kTensorFileVersion));
  if (version == 0) throw ModelFileError(fmt::format("{}: invalid format version 0", source));

  TensorFileView file;
  file.header = in.take(in.get<std::uint64_t>("the header size"), "the header");
  file.blob = in.take(in.get<std::uint64_t>("the tokenizer size"), "the tokenizer");
  const auto count = in.get<std::uint32_t>("the tensor count");
  // Each tensor takes at least 20 bytes; a larger count cannot be genuine.
  if (count > in.remaining() / 20)
    throw ModelFileError(
        fmt::format("{}: truncated or corrupt file: {} tensors declared but only {} bytes remain",
                    source, count, in.remaining()));
  file.tensors.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    TensorView t;
    const auto label = fmt::format("tensor #{}", i);
    t.name = in.take(in.get<std::uint32_t>("a tensor name size"), label + "'s name");
    const auto what = fmt::format("tensor '{}'", t.name);
    const auto dtype = in.get<std::uint32_t>("a dtype");
    if (dtype != kDtypeFloat32)
      throw ModelFileError(fmt::format("{}: {} has unknown dtype {}", source, what, dtype));
    const auto ndim = in.get<std::uint32_t>("a rank");
    if (ndim > kMaxDims)
      throw ModelFileError(fmt::format("{}: {} has rank {} (corrupt)", source, what, ndim));
    std::uint64_t elements = 1;
    for (std::uint32_t d = 0; d < ndim; ++d) {
      const auto dim = in.get<std::uint64_t>("a dimension");
      if (dim > (1ull << 40) || (dim != 0 && elements > (1ull << 40) / dim))
        throw ModelFileError(fmt::format("{}: {} has an impossible shape (corrupt)", source, what));
      elements *= dim;
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto nbytes = in.get<std::uint64_t>("a tensor size");
    if (nbytes != elements * sizeof(float))
      throw ModelFileError(fmt::format("{}: {} declares {} bytes but its shape needs {}", source,
                                       what, nbytes, elements * sizeof(float)));
    if (version >= 2) {
      const auto pad = in.take((kTensorAlignment - in.pos() % kTensorAlignment) % kTensorAlignment,
                               what + "'s alignment");
      if (pad.find_first_not_of('\0') != std::string_view::npos)
        throw ModelFileError(
            fmt::format("{}: corrupt file: {}'s alignment bytes are not zero", source, what));
    }
    t.data = in.take(nbytes, what + "'s data").data();  // checked before any allocation
    t.count = elements;
    file.tensors.push_back(std::move(t));
  }
  const std::size_t body = in.pos();
  const auto stored = in.get<std::uint64_t>("the checksum");
  if (in.remaining() != 0)
    throw ModelFileError(fmt::format("{}: corrupt file: {} unexpected bytes after the checksum",
                                     source, in.remaining()));
  if (stored != tensor_file_checksum(bytes.substr(0, body)))
    throw ModelFileError(fmt::format("{}: checksum mismatch: the file is corrupt", source));
  return file;
}

TensorFile parse_tensor_file(std::string_view bytes, const std::string& source) {
  const TensorFileView view = view_tensor_file(bytes, source);
  TensorFile file;
  file.header = std::string(view.header);
  file.blob = std::string(view.blob);
  file.tensors.reserve(view.tensors.size());
  for (const auto& v : view.tensors) {
    NamedTensor t{std::string(v.name), v.shape, std::vector<float>(v.count)};
    v.copy_to(t.data.data());
    file.tensors.push_back(std::move(t));
  }
  return file;
}

TensorFileView view_of(const TensorFile& file) {
  TensorFileView view;
  view.header = file.header;
  view.blob = file.blob;
  for (const auto& t : file.tensors)
    view.tensors.push_back(
        {t.name, t.shape, reinterpret_cast<const char*>(t.data.data()), t.data.size()});
  return view;
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  // PATH itself is only ever replaced by rename(2), so on any failure here (full
  // disk, read-only directory, I/O error) the previous PATH is still intact;
  // the message says so, and names both files.
  const std::string tmp = path + ".tmp";
  auto fail = [&](const char* what) {
    return IoError(fmt::format("{}: cannot {}: {} ({} was not replaced)", tmp, what,
                               std::strerror(errno), path));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("create");
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = fail("write");
      ::close(fd);
      ::unlink(tmp.c_str());
      throw err;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = fail("sync");
    ::close(fd);
    ::unlink(tmp.c_str());
    throw err;
  }
  // Some file systems (NFS, quotas) report a failed write only at close.
  if (::close(fd) != 0) {
    auto err = fail("close");
    ::unlink(tmp.c_str());
    throw err;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = IoError(
        fmt::format("{}: cannot rename {} into place: {}", path, tmp, std::strerror(errno)));
    ::unlink(tmp.c_str());
    throw err;
  }
  // Make the rename itself durable.
  auto dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw IoError(fmt::format("{}: cannot read", path));
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in.read(bytes.data(), size)) throw IoError(fmt::format("{}: read failed", path));
  return bytes;
}

}  // namespace sentemb
