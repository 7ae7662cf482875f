// sentemb_export: the ONNX graph parsed back (through the library's own protobuf, as
// JSON), the safetensors layout, the export directory and its errors. The real
// consumers (ONNX Runtime, python3-onnx, numpy) run in the ctest tests beside this
// file; these run in every build, the sanitized ones included.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "export/onnx/onnx_graph.h"
#include "infer/test_models.h"
#include "sentemb/errors.h"
#include "sentemb/export.h"
#include "test_util.h"

namespace st = sentemb::test;
using nlohmann::json;
using sentemb::ExportFormat;

namespace {

json summary_of(const sentemb::Model& model) {
  return json::parse(sentemb::exporting::onnx_graph_summary(sentemb::onnx_model_bytes(model)));
}

long count_op(const json& summary, const std::string& op) {
  return std::count(summary["ops"].begin(), summary["ops"].end(), op);
}

}  // namespace

TEST_CASE("onnx export parses back with its inputs, outputs, opset and every weight", "[export]") {
  const sentemb::Model model = st::tiny_model();
  const auto& c = model.config;
  const json s = summary_of(model);
  CHECK(s["ir_version"] == 8);
  CHECK(s["producer_name"] == "sentemb");
  REQUIRE(s["opsets"].size() == 1);
  CHECK(s["opsets"][0]["domain"] == "");
  CHECK(s["opsets"][0]["version"] == sentemb::kOnnxOpset);
  CHECK(json::parse(s["metadata"]["sentemb_config"].get<std::string>()) ==
        json::parse(c.to_json()));

  constexpr int kInt64 = 7, kFloat = 1;  // onnx.TensorProto.DataType
  CHECK(s["inputs"] ==
        json::array({
            {{"name", "input_ids"}, {"elem_type", kInt64}, {"dims", {"batch", "sequence"}}},
            {{"name", "attention_mask"}, {"elem_type", kInt64}, {"dims", {"batch", "sequence"}}},
        }));
  CHECK(s["outputs"] ==
        json::array({
            {{"name", "sentence_embedding"}, {"elem_type", kFloat}, {"dims", {"batch", c.dim}}},
            {{"name", "token_embeddings"},
             {"elem_type", kFloat},
             {"dims", {"batch", "sequence", c.dim}}},
        }));

  // Every parameter is an fp32 initializer of its shape and size, under its name.
  std::map<std::string, json> initializers;
  for (const auto& t : s["initializers"]) initializers[t["name"]] = t;
  for (const auto& spec : sentemb::parameter_specs(c)) {
    INFO(spec.name);
    REQUIRE(initializers.count(spec.name) == 1);
    const json& t = initializers[spec.name];
    CHECK(t["data_type"] == kFloat);
    CHECK(t["dims"] == json(spec.shape));
    CHECK(t["raw_bytes"] == spec.size * 4);
  }

  // The blocks' structure: per block two LayerNorms, one softmax, GELU's erf and six
  // matmuls; one final LayerNorm; mean pooling (masked sum and count); the L2 norm.
  CHECK(count_op(s, "LayerNormalization") == 2 * c.layers + 1);
  CHECK(count_op(s, "Softmax") == c.layers);
  CHECK(count_op(s, "Erf") == c.layers);
  CHECK(count_op(s, "MatMul") == 6 * c.layers);  // qkv, q·kᵀ, p·v, proj, fc1, fc2
  CHECK(count_op(s, "ReduceSum") == 2);          // masked sum and count
  CHECK(count_op(s, "ReduceSumSquare") == 1);
  CHECK(count_op(s, "Identity") == 0);
}

TEST_CASE("onnx export follows the model's pooling and normalisation", "[export]") {
  using sentemb::Pooling;
  sentemb::Model cls = st::tiny_model(Pooling::kCls);
  const json c = summary_of(cls);
  CHECK(count_op(c, "ReduceSum") == 0);
  CHECK(count_op(c, "ReduceMax") == 0);
  CHECK(count_op(c, "Gather") == 2);  // token embeddings, position 0

  sentemb::Model max = st::tiny_model(Pooling::kMax);
  max.config.normalize = false;
  const json m = summary_of(max);
  CHECK(count_op(m, "ReduceMax") == 1);
  CHECK(count_op(m, "Where") == 1);
  CHECK(count_op(m, "ReduceSumSquare") == 0);
  CHECK(count_op(m, "Identity") == 1);  // sentence_embedding = the pooled vector
}

