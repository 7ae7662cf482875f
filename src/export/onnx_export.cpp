// onnx_model_bytes: the model's tensors handed to the ONNX library (src/export/onnx/).
#include "export/export_tensors.h"
#include "export/onnx/onnx_graph.h"
#include "sentemb/export.h"

namespace sentemb {

std::string onnx_model_bytes(const Model& model) {
  return exporting::onnx_graph_bytes(model.config, model.config.to_json(),
                                     exporting::named_tensors(model));
}

}  // namespace sentemb
