#include "sentemb/model_info.h"

#include <nlohmann/json.hpp>

#include "sentemb/model_file.h"

namespace sentemb {

std::string model_info_json(const ModelConfig& config, const Tokenizer& tokenizer) {
  nlohmann::json j = nlohmann::json::parse(config.to_json());
  j["format_version"] = kModelFileVersion;
  j["parameters"] = config.parameter_count();
  j["tokenizer_pieces"] = tokenizer.vocab_size();
  j["tokenizer_bytes"] = tokenizer.serialized().size();
  return j.dump();
}

}  // namespace sentemb
