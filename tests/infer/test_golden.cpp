// The encoder forward against the independent PyTorch reference
// (tools/reference/sentemb_ref.py): tests/data/golden/tiny.semb is a 2-layer,
// dim-32 model with deliberately large random weights (std 0.2, LayerNorm
// weights and biases random too), so every tensor, transpose and head/q-k-v
// ordering convention shows in the output. The expected embeddings were computed
// in float64, each sentence alone; see tests/data/golden/README.md.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "model_file_internal.h"
#include "sentemb/encoder.h"
#include "test_util.h"

namespace {

using namespace sentemb;

// fp32 forward vs the float64 reference: observed errors are ~2e-6; 2e-5 still
// catches e.g. a tanh-approximated GELU (which moves outputs by ~1.3e-4).
constexpr double kTolerance = 2e-5;

std::vector<std::vector<int>> read_ids(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<std::vector<int>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<int> ids;
    for (int id; fields >> id;) ids.push_back(id);
    rows.push_back(ids);
  }
  return rows;
}

std::vector<std::vector<double>> read_vectors(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<double> row;
    for (double v; fields >> v;) row.push_back(v);
    rows.push_back(row);
  }
  return rows;
}

const std::vector<std::vector<int>>& inputs() {
  static const auto ids = read_ids(test::data_path("golden/forward_inputs.tsv"));
  return ids;
}

// Asserts every component of `got` (N, dim) is within kTolerance of `expected`.
void check_embeddings(const std::vector<float>& got,
                      const std::vector<std::vector<double>>& expected, int dim) {
  REQUIRE(got.size() == expected.size() * static_cast<std::size_t>(dim));
  double worst = 0;
  std::size_t worst_row = 0, worst_col = 0, over = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    REQUIRE(expected[i].size() == static_cast<std::size_t>(dim));
    for (int c = 0; c < dim; ++c) {
      const double error = std::abs(got[i * dim + c] - expected[i][c]);
      if (!(error <= kTolerance)) ++over;  // NaN counts as over
      if (!(error <= worst)) {
        worst = error;
        worst_row = i;
        worst_col = c;
      }
    }
  }
  INFO("worst |error| " << worst << " at sentence " << worst_row << " component " << worst_col
                        << ": got " << got[worst_row * dim + worst_col] << ", expected "
                        << expected[worst_row][worst_col]);
  CHECK(over == 0);
}

// Encodes all inputs in one batch and one by one, comparing both with `expected_file`.
void check_encoder(Encoder& encoder, const std::string& expected_file) {
  const auto expected = read_vectors(test::data_path(expected_file));
  const auto& ids = inputs();
  REQUIRE(expected.size() == ids.size());
  const int C = encoder.dim();
  {
    INFO("all " << ids.size() << " sentences in one padded batch");
    std::vector<float> out(ids.size() * C);
    encoder.encode_ids(ids, out.data());
    check_embeddings(out, expected, C);
  }
  {
    INFO("each sentence alone");
    std::vector<float> out(ids.size() * C);
    for (std::size_t i = 0; i < ids.size(); ++i) encoder.encode_ids({ids[i]}, out.data() + i * C);
    check_embeddings(out, expected, C);
  }
}

Model tiny_model() {
  return load_model(test::data_path("golden/tiny.semb"));
}

}  // namespace

TEST_CASE("golden: the fixture inputs are what the test expects") {
  const auto& ids = inputs();
  REQUIRE(ids.size() == 10);
  std::size_t shortest = 99, longest = 0;
  for (const auto& s : ids) {
    REQUIRE(!s.empty());
    CHECK(s[0] == 2);  // BOS
    shortest = std::min(shortest, s.size());
    longest = std::max(longest, s.size());
  }
  CHECK(shortest == 1);  // BOS alone
  CHECK(longest == 16);  // max_len
}

