// Fuzzes the vector readers: the input bytes are read as a .npy file
// (read_npy) and as an .fvecs file (read_fvecs). Expected failures are
// sentemb::Error (IoError naming the file); anything else — a crash, a
// sanitizer report, another exception, a huge allocation from a small file, or
// a matrix that disagrees with the bytes it came from — is a bug.
//
// What a reader returns is checked against the input itself (independently of
// the reader's parsing: the data of both formats ends the file), then written
// back with VectorWriter and read again, which must give the same matrix.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sentemb/errors.h"
#include "sentemb/vector_io.h"

namespace {

using sentemb::VectorFormat;
using sentemb::VectorMatrix;

// One in-memory file holds the input, another the re-written matrix.
using sentemb::fuzz::MemFile;

MemFile& input_file() {
  static MemFile file("sentemb_fuzz_vectors_in");
  return file;
}
MemFile& rewritten_file() {
  static MemFile file("sentemb_fuzz_vectors_out");
  return file;
}

bool same_bits(const float* a, const float* b, std::size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0;
}

void check_shape(const VectorMatrix& m) {
  FUZZ_CHECK(m.dim >= 0);
  FUZZ_CHECK(m.data.size() == m.rows * static_cast<std::size_t>(m.dim));
  FUZZ_CHECK(m.rows == 0 || m.dim > 0);
}

// Writes `m` in `format` with VectorWriter and reads it back.
VectorMatrix rewrite(const VectorMatrix& m, VectorFormat format) {
  const std::string& path = rewritten_file().path();
  auto writer = sentemb::VectorWriter::open(path, format, m.dim);
  writer->write(m.data.data(), m.rows);
  writer->close();
  return format == VectorFormat::kNpy ? sentemb::read_npy(path) : sentemb::read_fvecs(path);
}

void check_round_trip(const VectorMatrix& m, VectorFormat format) {
  if (m.dim < 1) return;  // a writer needs a width; (0, 0) has nothing to write
  const VectorMatrix back = rewrite(m, format);
  FUZZ_CHECK(back.rows == m.rows && back.dim == m.dim);
  FUZZ_CHECK(same_bits(back.data.data(), m.data.data(), m.data.size()));
}

void fuzz_npy(std::string_view bytes, const std::string& path) {
  VectorMatrix m;
  try {
    m = sentemb::read_npy(path);
  } catch (const sentemb::Error&) {
    return;
  }
  check_shape(m);
  // The data is the file's tail: rows * dim float32 ('<f4'), or float64
  // ('<f8') converted to float32 one by one.
  const std::size_t n = m.data.size();
  FUZZ_CHECK(bytes.size() >= n * 4);
  const char* tail4 = bytes.data() + bytes.size() - n * 4;
  bool matches = same_bits(m.data.data(), reinterpret_cast<const float*>(tail4), n);
  if (!matches && bytes.size() >= n * 8) {
    std::vector<double> wide(n);
    std::memcpy(wide.data(), bytes.data() + bytes.size() - n * 8, n * 8);
    std::vector<float> narrowed(wide.begin(), wide.end());
    matches = same_bits(m.data.data(), narrowed.data(), n);
  }
  FUZZ_CHECK(matches);
  check_round_trip(m, VectorFormat::kNpy);
}

void fuzz_fvecs(std::string_view bytes, const std::string& path) {
  VectorMatrix m;
  try {
    m = sentemb::read_fvecs(path);
  } catch (const sentemb::Error&) {
    return;
  }
  check_shape(m);
  // Every record is int32 dim + dim floats, and nothing else is in the file.
  const std::size_t record = 4 + 4 * static_cast<std::size_t>(m.dim);
  FUZZ_CHECK(bytes.size() == m.rows * record);
  for (std::size_t r = 0; r < m.rows; ++r) {
    std::int32_t d;
    std::memcpy(&d, bytes.data() + r * record, 4);
    FUZZ_CHECK(d == m.dim);
    FUZZ_CHECK(std::memcmp(bytes.data() + r * record + 4, m.row(r), record - 4) == 0);
  }
  check_round_trip(m, VectorFormat::kFvecs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  MemFile& input = input_file();
  input.assign(bytes);
  fuzz_npy(bytes, input.path());
  fuzz_fvecs(bytes, input.path());
  return 0;
}
