// ModelConfig's layernorm_eps: LayerNorm computes (x - mean) / sqrt(var + eps),
// so a model file whose config carries eps <= 0, NaN, inf or an absurdly large
// eps would load and then produce inf/NaN (a constant row has var = 0) or
// flattened vectors. validate() and from_json() must refuse it, naming the field.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "model_file_internal.h"
#include "sentemb/errors.h"
#include "sentemb/model_config.h"
#include "tensor_file.h"
#include "test_util.h"

namespace {

using Catch::Matchers::Contains;
using namespace sentemb;

ModelConfig small_config() {
  ModelConfig c;
  c.vocab_size = 256;  // tiny.model's vocabulary
  c.max_len = 8;
  c.layers = 1;
  c.dim = 8;
  c.heads = 2;
  c.ffn_dim = 16;
  return c;
}

// small_config() as JSON with layernorm_eps replaced by the raw JSON text `eps`.
std::string config_json_with_eps(const std::string& eps) {
  auto j = nlohmann::json::parse(small_config().to_json());
  j.erase("layernorm_eps");
  std::string text = j.dump();
  text.pop_back();  // the closing brace
  return text + ",\"layernorm_eps\":" + eps + "}";
}

std::string from_json_error(const std::string& json) {
  try {
    ModelConfig::from_json(json);
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("model config: layernorm_eps must be finite, above 0 and at most 0.1", "[reliability]") {
  const float inf = std::numeric_limits<float>::infinity();
  for (float eps : {0.0f, -0.0f, -1e-5f, 0.5f, 0.1000001f, inf, -inf,
                    std::numeric_limits<float>::quiet_NaN()}) {
    CAPTURE(eps);
    ModelConfig c = small_config();
    c.layernorm_eps = eps;
    CHECK_THROWS_AS(c.validate(), UsageError);
    CHECK_THROWS_WITH(c.validate(), Contains("layernorm_eps"));
  }
  for (float eps : {1e-12f, 1e-5f, 0.1f, std::numeric_limits<float>::min()}) {
    CAPTURE(eps);
    ModelConfig c = small_config();
    c.layernorm_eps = eps;
    CHECK_NOTHROW(c.validate());
  }
}

TEST_CASE("model config: a bad layernorm_eps in JSON is a ModelFileError naming it",
          "[reliability]") {
  // 1e300 is beyond float range, 1e-50 underflows to 0: both must be refused,
  // not converted into a float that LayerNorm then divides by.
  for (const std::string eps :
       {"0", "-1e-5", "0.5", "1e300", "-1e300", "1e-50", "\"1e-5\"", "null", "[1e-5]", "true"}) {
    CAPTURE(eps);
    CHECK_THAT(from_json_error(config_json_with_eps(eps)), Contains("layernorm_eps"));
  }
  SECTION("good values keep loading, a missing one is the default") {
    CHECK(ModelConfig::from_json(config_json_with_eps("1e-12")).layernorm_eps == 1e-12f);
    CHECK(ModelConfig::from_json(config_json_with_eps("0.1")).layernorm_eps == 0.1f);
    auto j = nlohmann::json::parse(small_config().to_json());
    j.erase("layernorm_eps");
    CHECK(ModelConfig::from_json(j.dump()).layernorm_eps == 1e-5f);
  }
}

TEST_CASE("model file: a zero layernorm_eps in the header is refused, naming file and field",
          "[reliability]") {
  const auto tokenizer = test::read_file(test::data_path("tokenizer/tiny.model"));
  TensorFile file = model_to_tensor_file(Model::create(small_config(), tokenizer, 7));
  auto header = nlohmann::json::parse(file.header);
  REQUIRE(header["config"].contains("layernorm_eps"));
  header["config"]["layernorm_eps"] = 0.0;
  file.header = header.dump();

  test::TempDir dir;
  const std::string path = dir.file("zero_eps.semb");
  test::write_file(path, serialize_tensor_file(file));
  CHECK_THROWS_AS(load_model(path), ModelFileError);
  CHECK_THROWS_WITH(load_model(path), Contains(path) && Contains("layernorm_eps"));
}

TEST_CASE("model config: Model::create refuses a bad layernorm_eps", "[reliability]") {
  ModelConfig c = small_config();
  c.layernorm_eps = -1.0f;
  const auto tokenizer = test::read_file(test::data_path("tokenizer/tiny.model"));
  CHECK_THROWS_AS(Model::create(c, tokenizer, 7), UsageError);
  CHECK_THROWS_WITH(Model::create(c, tokenizer, 7), Contains("layernorm_eps"));
}
