#include "export/export_tensors.h"

#include <fmt/format.h>

#include "sentemb/errors.h"

namespace sentemb::exporting {

Tensors named_tensors(const Model& model) {
  const auto expected = model.config.parameter_count();
  if (static_cast<std::int64_t>(model.parameters.size()) != expected)
    throw ModelFileError(fmt::format("export: the model holds {} parameters, its configuration {}",
                                     model.parameters.size(), expected));
  Tensors tensors;
  for (auto& spec : parameter_specs(model.config)) {
    const float* data = model.parameters.data() + spec.offset;
    tensors.push_back({std::move(spec), data});
  }
  return tensors;
}

}  // namespace sentemb::exporting
