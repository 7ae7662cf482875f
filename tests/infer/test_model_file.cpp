// The model file: save/load round trip, the committed v1 fixture, and clear
// ModelFileErrors for every kind of damage (truncation anywhere, flipped bytes,
// newer versions, bad shapes, missing tensors, hostile sizes).
//
// The corruption tests walk the file with this test's own reading of the layout
// (tensor_file.h) so that they can cut or patch it at every field boundary.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_file_internal.h"
#include "sentemb/errors.h"
#include "sentemb/parameters.h"
#include "sentemb/tokenizer.h"
#include "tensor_file.h"
#include "test_util.h"

namespace {

using Catch::Matchers::Contains;
using namespace sentemb;

const std::string kSource = "damaged.semb";  // the name parse errors must carry

ModelConfig small_config() {
  ModelConfig c;
  c.vocab_size = 256;  // tiny.model's vocabulary
  c.max_len = 8;
  c.layers = 2;
  c.dim = 8;
  c.heads = 2;
  c.ffn_dim = 16;
  return c;
}

std::string tiny_tokenizer() {
  return test::read_file(test::data_path("tokenizer/tiny.model"));
}

// A serialized small model: ~241 KB (the tokenizer) + 28 tensors.
const std::string& small_model_bytes() {
  static const std::string bytes = serialize_tensor_file(
      model_to_tensor_file(Model::create(small_config(), tiny_tokenizer(), 7)));
  return bytes;
}

template <typename T>
T read_le(const std::string& bytes, std::size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

template <typename T>
void write_le(std::string& bytes, std::size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

// Offsets of every field, from an independent walk of the layout.
struct TensorLayout {
  std::string name;
  std::size_t name_size_at, name_at, dtype_at, ndim_at;
  std::vector<std::size_t> dim_at;
  std::size_t nbytes_at, pad_at, data_at, data_end;  // pad_at == data_at in version 1
};

struct FileLayout {
  std::size_t version_at = 8, header_size_at = 12, header_at = 20;
  std::size_t header_end, blob_size_at, blob_at, blob_end, count_at, checksum_at, size;
  std::vector<TensorLayout> tensors;
};

FileLayout walk(const std::string& b) {
  FileLayout l;
  l.header_end = l.header_at + read_le<std::uint64_t>(b, l.header_size_at);
  l.blob_size_at = l.header_end;
  l.blob_at = l.blob_size_at + 8;
  l.blob_end = l.blob_at + read_le<std::uint64_t>(b, l.blob_size_at);
  l.count_at = l.blob_end;
  std::size_t at = l.count_at + 4;
  const auto count = read_le<std::uint32_t>(b, l.count_at);
  for (std::uint32_t i = 0; i < count; ++i) {
    TensorLayout t;
    t.name_size_at = at;
    t.name_at = at + 4;
    const auto name_size = read_le<std::uint32_t>(b, at);
    t.name = b.substr(t.name_at, name_size);
    t.dtype_at = t.name_at + name_size;
    t.ndim_at = t.dtype_at + 4;
    const auto ndim = read_le<std::uint32_t>(b, t.ndim_at);
    at = t.ndim_at + 4;
    for (std::uint32_t d = 0; d < ndim; ++d, at += 8) t.dim_at.push_back(at);
    t.nbytes_at = at;
    t.pad_at = at + 8;
    // From version 2 on, data starts at the next multiple of 64 bytes.
    t.data_at = read_le<std::uint32_t>(b, l.version_at) >= 2 ? (t.pad_at + 63) / 64 * 64 : t.pad_at;
    t.data_end = t.data_at + read_le<std::uint64_t>(b, t.nbytes_at);
    at = t.data_end;
    l.tensors.push_back(t);
  }
  l.checksum_at = at;
  l.size = at + 8;
  REQUIRE(l.size == b.size());  // the walk itself must agree with the file
  return l;
}

const TensorLayout& tensor_named(const FileLayout& l, const std::string& name) {
  for (const auto& t : l.tensors)
    if (t.name == name) return t;
  throw std::runtime_error("the test file has no tensor " + name);
}

// The ModelFileError message of parsing and loading `bytes`, or "(no error)".
std::string load_error(const std::string& bytes) {
  try {
    model_from_tensor_file(parse_tensor_file(bytes, kSource), kSource);
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "(no error)";
}

// Re-serializes a (valid-checksum) file after editing its TensorFile form.
template <typename Edit>
std::string edited_model(Edit&& edit) {
  TensorFile file = parse_tensor_file(small_model_bytes(), "small");
  edit(file);
  return serialize_tensor_file(file);
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("model file: save and load round trip keeps everything bit for bit") {
  test::TempDir dir;
  const Model model = Model::create(small_config(), tiny_tokenizer(), 42);
  const std::string path = dir.file("model.semb");
  save_model(model, path);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  const Model loaded = load_model(path);
  CHECK(loaded.config.vocab_size == 256);
  CHECK(loaded.config.max_len == 8);
  CHECK(loaded.config.layers == 2);
  CHECK(loaded.config.dim == 8);
  CHECK(loaded.config.heads == 2);
  CHECK(loaded.config.ffn_dim == 16);
  CHECK(loaded.config.pooling == Pooling::kMean);
  CHECK(loaded.config.normalize == true);
  CHECK(loaded.config.layernorm_eps == model.config.layernorm_eps);
  CHECK(loaded.tokenizer_model == model.tokenizer_model);
  REQUIRE(loaded.parameters.size() == static_cast<std::size_t>(small_config().parameter_count()));
  CHECK(same_floats(loaded.parameters, model.parameters));

  SECTION("saving again gives the same bytes") {
    const std::string again = dir.file("again.semb");
    save_model(loaded, again);
    CHECK(test::read_file(again) == test::read_file(path));
  }
  SECTION("non-default config fields survive") {
    Model other = Model::create(small_config(), tiny_tokenizer(), 43);
    other.config.pooling = Pooling::kMax;
    other.config.normalize = false;
    other.config.layernorm_eps = 1e-6f;
    CHECK_FALSE(same_floats(other.parameters, model.parameters));  // the seed matters
    save_model(other, path);                                       // overwrites
    const Model back = load_model(path);
    CHECK(back.config.pooling == Pooling::kMax);
    CHECK(back.config.normalize == false);
    CHECK(back.config.layernorm_eps == 1e-6f);
    CHECK(same_floats(back.parameters, other.parameters));
  }
}

TEST_CASE("model file: the checksum is FNV-1a-64 over little-endian u64 words, then the tail") {
  // Values from tools/reference/sentemb_ref.py's independent implementation.
  CHECK(tensor_file_checksum("") == 0xcbf29ce484222325ull);
  CHECK(tensor_file_checksum("a") == 0xaf63dc4c8601ec8cull);  // = byte-wise FNV-1a of "a"
  CHECK(tensor_file_checksum(std::string("SENTEMB\0", 8)) == 0x89daabf528321a82ull);
  CHECK(tensor_file_checksum(std::string("SENTEMB\0abc", 11)) == 0xf5bfe6455f5c9326ull);
  std::string ramp(20, '\0');
  for (int i = 0; i < 20; ++i) ramp[i] = static_cast<char>(i);
  CHECK(tensor_file_checksum(ramp) == 0x54af7405172e3a41ull);
}

TEST_CASE("model file: the committed v1 fixture keeps loading") {
  // tests/data/model_file/v1_tiny.semb, written by the Python reference writer;
  // see tests/data/model_file/README.md. Later format versions must migrate it.
  const std::string path = test::data_path("model_file/v1_tiny.semb");
  const std::string raw = test::read_file(path);
  REQUIRE(raw.size() > 12);
  REQUIRE(read_le<std::uint32_t>(raw, 8) == 1);  // the fixture itself stays a v1 file

  const Model model = load_model(path);
  CHECK(model.config.vocab_size == 256);
  CHECK(model.config.max_len == 8);
  CHECK(model.config.layers == 1);
  CHECK(model.config.dim == 8);
  CHECK(model.config.heads == 2);
  CHECK(model.config.ffn_dim == 16);
  CHECK(model.config.pooling == Pooling::kMax);
  CHECK(model.config.normalize == false);
  CHECK(model.config.layernorm_eps == 1e-5f);

  // Arena value i = ((37 i) mod 129 - 64) / 64, exact in float.
  REQUIRE(model.parameters.size() == static_cast<std::size_t>(model.config.parameter_count()));
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < model.parameters.size(); ++i) {
    const float expected = static_cast<float>(static_cast<long>((37 * i) % 129) - 64) / 64.0f;
    if (model.parameters[i] != expected) ++mismatches;
  }
  CHECK(mismatches == 0);

  // The embedded tokenizer is a real SentencePiece model of the same vocabulary.
  const Tokenizer tokenizer = Tokenizer::from_bytes(model.tokenizer_model);
  CHECK(tokenizer.vocab_size() == 256);
  CHECK(tokenizer.id_to_piece(Tokenizer::kBosId) == "<s>");
}

TEST_CASE("model file: the C++ writer reproduces the reference writer's v1 bytes") {
  // Both writers follow tensor_file.h independently; identical bytes prove they
  // agree on every field, the JSON header text and the checksum. The C++ writer
  // writes version 2, which differs from version 1 only by the version number and
  // the zero bytes that align each tensor's data: without them, and with the
  // checksum recomputed, its bytes must be the reference's.
  REQUIRE(kTensorFileVersion == 2);
  for (const char* name : {"model_file/v1_tiny.semb", "golden/tiny.semb"}) {
    INFO(name);
    const std::string path = test::data_path(name);
    const std::string reference = test::read_file(path);
    const std::string ours = serialize_tensor_file(model_to_tensor_file(load_model(path)));
    const FileLayout l = walk(ours);
    std::string as_v1;
    std::size_t from = 0;
    for (const auto& t : l.tensors) {
      CHECK(t.data_at % kTensorAlignment == 0);
      CHECK(ours.substr(t.pad_at, t.data_at - t.pad_at).find_first_not_of('\0') ==
            std::string::npos);
      as_v1 += ours.substr(from, t.pad_at - from);
      from = t.data_at;
    }
    as_v1 += ours.substr(from, l.checksum_at - from);
    write_le<std::uint32_t>(as_v1, l.version_at, 1);
    const std::uint64_t checksum = tensor_file_checksum(as_v1);
    as_v1.append(reinterpret_cast<const char*>(&checksum), 8);
    CHECK(as_v1.size() == reference.size());
    CHECK(as_v1 == reference);
  }
}

TEST_CASE("model file: a mapped version 2 file is read in place, a version 1 file copied",
          "[reliability]") {
  test::TempDir dir;
  const std::string v2 = dir.file("v2.semb");
  save_model(Model::create(small_config(), tiny_tokenizer(), 7), v2);
  const std::string v1 = test::data_path("model_file/v1_tiny.semb");
  for (const std::string& path : {v2, v1}) {
    INFO(path);
    const Model copied = load_model(path);
    const MappedModel mapped = map_model(path);
    CHECK(mapped.config.to_json() == copied.config.to_json());
    CHECK(mapped.tokenizer_model == copied.tokenizer_model);
    // In place for v2: no arena, every tensor inside the mapping and aligned.
    CHECK(mapped.arena.empty() == (path == v2));
    CHECK(static_cast<bool>(mapped.file) == (path == v2));
    const auto expected =
        bind_parameters(copied.config, const_cast<float*>(copied.parameters.data()));
    std::vector<std::pair<const float*, const float*>> pairs = {
        {mapped.tensors.tok_emb, expected.tok_emb},
        {mapped.tensors.pos_emb, expected.pos_emb},
        {mapped.tensors.lnf_w, expected.lnf_w},
        {mapped.tensors.lnf_b, expected.lnf_b}};
    for (std::size_t b = 0; b < expected.blocks.size(); ++b) {
      const auto &m = mapped.tensors.blocks[b], &e = expected.blocks[b];
      pairs.insert(pairs.end(), {{m.ln1_w, e.ln1_w},
                                 {m.ln1_b, e.ln1_b},
                                 {m.qkv_w, e.qkv_w},
                                 {m.qkv_b, e.qkv_b},
                                 {m.proj_w, e.proj_w},
                                 {m.proj_b, e.proj_b},
                                 {m.ln2_w, e.ln2_w},
                                 {m.ln2_b, e.ln2_b},
                                 {m.fc1_w, e.fc1_w},
                                 {m.fc1_b, e.fc1_b},
                                 {m.fc2_w, e.fc2_w},
                                 {m.fc2_b, e.fc2_b}});
    }
    const auto specs = parameter_specs(copied.config);
    REQUIRE(pairs.size() == specs.size());
    std::size_t mismatched = 0, misaligned = 0;
    for (const auto& [m, e] : pairs) {
      // The spec whose arena place `e` is gives the tensor's size.
      const auto offset = e - copied.parameters.data();
      const auto spec = std::find_if(specs.begin(), specs.end(),
                                     [&](const TensorSpec& s) { return s.offset == offset; });
      REQUIRE(spec != specs.end());
      if (std::memcmp(m, e, spec->size * sizeof(float)) != 0) ++mismatched;
      if (path == v2 && reinterpret_cast<std::uintptr_t>(m) % kTensorAlignment != 0) ++misaligned;
    }
    CHECK(mismatched == 0);
    CHECK(misaligned == 0);
  }
  CHECK_THROWS_AS(map_model(dir.file("missing.semb")), IoError);
}

TEST_CASE("model file: a missing file is an IoError naming the path") {
  test::TempDir dir;
  const std::string path = dir.file("nope.semb");
  try {
    load_model(path);
    FAIL("no error");
  } catch (const IoError& e) {
    CHECK_THAT(e.what(), Contains("nope.semb"));
  }
}

TEST_CASE("model file: an empty file, a directory and a non-model file name the path",
          "[reliability]") {
  test::TempDir dir;
  const std::string empty = dir.file("empty.semb"), text = dir.file("notes.semb");
  test::write_file(empty, "");
  test::write_file(text, "just some text, not a model\n");
  CHECK_THROWS_WITH(load_model(empty), Contains(empty) && Contains("truncated"));
  CHECK_THROWS_AS(load_model(empty), ModelFileError);
  CHECK_THROWS_WITH(load_model(text), Contains(text) && Contains("bad magic"));
  CHECK_THROWS_WITH(load_model(dir.path().string()),
                    Contains(dir.path().string()) && Contains("not a regular file"));
  CHECK_THROWS_AS(load_model(dir.path().string()), IoError);
}

TEST_CASE("model file: bad magic", "[reliability]") {
  std::string bytes = small_model_bytes();
  bytes[0] = 'X';
  CHECK_THAT(load_error(bytes), Contains("bad magic") && Contains(kSource));
  CHECK_THAT(load_error("GGUF plus some other bytes"), Contains("bad magic"));
  CHECK_THAT(load_error(""), Contains("truncated"));
}

TEST_CASE("model file: a newer format version is refused", "[reliability]") {
  const FileLayout l = walk(small_model_bytes());
  std::string bytes = small_model_bytes();
  write_le<std::uint32_t>(bytes, l.version_at, kTensorFileVersion + 1);
  const std::string message = load_error(bytes);
  CHECK_THAT(message, Contains("newer") && Contains(kSource));
  CHECK_THAT(message, Contains(std::to_string(kTensorFileVersion + 1)));

  write_le<std::uint32_t>(bytes, l.version_at, 0);
  CHECK_THAT(load_error(bytes), Contains("version 0"));
}

TEST_CASE("model file: truncation at every section boundary is reported", "[reliability]") {
  const std::string& full = small_model_bytes();
  const FileLayout l = walk(full);

  std::vector<std::pair<std::size_t, std::string>> cuts = {
      {0, "empty file"},
      {4, "inside the magic"},
      {l.version_at, "after the magic"},
      {l.header_size_at, "after the version"},
      {l.header_at, "after the header size"},
      {l.header_at + 5, "inside the header"},
      {l.blob_size_at, "after the header"},
      {l.blob_at, "after the tokenizer size"},
      {l.blob_at + 1000, "inside the tokenizer"},
      {l.count_at, "after the tokenizer"},
      {l.count_at + 4, "after the tensor count"},
      {l.checksum_at, "before the checksum"},
      {l.checksum_at + 4, "inside the checksum"},
      {l.size - 1, "one byte short"},
  };
  for (const auto& t : l.tensors) {
    cuts.push_back({t.name_at, "after the name size of " + t.name});
    cuts.push_back({t.dtype_at, "after the name of " + t.name});
    cuts.push_back({t.ndim_at, "after the dtype of " + t.name});
    for (auto at : t.dim_at) cuts.push_back({at, "before a dimension of " + t.name});
    cuts.push_back({t.nbytes_at, "before the byte size of " + t.name});
    cuts.push_back({t.data_at, "before the data of " + t.name});
    cuts.push_back({t.data_end, "after the data of " + t.name});
    if (t.data_at > t.pad_at + 1)
      cuts.push_back({t.pad_at + 1, "inside the alignment of " + t.name});
  }
  // Points inside fields of the first, a middle and the last tensor.
  for (std::size_t i : {std::size_t{0}, l.tensors.size() / 2, l.tensors.size() - 1}) {
    const auto& t = l.tensors[i];
    cuts.push_back({t.name_size_at + 2, "inside the name size of " + t.name});
    cuts.push_back({t.name_at + 1, "inside the name of " + t.name});
    cuts.push_back({t.dim_at[0] + 3, "inside a dimension of " + t.name});
    cuts.push_back({t.nbytes_at + 5, "inside the byte size of " + t.name});
    cuts.push_back({t.data_at + 1, "one byte into the data of " + t.name});
    cuts.push_back({(t.data_at + t.data_end) / 2, "halfway through the data of " + t.name});
    cuts.push_back({t.data_end - 1, "one byte short of the data of " + t.name});
  }

  for (const auto& [size, where] : cuts) {
    INFO("truncated to " << size << " of " << full.size() << " bytes: " << where);
    REQUIRE(size < full.size());
    CHECK_THAT(load_error(full.substr(0, size)), Contains("truncated") && Contains(kSource));
  }

  SECTION("through load_model, the message names the path") {
    test::TempDir dir;
    const std::string path = dir.file("cut.semb");
    test::write_file(path, full.substr(0, l.tensors[3].data_at + 10));
    try {
      load_model(path);
      FAIL("no error");
    } catch (const ModelFileError& e) {
      CHECK_THAT(e.what(), Contains(path) && Contains("truncated"));
    }
  }
}

TEST_CASE("model file: a flipped byte in any section is caught", "[reliability]") {
  const std::string& full = small_model_bytes();
  const FileLayout l = walk(full);
  const auto& qkv = tensor_named(l, "blocks.1.attn.qkv.weight");

  // Bytes whose change keeps the file's structure: only the checksum can tell.
  const std::vector<std::pair<std::size_t, std::string>> silent = {
      {l.header_at + 3, "the JSON header"},
      {l.header_end - 2, "the end of the JSON header"},
      {l.blob_at + 17, "the tokenizer"},
      {l.blob_end - 1, "the tokenizer's last byte"},
      {l.tensors[0].name_at + 1, "a tensor name"},
      {l.tensors[0].data_at, "the first tensor's data"},
      {(qkv.data_at + qkv.data_end) / 2, "a middle tensor's data"},
      {l.checksum_at - 1, "the last tensor's last byte"},
      {l.checksum_at, "the checksum"},
      {l.checksum_at + 7, "the checksum's last byte"},
  };
  for (const auto& [at, where] : silent) {
    INFO("flipped byte " << at << ": " << where);
    std::string bytes = full;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    CHECK_THAT(load_error(bytes), Contains("checksum") && Contains(kSource));
  }

  // Bytes of structural fields: caught by the field's own check first.
  SECTION("a dtype") {
    std::string bytes = full;
    bytes[qkv.dtype_at] ^= 0x01;
    CHECK_THAT(load_error(bytes), Contains("dtype") && Contains("blocks.1.attn.qkv.weight"));
  }
  SECTION("an alignment byte") {
    std::string bytes = full;
    const TensorLayout* padded = nullptr;
    for (const auto& t : l.tensors)
      if (t.data_at > t.pad_at) padded = &t;
    REQUIRE(padded);
    bytes[padded->data_at - 1] ^= 0x01;
    CHECK_THAT(load_error(bytes), Contains("alignment") && Contains(padded->name));
  }
  SECTION("a rank") {
    std::string bytes = full;
    bytes[qkv.ndim_at] ^= 0x40;
    CHECK_THAT(load_error(bytes), Contains("rank") && Contains("blocks.1.attn.qkv.weight"));
  }
  SECTION("a dimension") {
    std::string bytes = full;
    bytes[qkv.dim_at[1]] ^= 0x01;  // 24 -> 25 columns: the byte size no longer matches
    CHECK_THAT(load_error(bytes), Contains("blocks.1.attn.qkv.weight") && Contains("bytes"));
  }
  SECTION("the header size") {
    std::string bytes = full;
    bytes[l.header_size_at + 5] ^= 0x01;
    CHECK_THAT(load_error(bytes), Contains("truncated") && Contains("header"));
  }
  SECTION("the tokenizer size") {
    std::string bytes = full;
    bytes[l.blob_size_at + 6] ^= 0x01;
    CHECK_THAT(load_error(bytes), Contains("truncated") && Contains("tokenizer"));
  }
}

TEST_CASE("model file: bytes after the checksum are refused", "[reliability]") {
  CHECK_THAT(load_error(small_model_bytes() + "x"), Contains("after the checksum"));
}

TEST_CASE("model file: a tensor of the wrong shape is named", "[reliability]") {
  SECTION("same element count, transposed") {
    const auto bytes = edited_model([](TensorFile& f) {
      for (auto& t : f.tensors)
        if (t.name == "blocks.0.ffn.fc1.weight") t.shape = {16, 8};  // (C, F) is (8, 16)
    });
    CHECK_THAT(load_error(bytes),
               Contains("blocks.0.ffn.fc1.weight") && Contains("shape") && Contains(kSource));
  }
  SECTION("a different element count") {
    const auto bytes = edited_model([](TensorFile& f) {
      for (auto& t : f.tensors)
        if (t.name == "pos_emb") {
          t.shape = {9, 8};
          t.data.resize(72, 0.5f);
        }
    });
    CHECK_THAT(load_error(bytes), Contains("pos_emb") && Contains("shape"));
  }
  SECTION("a config that does not match the tensors") {
    const auto bytes = edited_model([](TensorFile& f) {
      const auto at = f.header.find("\"ffn_dim\":16");
      REQUIRE(at != std::string::npos);
      f.header.replace(at, 12, "\"ffn_dim\":32");
    });
    CHECK_THAT(load_error(bytes), Contains("blocks.0.ffn.fc1.weight") && Contains("shape"));
  }
}

TEST_CASE("model file: a missing or unexpected tensor is named", "[reliability]") {
  const auto missing = edited_model([](TensorFile& f) {
    f.tensors.erase(f.tensors.begin() + 5);  // blocks.0.attn.qkv.bias
  });
  CHECK_THAT(load_error(missing),
             Contains("missing") && Contains("blocks.0.attn.qkv.bias") && Contains(kSource));

  const auto extra = edited_model([](TensorFile& f) {
    f.tensors.push_back({"blocks.2.ln1.weight", {8}, std::vector<float>(8, 1.0f)});
  });
  CHECK_THAT(load_error(extra), Contains("unexpected") && Contains("blocks.2.ln1.weight"));
}

TEST_CASE("model file: a bad header or tokenizer is refused", "[reliability]") {
  SECTION("not JSON") {
    const auto bytes = edited_model([](TensorFile& f) { f.header = "{\"kind\": \"model\", "; });
    CHECK_THAT(load_error(bytes), Contains("header") && Contains(kSource));
  }
  SECTION("no config") {
    const auto bytes = edited_model([](TensorFile& f) { f.header = "{\"kind\":\"model\"}"; });
    CHECK_THAT(load_error(bytes), Contains("config"));
  }
  SECTION("an invalid config") {
    const auto bytes = edited_model([](TensorFile& f) {
      const auto at = f.header.find("\"heads\":2");
      REQUIRE(at != std::string::npos);
      f.header.replace(at, 9, "\"heads\":3");  // does not divide dim 8
    });
    CHECK_THAT(load_error(bytes), Contains("heads"));
  }
  SECTION("no tokenizer") {
    const auto bytes = edited_model([](TensorFile& f) { f.blob.clear(); });
    CHECK_THAT(load_error(bytes), Contains("tokenizer"));
  }
}

TEST_CASE("model file: huge declared sizes fail fast without allocating", "[reliability]") {
  const std::string& full = small_model_bytes();
  const FileLayout l = walk(full);
  const auto& emb = tensor_named(l, "tok_emb");
  const auto start = std::chrono::steady_clock::now();

  SECTION("a 16 TiB tensor") {
    std::string bytes = full;
    write_le<std::uint64_t>(bytes, emb.dim_at[0], 1ull << 20);
    write_le<std::uint64_t>(bytes, emb.dim_at[1], 1ull << 20);
    write_le<std::uint64_t>(bytes, emb.nbytes_at, 4ull << 40);
    CHECK_THAT(load_error(bytes), Contains("tok_emb") && Contains("truncated"));
  }
  SECTION("a byte size that disagrees with the shape") {
    std::string bytes = full;
    write_le<std::uint64_t>(bytes, emb.nbytes_at, 1ull << 62);
    CHECK_THAT(load_error(bytes), Contains("tok_emb") && Contains("bytes"));
  }
  SECTION("an impossible dimension") {
    std::string bytes = full;
    write_le<std::uint64_t>(bytes, emb.dim_at[0], 1ull << 50);
    CHECK_THAT(load_error(bytes), Contains("tok_emb") && Contains("shape"));
  }
  SECTION("dimensions whose product overflows") {
    std::string bytes = full;
    write_le<std::uint64_t>(bytes, emb.dim_at[0], (1ull << 39) + 1);
    write_le<std::uint64_t>(bytes, emb.dim_at[1], 1ull << 39);
    CHECK_THAT(load_error(bytes), Contains("tok_emb") && Contains("shape"));
  }
  SECTION("four billion tensors") {
    std::string bytes = full;
    write_le<std::uint32_t>(bytes, l.count_at, 0xffffffffu);
    CHECK_THAT(load_error(bytes), Contains("tensors") && Contains(kSource));
  }
  SECTION("an 8 EiB header") {
    std::string bytes = full;
    write_le<std::uint64_t>(bytes, l.header_size_at, 1ull << 63);
    CHECK_THAT(load_error(bytes), Contains("truncated") && Contains("header"));
  }
  SECTION("a 4 GiB tensor name") {
    std::string bytes = full;
    write_le<std::uint32_t>(bytes, emb.name_size_at, 0xffffffffu);
    CHECK_THAT(load_error(bytes), Contains("truncated") && Contains("name"));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 1.0);
}

TEST_CASE("A new model's token embeddings have the asked std, the rest BERT-style 0.02",
          "[model]") {
  ModelConfig c = small_config();
  c.dim = 64;
  c.max_len = 32;
  auto std_of = [](const float* p, std::int64_t n) {
    double s = 0, s2 = 0;
    for (std::int64_t i = 0; i < n; ++i) s += p[i], s2 += double(p[i]) * p[i];
    return std::sqrt(s2 / n - (s / n) * (s / n));
  };
  for (float token_std : {1.0f, 0.02f, 0.5f}) {
    INFO("token_embedding_std " << token_std);
    Model m = Model::create(c, tiny_tokenizer(), 5, token_std);
    const auto t = bind_parameters(c, m.parameters.data());
    // 256·64 and 32·64 draws: the sample std is within a few percent.
    CHECK(std_of(t.tok_emb, 256 * 64) == Approx(token_std).epsilon(0.05));
    CHECK(std_of(t.pos_emb, 32 * 64) == Approx(0.02).epsilon(0.05));
    CHECK(std_of(t.blocks[0].fc1_w, 64 * 16) == Approx(0.02).epsilon(0.1));
  }
  CHECK(Model::create(c, tiny_tokenizer(), 5).parameters ==
        Model::create(c, tiny_tokenizer(), 5, kDefaultTokenEmbeddingStd).parameters);
  CHECK_THROWS_AS(Model::create(c, tiny_tokenizer(), 5, 0.0f), UsageError);
  CHECK_THROWS_AS(Model::create(c, tiny_tokenizer(), 5, -1.0f), UsageError);
}
