#include "sentemb/vector_parts.h"

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "sentemb/errors.h"

namespace sentemb {

namespace {

constexpr std::size_t kRowsPerRead = 4096;

std::ifstream open_part(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot read the part {}", path));
  return in;
}

// Moves `in` past its npy header (format 1.0: 2-byte length; 2.0, 3.0: 4-byte).
void skip_npy_header(std::ifstream& in, const std::string& path) {
  unsigned char start[12] = {};
  if (!in.read(reinterpret_cast<char*>(start), 10))
    throw IoError(fmt::format("{}: not a NumPy file", path));
  std::uint32_t length = start[8] | (start[9] << 8);
  std::size_t header = 10;
  if (start[6] >= 2) {
    in.read(reinterpret_cast<char*>(start) + 10, 2);
    length |= (std::uint32_t(start[10]) << 16) | (std::uint32_t(start[11]) << 24);
    header = 12;
  }
  in.seekg(static_cast<std::streamoff>(header + length));
}

// The npy output: the rows of every part, written as one process writes them.
void join_npy(const std::vector<std::string>& parts, const std::string& output, int dim) {
  auto writer = VectorWriter::open(output, VectorFormat::kNpy, dim);
  std::vector<float> rows(kRowsPerRead * static_cast<std::size_t>(dim));
  for (const auto& path : parts) {
    std::ifstream in = open_part(path);
    skip_npy_header(in, path);
    for (;;) {
      in.read(reinterpret_cast<char*>(rows.data()), std::streamsize(rows.size() * sizeof(float)));
      const std::size_t n = static_cast<std::size_t>(in.gcount()) / (sizeof(float) * dim);
      if (n > 0) writer->write(rows.data(), n);
      if (n < kRowsPerRead) break;
    }
  }
  writer->close();
}

void concatenate(const std::vector<std::string>& parts, const std::string& output) {
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  for (const auto& path : parts) {
    std::ifstream in = open_part(path);
    if (in.peek() != std::ifstream::traits_type::eof()) out << in.rdbuf();
  }
  if (!out.flush()) throw IoError(fmt::format("{}: cannot write", output));
}

}  // namespace

void join_vector_files(const std::vector<std::string>& parts, const std::string& output,
                       VectorFormat format, int dim) {
  if (format == VectorFormat::kNpy)
    join_npy(parts, output, dim);
  else
    concatenate(parts, output);
  for (const auto& path : parts) std::filesystem::remove(path);
}

}  // namespace sentemb
