// The model's parameter tensors by name, in parameters.h order, as both exports
// write them.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "sentemb/model.h"
#include "sentemb/parameters.h"

namespace sentemb::exporting {

struct TensorRef {
  TensorSpec spec;
  const float* data;  // spec.size floats inside the model's arena
};
using Tensors = std::vector<TensorRef>;

// Throws ModelFileError when the arena does not hold config.parameter_count() floats.
Tensors named_tensors(const Model& model);

// Inline: the ONNX library (src/export/onnx/) uses it and links nothing of sentemb's.
inline const TensorRef& find_tensor(const Tensors& tensors, const std::string& name) {
  for (const auto& t : tensors)
    if (t.spec.name == name) return t;
  throw std::logic_error("export: no parameter tensor named " + name);
}

}  // namespace sentemb::exporting
