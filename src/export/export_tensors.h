// The model's parameter tensors by name, in parameters.h order, as both exports
// write them.
#pragma once

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
const TensorRef& find_tensor(const Tensors& tensors, const std::string& name);  // logic_error if absent

}  // namespace sentemb::exporting
