// Saving and loading a Model as one self-contained file: a versioned container
// holding the configuration (JSON), the tokenizer (the serialized SentencePiece
// model) and the parameters by name (parameters.h), with a checksum. The layout
// and the in-place mapping used by the Encoder are internals (src/tensor_file.h,
// src/model_file_internal.h).
#pragma once

#include <cstdint>
#include <string>

#include "sentemb/model.h"

namespace sentemb {

// The format version save_model writes (older versions still load).
inline constexpr std::uint32_t kModelFileVersion = 2;

// Throws IoError (unreadable), ModelFileError (corrupt, truncated, newer version,
// missing/extra/mis-sized tensor — the message names the tensor and the file).
Model load_model(const std::string& path);
void save_model(const Model& model, const std::string& path);  // atomic

}  // namespace sentemb
