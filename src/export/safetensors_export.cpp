// The safetensors format (huggingface/safetensors): an 8-byte little-endian header
// size N, N bytes of JSON header, then the tensors' bytes back to back. The header
// maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} (offsets
// from the first data byte) and holds "__metadata__", a map of strings only.
#include <cstring>
#include <nlohmann/json.hpp>

#include "export/export_tensors.h"
#include "sentemb/export.h"
#include "sentemb/version.h"

namespace sentemb {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace {

nlohmann::json safetensors_header(const ModelConfig& config, const exporting::Tensors& tensors) {
  nlohmann::json header = nlohmann::json::object();
  // Metadata values must be strings: the configuration is its JSON text.
  header["__metadata__"] = {
      {"sentemb_config", config.to_json()},
      {"sentemb_version", SENTEMB_VERSION},
      {"weight_layout", "linear weights are (in, out): y = x @ W + b"},
  };
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::uint64_t bytes = std::uint64_t(t.spec.size) * sizeof(float);
    header[t.spec.name] = {
        {"dtype", "F32"}, {"shape", t.spec.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  return header;
}

}  // namespace

std::string safetensors_bytes(const Model& model) {
  const exporting::Tensors tensors = exporting::named_tensors(model);
  std::string header = safetensors_header(model.config, tensors).dump();
  // Spaces pad the header so the data starts 8-byte aligned (as the reference writer does).
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::uint64_t header_size = header.size();
  std::string out;
  out.reserve(8 + header.size() + model.parameters.size() * sizeof(float));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((header_size >> (8 * i)) & 0xff));
  out += header;
  for (const auto& t : tensors)
    out.append(reinterpret_cast<const char*>(t.data), std::size_t(t.spec.size) * sizeof(float));
  return out;
}

}  // namespace sentemb
