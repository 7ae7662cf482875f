// End-to-end runs of `sentemb export`: the files it writes and its errors.
#include <catch2/catch.hpp>
#include <filesystem>

#include "test_util.h"

namespace st = sentemb::test;

TEST_CASE("export writes an onnx and a safetensors directory", "[cli][export]") {
  st::TempDir tmp;
  const std::string model = st::data_path("golden/tiny.semb");
  for (const std::string format : {"onnx", "safetensors"}) {
    const auto r = st::run_cli("export --model " + model + " --format " + format + " --out " +
                               tmp.file(format));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("exported") && Catch::Contains(format));
    const std::string file = format == "onnx" ? "model.onnx" : "model.safetensors";
    CHECK(std::filesystem::file_size(tmp.file(format + "/" + file)) > 100000);  // 25856 floats
    CHECK(st::read_file(tmp.file(format + "/tokenizer.model")) ==
          st::read_file(st::data_path("tokenizer/tiny.model")));
    CHECK_THAT(st::read_file(tmp.file(format + "/sentemb_tokenizer.json")),
               Catch::Contains("\"max_length\": 16"));
  }
}

TEST_CASE("export errors: unknown format, missing model, unwritable directory", "[cli][export]") {
  st::TempDir tmp;
  const std::string model = st::data_path("golden/tiny.semb");
  auto r = st::run_cli("export --model " + model + " --format tflite --out " + tmp.file("x"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("tflite") && Catch::Contains("onnx or safetensors"));

  r = st::run_cli("export --model " + tmp.file("missing.semb") + " --out " + tmp.file("x"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(tmp.file("missing.semb")));

  st::write_file(tmp.file("a_file"), "x");
  r = st::run_cli("export --model " + model + " --out " + tmp.file("a_file") + "/sub");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(tmp.file("a_file")) && Catch::Contains("export directory"));
  CHECK_FALSE(std::filesystem::exists(tmp.file("x")));
}
