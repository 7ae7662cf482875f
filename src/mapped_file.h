// A file's bytes mapped read-only into memory (mmap), for loading models: the
// page cache is read in place, without first zero-filling and copying the whole
// file into a buffer of our own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sentemb {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws IoError naming the path
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;  // nullptr for an empty file
  std::size_t size_ = 0;
};

}  // namespace sentemb
