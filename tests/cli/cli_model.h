// A model for CLI tests: random weights from `sentemb init`, so a test needs no fixture.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "test_util.h"

namespace sentemb::test {

// A random 1-layer model of width dim (2 heads, FFN 64, max_len 16) with the tests'
// tiny tokenizer, written into tmp.
inline std::string make_model(const TempDir& tmp, int dim = 32) {
  const std::string path = tmp.file("m" + std::to_string(dim) + ".semb");
  auto r = run_cli("init --tokenizer " + data_path("tokenizer/tiny.model") + " --layers 1 --dim " +
                   std::to_string(dim) + " --heads 2 --ffn-dim 64 --max-len 16 --out " + path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return path;
}

}  // namespace sentemb::test
