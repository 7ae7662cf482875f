// Saving and loading a Model as one self-contained file (see tensor_file.h for
// the layout): its header holds {"kind": "model", "config": {...}}, its blob the
// tokenizer, its tensors the parameters by name (parameters.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sentemb/mapped_file.h"
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

// A model for inference, whose parameters are read in place from the mapped model
// file when it aligns them (format version 2 on), else from an arena of its own
// (older files, or a Model handed over). In place, loading touches each page of the
// file once, to check its checksum, and copies nothing: on a paravirtualised VM
// where a first touch of a page costs microseconds, 17 ms instead of 51 for the
// reference model (21 MB).
struct MappedModel {
  ModelConfig config;
  std::string tokenizer_model;             // serialized SentencePiece model
  std::unique_ptr<const MappedFile> file;  // the parameters' home when read in place
  std::vector<float> arena;                // (config.parameter_count()) otherwise
  ParameterTensors tensors;                // into `file` or `arena`; read-only

  static MappedModel from_model(Model model);
};

// Throws as load_model does. Reads in place only when every tensor's data is
// in_place_aligned(); otherwise (a version 1 file) it copies them to an arena.
MappedModel map_model(const std::string& path);
// Whether tensor data at `data` may be read in place: aligned to kTensorAlignment
// (64) bytes, as version 2 files place it and as the kernels' loads expect.
bool in_place_aligned(const void* data);

}  // namespace sentemb
