// Fuzzes the in-place model loader, map_model(): the input bytes are a model
// file (via a memfd) that is mapped and, from format version 2 on, read where
// it lies, as Encoder::load does. Expected failures are sentemb::Error
// (ModelFileError, IoError); a crash, a sanitizer report, another exception or
// a huge allocation from a small file is a bug.
//
// Differential: the copying loader (load_model) must accept exactly the files
// map_model accepts, with the same config, tokenizer and parameter values. A
// model read in place must point every tensor inside the mapped file (64-byte
// aligned from its start in version 2 files); one read by copying, into an
// arena of parameter_count() floats at the offsets of parameter_specs.
// Each input is also tried with its checksum fixed up (as_is_and_checksum_fixed).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "model_file_internal.h"
#include "sentemb/errors.h"
#include "sentemb/model_file.h"
#include "sentemb/parameters.h"
#include "tensor_file.h"

namespace {

sentemb::fuzz::MemFile& input_file() {
  static sentemb::fuzz::MemFile file("sentemb_fuzz_mapped_model");
  return file;
}

// The tensors' pointers in parameter_specs order (the order bind_parameters walks).
std::vector<const float*> pointers(const sentemb::ParameterTensors& t) {
  std::vector<const float*> p = {t.tok_emb, t.pos_emb};
  for (const auto& b : t.blocks)
    p.insert(p.end(), {b.ln1_w, b.ln1_b, b.qkv_w, b.qkv_b, b.proj_w, b.proj_b, b.ln2_w, b.ln2_b,
                       b.fc1_w, b.fc1_b, b.fc2_w, b.fc2_b});
  p.insert(p.end(), {t.lnf_w, t.lnf_b});
  return p;
}

// True when [p, p + n floats) lies inside `bytes`.
bool inside(const float* p, std::int64_t n, std::string_view bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(bytes.data());
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  return at >= begin && at - begin <= bytes.size() &&
         static_cast<std::uint64_t>(n) * sizeof(float) <= bytes.size() - (at - begin);
}

void map(std::string_view bytes) {
  const std::string& path = input_file().path();
  input_file().assign(bytes);
  std::optional<sentemb::Model> copied;
  try {
    copied = sentemb::load_model(path);
  } catch (const sentemb::Error&) {
  }
  std::optional<sentemb::MappedModel> mapped;
  try {
    mapped = sentemb::map_model(path);
  } catch (const sentemb::Error&) {
  }
  FUZZ_CHECK(mapped.has_value() == copied.has_value());  // the two loaders agree
  if (!mapped) return;

  const sentemb::ModelConfig& config = mapped->config;
  FUZZ_CHECK(config.to_json() == copied->config.to_json());
  FUZZ_CHECK(mapped->tokenizer_model == copied->tokenizer_model);
  FUZZ_CHECK(!mapped->tokenizer_model.empty());
  std::uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, sizeof(version));  // it loaded: 12+ bytes
  // Version 2 aligns every tensor, so it is always read in place.
  if (version >= 2) FUZZ_CHECK(mapped->file != nullptr);
  if (mapped->file) {
    FUZZ_CHECK(mapped->arena.empty());
  } else {
    FUZZ_CHECK(static_cast<std::int64_t>(mapped->arena.size()) == config.parameter_count());
  }

  const auto specs = sentemb::parameter_specs(config);
  const auto where = pointers(mapped->tensors);
  FUZZ_CHECK(where.size() == specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const float* p = where[i];
    if (mapped->file) {
      const std::string_view file = mapped->file->bytes();
      FUZZ_CHECK(file.size() == bytes.size());
      FUZZ_CHECK(inside(p, specs[i].size, file));
      FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(p) % alignof(float) == 0);
      if (version >= 2)
        FUZZ_CHECK(static_cast<std::size_t>(reinterpret_cast<const char*>(p) - file.data()) %
                       sentemb::kTensorAlignment ==
                   0);
    } else {
      FUZZ_CHECK(p == mapped->arena.data() + specs[i].offset);
    }
    // The same values as the copying loader read (every byte of the tensor is read).
    FUZZ_CHECK(std::memcmp(p, copied->parameters.data() + specs[i].offset,
                           static_cast<std::size_t>(specs[i].size) * sizeof(float)) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sentemb::fuzz::as_is_and_checksum_fixed(data, size, map);
  return 0;
}
