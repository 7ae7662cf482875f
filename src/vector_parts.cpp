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
void join_npy(const std::vector<std::string>& parts, const std::string& output, int dim,
              ElementType type) {
  auto writer = VectorWriter::open(output, VectorFormat::kNpy, dim, type);
  const std::size_t row_bytes = dim * (type == ElementType::kFloat32 ? sizeof(float) : 1);
  std::vector<float> floats(type == ElementType::kFloat32 ? kRowsPerRead * dim : 0);
  std::vector<std::uint8_t> codes(type == ElementType::kFloat32 ? 0 : kRowsPerRead * dim);
  char* buffer = floats.empty() ? reinterpret_cast<char*>(codes.data())
                                : reinterpret_cast<char*>(floats.data());
  for (const auto& path : parts) {
    std::ifstream in = open_part(path);
    skip_npy_header(in, path);
    for (;;) {
      in.read(buffer, std::streamsize(kRowsPerRead * row_bytes));
      const std::size_t n = static_cast<std::size_t>(in.gcount()) / row_bytes;
      if (n > 0 && floats.empty()) writer->write_codes(codes.data(), n);
      if (n > 0 && !floats.empty()) writer->write(floats.data(), n);
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
                       VectorFormat format, int dim, ElementType type) {
  if (format == VectorFormat::kNpy)
    join_npy(parts, output, dim, type);
  else
    concatenate(parts, output);
  for (const auto& path : parts) std::filesystem::remove(path);
}

}  // namespace sentemb
