// A serialized ONNX model read back into JSON (onnx_graph.h): what tests check the
// export against without protobuf of their own.
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "export/onnx/onnx_builder.h"
#include "export/onnx/onnx_graph.h"

namespace sentemb::exporting {

namespace {

nlohmann::json value_info(const onnx::ValueInfoProto& info) {
  nlohmann::json dims = nlohmann::json::array();
  const auto& tensor = info.type().tensor_type();
  for (const auto& d : tensor.shape().dim()) {
    if (d.has_dim_param())
      dims.push_back(d.dim_param());
    else
      dims.push_back(d.dim_value());
  }
  return {{"name", info.name()}, {"elem_type", tensor.elem_type()}, {"dims", dims}};
}

}  // namespace

std::string onnx_graph_summary(const std::string& bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) throw std::runtime_error("not a serialized ONNX ModelProto");
  nlohmann::json j;
  j["ir_version"] = model.ir_version();
  j["producer_name"] = model.producer_name();
  for (const auto& opset : model.opset_import())
    j["opsets"].push_back({{"domain", opset.domain()}, {"version", opset.version()}});
  for (const auto& prop : model.metadata_props()) j["metadata"][prop.key()] = prop.value();
  const auto& graph = model.graph();
  for (const auto& in : graph.input()) j["inputs"].push_back(value_info(in));
  for (const auto& out : graph.output()) j["outputs"].push_back(value_info(out));
  for (const auto& t : graph.initializer())
    j["initializers"].push_back(
        {{"name", t.name()},
         {"data_type", t.data_type()},
         {"dims", std::vector<std::int64_t>(t.dims().begin(), t.dims().end())},
         {"raw_bytes", t.raw_data().size()}});
  j["ops"] = nlohmann::json::array();
  for (const auto& node : graph.node()) j["ops"].push_back(node.op_type());
  return j.dump();
}

}  // namespace sentemb::exporting
