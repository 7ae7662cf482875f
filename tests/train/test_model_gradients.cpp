// The whole model's loss and every parameter gradient against the independent
// PyTorch reference (tools/reference/, fixtures in tests/data/golden/).
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model_file_internal.h"
#include "sentemb/parameters.h"
#include "test_util.h"
#include "train/losses.h"
#include "train/training_encoder.h"

using namespace sentemb;

namespace {

std::vector<int> parse_ids(const std::string& field) {
  std::istringstream in(field);
  std::vector<int> ids;
  for (int id; in >> id;) ids.push_back(id);
  return ids;
}

struct Triplets {
  std::vector<std::vector<int>> sequences;  // anchors, then positives, then negatives
  int B = 0;
};

Triplets read_batch() {
  std::ifstream in(test::data_path("golden/grads_batch.tsv"));
  std::vector<std::vector<int>> a, p, n;
  for (std::string line; std::getline(in, line);) {
    const auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    a.push_back(parse_ids(line.substr(0, t1)));
    p.push_back(parse_ids(line.substr(t1 + 1, t2 - t1 - 1)));
    n.push_back(parse_ids(line.substr(t2 + 1)));
  }
  Triplets t;
  t.B = static_cast<int>(a.size());
  for (auto* part : {&a, &p, &n})
    for (auto& s : *part) t.sequences.push_back(s);
  return t;
}

// Mixed precision rounds every matmul operand to bf16 (8 significant bits), so
// there each tensor's gradient is held to a relative L2 error instead of the
// per-component fp32 bound.
void check_against_reference(const std::string& fixture, Loss& loss, bool use_negatives,
                             int threads = 1, bool bf16 = false) {
  omp_set_num_threads(threads);  // what `train --threads` does
  const Model model = load_model(test::data_path("golden/grads_model.semb"));
  const auto ref_file =
      parse_tensor_file(test::read_file(test::data_path("golden/" + fixture)), fixture);
  const double ref_loss = nlohmann::json::parse(ref_file.header).at("loss").get<double>();
  const Triplets batch = read_batch();
  const int B = batch.B, C = model.config.dim;

  train::TrainingEncoder encoder(model.config, {}, bf16);
  std::vector<const std::vector<int>*> seqs;
  for (const auto& s : batch.sequences) seqs.push_back(&s);
  std::vector<float> out(3 * B * C), dout(3 * B * C, 0.0f);
  encoder.forward(model.parameters.data(), seqs, out.data(), 0);

  EmbeddingBatch e;
  e.anchor = out.data();
  e.positive = out.data() + B * C;
  e.negative = use_negatives ? out.data() + 2 * B * C : nullptr;
  e.batch = B;
  e.dim = C;
  const float value = loss.forward(e);
  CHECK(value == Approx(ref_loss).epsilon(bf16 ? 1e-2 : 1e-4));
  EmbeddingGrads g{dout.data(), dout.data() + B * C,
                   use_negatives ? dout.data() + 2 * B * C : nullptr};
  loss.backward(1.0f, g);
  std::vector<float> grads(model.parameters.size(), 0.0f);
  encoder.backward(model.parameters.data(), dout.data(), grads.data());

  // Tolerance: |g − g_ref| <= 1e-4 · max|g_ref| + 1e-3 · |g_ref| per component, the
  // reference being float64 and sentemb float32.
  for (const auto& spec : parameter_specs(model.config)) {
    const NamedTensor* ref = ref_file.find(spec.name);
    REQUIRE(ref != nullptr);
    double ref_max = 0;
    for (float v : ref->data) ref_max = std::max(ref_max, std::fabs(double(v)));
    int bad = 0;
    double worst = 0, err2 = 0, ref2 = 0;
    for (std::int64_t i = 0; i < spec.size; ++i) {
      const double a = grads[spec.offset + i], r = ref->data[i];
      const double err = std::fabs(a - r), bound = 1e-4 * ref_max + 1e-3 * std::fabs(r) + 1e-9;
      worst = std::max(worst, err / bound);
      if (err > bound) ++bad;
      err2 += err * err;
      ref2 += r * r;
    }
    if (bf16) {
      const double relative = std::sqrt(err2 / std::max(ref2, 1e-30));
      INFO(fixture << " tensor " << spec.name << ": relative L2 error " << relative);
      CHECK(relative < 0.03);
      continue;
    }
    INFO(fixture << " tensor " << spec.name << ": " << bad << " components off, worst " << worst
                 << "x the bound");
    CHECK(bad == 0);
  }
}

}  // namespace

TEST_CASE("Symmetric InfoNCE gradients match the PyTorch reference", "[gradcheck][reference]") {
  InfoNceLoss loss({0.05f, true});
  check_against_reference("grads_infonce_sym.semb", loss, false);
}

TEST_CASE("InfoNCE with hard negatives matches the PyTorch reference", "[gradcheck][reference]") {
  InfoNceLoss loss({0.05f, false});
  check_against_reference("grads_infonce_neg.semb", loss, true);
}

TEST_CASE("Cosine triplet gradients match the PyTorch reference", "[gradcheck][reference]") {
  TripletLoss loss({TripletDistance::kCosine, 0.5f, false});
  check_against_reference("grads_triplet.semb", loss, true);
}

// ctest runs every test with OMP_NUM_THREADS=1; the threaded forward and backward
// (OpenMP loops, oneDNN primitives) must hold the same bounds.
TEST_CASE("The reference gradients hold with 2 and 3 training threads",
          "[gradcheck][reference][openmp]") {
  for (int threads : {2, 3}) {
    INFO(threads << " threads");
    InfoNceLoss loss({0.05f, false});
    check_against_reference("grads_infonce_neg.semb", loss, true, threads);
  }
}

TEST_CASE("bf16 mixed-precision gradients stay within bf16 rounding of the reference",
          "[gradcheck][reference][bf16]") {
  SECTION("symmetric InfoNCE") {
    InfoNceLoss loss({0.05f, true});
    check_against_reference("grads_infonce_sym.semb", loss, false, 1, true);
  }
  SECTION("InfoNCE with hard negatives") {
    InfoNceLoss loss({0.05f, false});
    check_against_reference("grads_infonce_neg.semb", loss, true, 1, true);
  }
}