TEST_CASE("golden: mean pooling, L2-normalised (tiny.semb)") {
  Encoder encoder = Encoder::load(test::data_path("golden/tiny.semb"));
  REQUIRE(encoder.dim() == 32);
  REQUIRE(encoder.config().pooling == Pooling::kMean);
  REQUIRE(encoder.config().normalize);
  check_encoder(encoder, "golden/forward_expected.tsv");

  SECTION("the outputs have unit norm") {
    std::vector<float> out(inputs().size() * 32);
    encoder.encode_ids(inputs(), out.data());
    for (std::size_t i = 0; i < inputs().size(); ++i) {
      double norm = 0;
      for (int c = 0; c < 32; ++c) norm += double(out[i * 32 + c]) * out[i * 32 + c];
      CHECK(std::sqrt(norm) == Approx(1.0).margin(1e-5));
    }
  }
}

TEST_CASE("golden: mean pooling with normalisation switched off by the options") {
  EncoderOptions options;
  options.normalize = false;
  Encoder encoder(tiny_model(), options);
  check_encoder(encoder, "golden/forward_expected_mean_raw.tsv");
}

TEST_CASE("golden: cls pooling, not normalised") {
  Model model = tiny_model();
  model.config.pooling = Pooling::kCls;
  model.config.normalize = false;
  Encoder encoder(std::move(model));
  check_encoder(encoder, "golden/forward_expected_cls.tsv");
}

TEST_CASE("golden: max pooling, not normalised") {
  Model model = tiny_model();
  model.config.pooling = Pooling::kMax;
  model.config.normalize = false;
  Encoder encoder(std::move(model));
  check_encoder(encoder, "golden/forward_expected_max.tsv");
}

TEST_CASE("golden: results do not depend on batch size or order") {
  EncoderOptions options;
  options.batch_size = 3;  // batches of 3, 3, 3, 1
  Encoder encoder(tiny_model(), options);
  const auto expected = read_vectors(test::data_path("golden/forward_expected.tsv"));
  auto ids = inputs();
  std::vector<std::vector<double>> reversed(expected.rbegin(), expected.rend());
  std::reverse(ids.begin(), ids.end());
  std::vector<float> out(ids.size() * 32);
  encoder.encode_ids(ids, out.data());
  check_embeddings(out, reversed, 32);
}

TEST_CASE("golden: the gradient fixtures are well-formed model-format files") {
  // The whole-model backward test compares against these; here only their form.
  const Model model = load_model(test::data_path("golden/grads_model.semb"));
  Encoder encoder(load_model(test::data_path("golden/grads_model.semb")));  // tokenizer usable
  CHECK(encoder.dim() == 32);

  const std::vector<std::pair<std::string, double>> files = {
      {"golden/grads_infonce_sym.semb", 0.17996079887377137},
      {"golden/grads_infonce_neg.semb", 0.579442192740687},
      {"golden/grads_triplet.semb", 0.362250762378523}};
  for (const auto& [name, loss] : files) {
    INFO(name);
    const std::string path = test::data_path(name);
    const Model grads = load_model(path);
    CHECK(grads.config.to_json() == model.config.to_json());
    REQUIRE(grads.parameters.size() == model.parameters.size());
    std::size_t nonzero = 0, nonfinite = 0;
    for (float g : grads.parameters) {
      nonfinite += !std::isfinite(g);
      nonzero += g != 0.0f;
    }
    CHECK(nonfinite == 0);
    CHECK(nonzero > grads.parameters.size() / 2);
    const auto header =
        nlohmann::json::parse(parse_tensor_file(test::read_file(path), path).header);
    CHECK(header.at("kind") == "gradients");
    CHECK(header.at("loss").get<double>() == loss);
  }

  const auto rows = read_ids(test::data_path("golden/grads_batch.tsv"));
  REQUIRE(rows.size() == 4);
  std::ifstream in(test::data_path("golden/grads_batch.tsv"));
  for (std::string line; std::getline(in, line);)
    CHECK(std::count(line.begin(), line.end(), '\t') == 2);  // anchor, positive, negative
}
