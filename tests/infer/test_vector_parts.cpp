// join_vector_files (sharded encoding, issue 19): parts written by several processes
// join into the file one process writes, byte for byte, in every format.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "sentemb/vector_io.h"
#include "sentemb/vector_parts.h"
#include "test_util.h"

using namespace sentemb;

namespace {

// Rows [first, first + n) of `rows`, with texts "sentence i" (jsonl needs them).
void write_vectors(const std::string& path, VectorFormat format, const std::vector<float>& rows,
                   std::size_t first, std::size_t n, int dim) {
  std::vector<std::string> texts;
  for (std::size_t i = first; i < first + n; ++i) texts.push_back("sentence " + std::to_string(i));
  auto writer = VectorWriter::open(path, format, dim);
  if (n > 0) writer->write(rows.data() + first * dim, n, texts);
  writer->close();
}

}  // namespace

TEST_CASE("vector parts join into the file one writer writes", "[vector_io]") {
  test::TempDir tmp;
  const int dim = 3;
  std::vector<float> rows;
  for (int i = 0; i < 7 * dim; ++i) rows.push_back(0.25f * i - 1.5f);
  for (VectorFormat format :
       {VectorFormat::kNpy, VectorFormat::kFvecs, VectorFormat::kTsv, VectorFormat::kJsonl}) {
    INFO(to_string(format));
    const std::string whole = tmp.file("whole"), joined = tmp.file("joined");
    write_vectors(whole, format, rows, 0, 7, dim);
    // Rows 0-3, none, 4-6: an empty part (a rank past the end) joins too.
    const std::vector<std::string> parts = {tmp.file("p0"), tmp.file("p1"), tmp.file("p2")};
    write_vectors(parts[0], format, rows, 0, 4, dim);
    write_vectors(parts[1], format, rows, 4, 0, dim);
    write_vectors(parts[2], format, rows, 4, 3, dim);
    join_vector_files(parts, joined, format, dim);
    CHECK(test::read_file(joined) == test::read_file(whole));
    for (const auto& part : parts) CHECK_FALSE(std::filesystem::exists(part));
  }
}
