// The model file's internals, for the library, the trainer's checkpoints and the
// tests: a model's tensor-file form (tensor_file.h), and the model as the Encoder
// holds it, its parameters read in place from the mapped file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mapped_file.h"
#include "sentemb/model.h"
#include "sentemb/model_file.h"
#include "tensor_file.h"

namespace sentemb {

static_assert(kModelFileVersion == kTensorFileVersion,
              "the public model file version is the container's");

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

// Throws as load_model does.
MappedModel map_model(const std::string& path);
// Whether tensor data at `data` may be read in place: aligned to kTensorAlignment
// (64) bytes, as version 2 files place it and as the kernels' loads expect.
bool in_place_aligned(const void* data);

}  // namespace sentemb
