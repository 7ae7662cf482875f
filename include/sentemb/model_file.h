// Saving and loading a Model as one self-contained file (see tensor_file.h for
// the layout): its header holds {"kind": "model", "config": {...}}, its blob the
// tokenizer, its tensors the parameters by name (parameters.h).
#pragma once

#include <string>

#include "sentemb/model.h"
#include "sentemb/tensor_file.h"

namespace sentemb {

// Throws IoError (unreadable), ModelFileError (corrupt, truncated, newer version,
// missing/extra/mis-sized tensor — the message names the tensor and the file).
Model load_model(const std::string& path);
void save_model(const Model& model, const std::string& path);  // atomic

// The tensor-file form of a model, and back (checkpoints embed one).
TensorFile model_to_tensor_file(const Model& model);
Model model_from_tensor_file(const TensorFile& file, const std::string& source);
Model model_from_tensor_view(const TensorFileView& file, const std::string& source);

}  // namespace sentemb
