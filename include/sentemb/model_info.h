// A model's configuration and sizes as one JSON object: what `sentemb info --json`
// prints, the server's GET /info answers and the Python
// module's Model.config is.
#pragma once

#include <string>

#include "sentemb/model_config.h"
#include "sentemb/tokenizer.h"

namespace sentemb {

// The configuration's fields (ModelConfig::to_json) plus format_version, parameters,
// tokenizer_pieces and tokenizer_bytes.
std::string model_info_json(const ModelConfig& config, const Tokenizer& tokenizer);

}  // namespace sentemb
