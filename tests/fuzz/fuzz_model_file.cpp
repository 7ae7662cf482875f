// Fuzzes the model-file loader: parse_tensor_file() on the input bytes, then
// model_from_tensor_file() on whatever parses. Expected failures are
// sentemb::Error (ModelFileError); a crash, a sanitizer report, another
// exception or a huge allocation from a small file is a bug.
//
// Each input is tried twice: as it is, and with its checksum fixed up
// (as_is_and_checksum_fixed in fuzz_check.h) so that mutations reach the header
// JSON, the tensor table and the config.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "model_file_internal.h"
#include "sentemb/errors.h"
#include "sentemb/parameters.h"
#include "tensor_file.h"

namespace {

void load(std::string_view bytes) {
  sentemb::TensorFile file;
  try {
    file = sentemb::parse_tensor_file(bytes, "fuzz");
  } catch (const sentemb::ModelFileError&) {
    return;
  }
  // What parsed must serialize back to the same bytes (the format has one
  // encoding per file, and the parser rejects trailing bytes) when it was written
  // in the current version; an older version is re-encoded in the current one,
  // which must parse back to the same contents.
  const std::string reencoded = sentemb::serialize_tensor_file(file);
  std::uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, sizeof(version));  // it parsed: 12+ bytes
  if (version == sentemb::kTensorFileVersion) {
    FUZZ_CHECK(reencoded == bytes);
  } else {
    const sentemb::TensorFile back = sentemb::parse_tensor_file(reencoded, "fuzz-reencoded");
    FUZZ_CHECK(back.header == file.header && back.blob == file.blob);
    FUZZ_CHECK(back.tensors.size() == file.tensors.size());
    for (std::size_t i = 0; i < file.tensors.size(); ++i) {
      const auto &a = back.tensors[i], &b = file.tensors[i];
      FUZZ_CHECK(a.name == b.name && a.shape == b.shape && a.data.size() == b.data.size());
      FUZZ_CHECK(std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0);
    }
  }

  sentemb::Model model;
  try {
    model = sentemb::model_from_tensor_file(file, "fuzz");
  } catch (const sentemb::ModelFileError&) {
    return;
  }
  FUZZ_CHECK(static_cast<std::int64_t>(model.parameters.size()) == model.config.parameter_count());
  FUZZ_CHECK(!model.tokenizer_model.empty());
  // Every parameter tensor came from the file, value for value.
  for (const auto& spec : sentemb::parameter_specs(model.config)) {
    const sentemb::NamedTensor* t = file.find(spec.name);
    FUZZ_CHECK(t != nullptr && t->shape == spec.shape);
    FUZZ_CHECK(static_cast<std::int64_t>(t->data.size()) == spec.size);
    FUZZ_CHECK(std::memcmp(t->data.data(), model.parameters.data() + spec.offset,
                           t->data.size() * sizeof(float)) == 0);
  }
  // A loaded model saves and loads back to the same parameters.
  const std::string saved = sentemb::serialize_tensor_file(sentemb::model_to_tensor_file(model));
  const sentemb::Model again =
      sentemb::model_from_tensor_file(sentemb::parse_tensor_file(saved, "fuzz-resave"), "resave");
  FUZZ_CHECK(again.config.to_json() == model.config.to_json());
  FUZZ_CHECK(again.parameters.size() == model.parameters.size());
  FUZZ_CHECK(std::memcmp(again.parameters.data(), model.parameters.data(),
                         model.parameters.size() * sizeof(float)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sentemb::fuzz::as_is_and_checksum_fixed(data, size, load);
  return 0;
}