TEST_CASE("safetensors export: header, metadata and the tensors' bytes", "[export]") {
  const sentemb::Model model = st::tiny_model();
  const std::string bytes = sentemb::safetensors_bytes(model);
  REQUIRE(bytes.size() > 8);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size = header_size << 8 | static_cast<unsigned char>(bytes[i]);
  CHECK(header_size % 8 == 0);
  REQUIRE(8 + header_size <= bytes.size());
  json header = json::parse(bytes.substr(8, header_size));
  const std::string data = bytes.substr(8 + header_size);
  CHECK(data.size() == model.parameters.size() * sizeof(float));

  const json metadata = header["__metadata__"];
  for (const auto& [key, value] : metadata.items()) CHECK(value.is_string());
  CHECK(json::parse(metadata["sentemb_config"].get<std::string>()) ==
        json::parse(model.config.to_json()));
  header.erase("__metadata__");
  const auto specs = sentemb::parameter_specs(model.config);
  CHECK(header.size() == specs.size());
  for (const auto& spec : specs) {
    INFO(spec.name);
    const json& t = header.at(spec.name);
    CHECK(t["dtype"] == "F32");
    CHECK(t["shape"] == json(spec.shape));
    const std::uint64_t begin = t["data_offsets"][0], end = t["data_offsets"][1];
    REQUIRE(end - begin == std::uint64_t(spec.size) * 4);
    REQUIRE(end <= data.size());
    CHECK(std::memcmp(data.data() + begin, model.parameters.data() + spec.offset, end - begin) ==
          0);
  }
}

TEST_CASE("export_model writes the model, tokenizer.model and sentemb_tokenizer.json", "[export]") {
  st::TempDir tmp;
  const sentemb::Model model = st::tiny_model();
  const std::string dir = tmp.file("nested/out");
  for (ExportFormat format : {ExportFormat::kOnnx, ExportFormat::kSafetensors}) {
    const auto files = sentemb::export_model(model, format, dir);
    REQUIRE(files.size() == 3);
    for (const auto& f : files) CHECK(std::filesystem::is_regular_file(f));
    const std::string model_file =
        format == ExportFormat::kOnnx ? sentemb::kOnnxModelFile : sentemb::kSafetensorsFile;
    CHECK(files[0] == dir + "/" + model_file);
    CHECK(st::read_file(files[0]) == (format == ExportFormat::kOnnx
                                          ? sentemb::onnx_model_bytes(model)
                                          : sentemb::safetensors_bytes(model)));
    CHECK(st::read_file(dir + "/tokenizer.model") == model.tokenizer_model);
  }
  const json tok = json::parse(st::read_file(dir + "/sentemb_tokenizer.json"));
  CHECK(tok["bos_id"] == sentemb::Tokenizer::kBosId);
  CHECK(tok["pad_id"] == sentemb::Tokenizer::kPadId);
  CHECK(tok["max_length"] == model.config.max_len);
  CHECK(tok["pooling"] == "mean");
  CHECK(tok["normalize"] == true);
  CHECK(tok["dim"] == model.config.dim);
  CHECK(tok["normalizer"] == "nmt_nfkc");  // tests/data/tokenizer/README.md
  CHECK(tok["lowercase"] == false);
}

TEST_CASE("sentemb_tokenizer.json reads case folding from the SentencePiece normalizer",
          "[export]") {
  sentemb::Model model = st::tiny_model();
  // A ModelProto holding only normalizer_spec (field 3) { name (field 1): "nmt_nfkc_cf" }.
  model.tokenizer_model = std::string("\x1a\x0d\x0a\x0bnmt_nfkc_cf", 15);
  json tok = json::parse(sentemb::tokenizer_config_json(model));
  CHECK(tok["normalizer"] == "nmt_nfkc_cf");
  CHECK(tok["lowercase"] == true);
  model.tokenizer_model = "\x1a\x03";  // truncated: no name to read
  tok = json::parse(sentemb::tokenizer_config_json(model));
  CHECK(tok["normalizer"] == "");
  CHECK(tok["lowercase"] == false);
}

TEST_CASE("export errors name the format, the directory and the model", "[export]") {
  CHECK(sentemb::export_format_from_string("onnx") == ExportFormat::kOnnx);
  CHECK(sentemb::export_format_from_string("safetensors") == ExportFormat::kSafetensors);
  CHECK_THROWS_AS(sentemb::export_format_from_string("torchscript"), sentemb::UsageError);
  CHECK_THROWS_WITH(sentemb::export_format_from_string("torchscript"),
                    Catch::Contains("torchscript"));

  st::TempDir tmp;
  const sentemb::Model model = st::tiny_model();
  st::write_file(tmp.file("a_file"), "x");
  CHECK_THROWS_AS(sentemb::export_model(model, ExportFormat::kOnnx, tmp.file("a_file")),
                  sentemb::IoError);
  CHECK_THROWS_WITH(sentemb::export_model(model, ExportFormat::kOnnx, tmp.file("a_file")),
                    Catch::Contains(tmp.file("a_file")));

  sentemb::Model broken = model;
  broken.parameters.pop_back();
  CHECK_THROWS_AS(sentemb::export_model(broken, ExportFormat::kSafetensors, tmp.file("out")),
                  sentemb::ModelFileError);
  CHECK_FALSE(std::filesystem::exists(tmp.file("out/model.safetensors")));
}

TEST_CASE("onnx_graph_summary rejects bytes that are not a model", "[export]") {
  CHECK_THROWS_AS(sentemb::exporting::onnx_graph_summary("\xff\xff\xff"), std::runtime_error);
}
