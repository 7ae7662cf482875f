// Shared helpers for the fuzz targets (built with libFuzzer by tools/fuzz.sh,
// and with replay_main.cpp as the fuzz_replay_* ctest tests).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "tensor_file.h"

// A property every input must keep. A violation is a bug like a crash: print
// it and abort, so libFuzzer saves the input as a reproducer.
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace sentemb::fuzz {

// The readers take paths, so bytes go into an in-memory file (memfd) that is
// reopened through /proc/self/fd: no disk traffic per input.
class MemFile {
 public:
  explicit MemFile(const char* name)
      : fd_(::memfd_create(name, 0)), path_("/proc/self/fd/" + std::to_string(fd_)) {
    FUZZ_CHECK(fd_ >= 0);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }
  void assign(std::string_view bytes) {
    FUZZ_CHECK(::ftruncate(fd_, 0) == 0);
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      FUZZ_CHECK(n > 0);
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
  std::string path_;
};

// A random mutation almost never keeps a tensor file's trailing checksum right,
// which would stop the fuzzer at the checksum test: the input with its last 8
// bytes replaced by the checksum of the bytes before them reaches the header
// JSON, the tensor table and the config. Empty when the input is shorter than
// 8 bytes or its checksum is already right.
inline std::string with_checksum_fixed(std::string_view bytes) {
  if (bytes.size() < 8) return {};
  std::string fixed(bytes);
  const std::uint64_t checksum = tensor_file_checksum(bytes.substr(0, bytes.size() - 8));
  std::memcpy(fixed.data() + fixed.size() - 8, &checksum, 8);
  return fixed == bytes ? std::string() : fixed;
}

// Calls check(bytes) for a model-file target's input, then check() again on
// with_checksum_fixed(bytes) when that differs.
template <typename Check>
void as_is_and_checksum_fixed(const std::uint8_t* data, std::size_t size, Check check) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(bytes);
  const std::string fixed = with_checksum_fixed(bytes);
  if (!fixed.empty()) check(std::string_view(fixed));
}

}  // namespace sentemb::fuzz
