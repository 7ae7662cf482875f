// An index's metadata file (PATH.json) and the checksums that tie an index to its
// model and corpus.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sentemb/errors.h"
#include "sentemb/vector_index.h"
#include "sentemb/vector_io.h"

namespace sentemb {
namespace {

std::string hex64(std::uint64_t v) {
  return fmt::format("{:016x}", v);
}

}  // namespace

std::string IndexMeta::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = "sentemb-faiss-index";
  j["version"] = 1;
  j["kind"] = kind;
  j["quantize"] = quantize;
  j["faiss_description"] = description;
  j["metric"] = "inner_product";
  j["model"] = model;
  j["model_checksum"] = model_checksum;
  j["dim"] = dim;
  j["precision"] = precision;
  j["corpus"] = corpus;
  j["corpus_lines"] = corpus_lines;
  j["corpus_checksum"] = corpus_checksum;
  j["hnsw_m"] = hnsw_m;
  j["ef_construction"] = ef_construction;
  j["ivf_lists"] = ivf_lists;
  j["train_size"] = train_size;
  return j.dump(2) + "\n";
}

IndexMeta IndexMeta::from_json(const std::string& text, const std::string& source) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    throw ModelFileError(fmt::format("{}: not a JSON object", source));
  if (j.value("format", "") != "sentemb-faiss-index")
    throw ModelFileError(
        fmt::format("{}: not a sentemb index metadata file (\"format\" is not "
                    "\"sentemb-faiss-index\")",
                    source));
  IndexMeta m;
  try {
    m.kind = j.at("kind").get<std::string>();
    m.quantize = j.at("quantize").get<std::string>();
    m.description = j.at("faiss_description").get<std::string>();
    m.model = j.at("model").get<std::string>();
    m.model_checksum = j.at("model_checksum").get<std::string>();
    m.dim = j.at("dim").get<int>();
    m.precision = j.at("precision").get<std::string>();
    m.corpus = j.at("corpus").get<std::string>();
    m.corpus_lines = j.at("corpus_lines").get<std::size_t>();
    m.corpus_checksum = j.at("corpus_checksum").get<std::string>();
    m.hnsw_m = j.value("hnsw_m", 0);
    m.ef_construction = j.value("ef_construction", 0);
    m.ivf_lists = j.value("ivf_lists", 0);
    m.train_size = j.value("train_size", std::size_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(fmt::format("{}: {}", source, e.what()));
  }
  return m;
}

std::string model_file_checksum(const std::string& model_path) {
  // The model container ends in a 64-bit checksum of every byte before it
  // (src/tensor_file.cpp): reading those 8 bytes identifies the file's content
  // without hashing 20+ MB. load_model has verified it when the encoder loaded.
  std::ifstream in(model_path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(fmt::format("cannot open model {}", model_path));
  const std::streamoff size = in.tellg();
  if (size < 16) throw ModelFileError(fmt::format("{}: too short to be a model file", model_path));
  in.seekg(size - 8);
  unsigned char bytes[8];
  if (!in.read(reinterpret_cast<char*>(bytes), 8))
    throw IoError(fmt::format("cannot read model {}", model_path));
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[i];  // little-endian
  return hex64(v);
}

void LineChecksum::add(const std::string& line) {
  constexpr std::uint64_t kPrime = 0x100000001b3ull;
  for (unsigned char c : line) hash_ = (hash_ ^ c) * kPrime;
  hash_ = (hash_ ^ static_cast<unsigned char>('\n')) * kPrime;
}

std::string LineChecksum::hex() const {
  return hex64(hash_);
}

std::string corpus_checksum(const std::vector<std::string>& lines) {
  LineChecksum sum;
  for (const auto& line : lines) sum.add(line);
  return sum.hex();
}

bool is_faiss_index_path(const std::string& path) {
  return !vector_format_from_path(path).has_value();  // not .npy, .fvecs, .bvecs, ...
}

std::string index_meta_path(const std::string& index_path) {
  return index_path + ".json";
}

}  // namespace sentemb
