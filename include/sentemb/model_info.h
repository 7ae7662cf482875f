// What `sentemb info --json` prints (and the Python module's Model.config): a
// model's configuration with its file format version, parameter count and tokenizer.
#pragma once

#include <string>

#include "sentemb/model_config.h"
#include "sentemb/tokenizer.h"

namespace sentemb {

// One JSON object: ModelConfig::to_json()'s fields plus format_version,
// parameters, tokenizer_pieces and tokenizer_bytes.
std::string model_info_json(const ModelConfig& config, const Tokenizer& tokenizer);

}  // namespace sentemb
