#include "train/checkpoint.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "model_file_internal.h"
#include "sentemb/errors.h"
#include "tensor_file.h"

namespace sentemb::train {

namespace {

std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return hex;
}

std::string from_hex(const std::string& hex, const std::string& path) {
  if (hex.size() % 2) throw ModelFileError(fmt::format("{}: bad batcher state", path));
  std::string bytes(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      throw ModelFileError(fmt::format("{}: bad batcher state", path));
    };
    bytes[i] = static_cast<char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  }
  return bytes;
}

}  // namespace

void save_checkpoint(const Checkpoint& c, const std::string& path) {
  TensorFile file = model_to_tensor_file(c.model);
  nlohmann::json header = nlohmann::json::parse(file.header);
  header["kind"] = "checkpoint";
  header["step"] = c.step;
  header["total_steps"] = c.total_steps;
  header["adam_step"] = c.adam_step;
  header["batcher_state"] = to_hex(c.batcher_state);
  header["elapsed_seconds"] = c.elapsed_seconds;
  header["run"] = c.run_fingerprint;
  if (c.best_spearman) header["best_spearman"] = *c.best_spearman;
  file.header = header.dump();
  const std::int64_t n = static_cast<std::int64_t>(c.adam_m.size());
  file.tensors.push_back({"adam.m", {n}, c.adam_m});
  file.tensors.push_back({"adam.v", {n}, c.adam_v});
  if (!c.ema.empty()) file.tensors.push_back({"ema.params", {n}, c.ema});
  write_file_atomically(path, serialize_tensor_file(file));
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  const TensorFile file = parse_tensor_file(bytes, path);
  Checkpoint c;
  c.model = model_from_tensor_file(file, path);
  try {
    const auto header = nlohmann::json::parse(file.header);
    if (header.value("kind", "") != "checkpoint")
      throw ModelFileError(
          fmt::format("{}: not a checkpoint (kind '{}')", path, header.value("kind", "")));
    c.step = header.at("step").get<std::int64_t>();
    c.total_steps = header.at("total_steps").get<std::int64_t>();
    c.adam_step = header.at("adam_step").get<std::int64_t>();
    c.batcher_state = from_hex(header.at("batcher_state").get<std::string>(), path);
    c.elapsed_seconds = header.value("elapsed_seconds", 0.0);
    c.run_fingerprint = header.value("run", "");
    if (header.contains("best_spearman")) c.best_spearman = header["best_spearman"].get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(fmt::format("{}: bad checkpoint header: {}", path, e.what()));
  }
  for (auto [name, dst] : {std::pair{"adam.m", &c.adam_m}, std::pair{"adam.v", &c.adam_v}}) {
    const NamedTensor* t = file.find(name);
    if (!t || t->data.size() != c.model.parameters.size())
      throw ModelFileError(fmt::format("{}: missing or mis-sized tensor '{}'", path, name));
    *dst = t->data;
  }
  if (const NamedTensor* t = file.find("ema.params")) {
    if (t->data.size() != c.model.parameters.size())
      throw ModelFileError(fmt::format("{}: mis-sized tensor 'ema.params'", path));
    c.ema = t->data;
  }
  return c;
}

}  // namespace sentemb::train
