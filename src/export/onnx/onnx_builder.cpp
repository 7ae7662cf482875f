#include "export/onnx/onnx_builder.h"

#include <fmt/format.h>

namespace sentemb::exporting {

// ONNX stores raw tensor data little-endian; the bytes are copied as they are in memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ONNX raw_data is little-endian");

onnx::AttributeProto int_attribute(const std::string& name, std::int64_t value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

onnx::AttributeProto float_attribute(const std::string& name, float value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(value);
  return a;
}

onnx::AttributeProto ints_attribute(const std::string& name,
                                    const std::vector<std::int64_t>& values) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (std::int64_t v : values) a.add_ints(v);
  return a;
}

std::string GraphBuilder::op(const std::string& op_type, const std::vector<std::string>& inputs,
                             const std::string& output,
                             const std::vector<onnx::AttributeProto>& attributes) {
  return op(op_type, inputs, std::vector<std::string>{output}, attributes).front();
}

std::vector<std::string> GraphBuilder::op(const std::string& op_type,
                                          const std::vector<std::string>& inputs,
                                          const std::vector<std::string>& outputs,
                                          const std::vector<onnx::AttributeProto>& attributes) {
  onnx::NodeProto* node = graph_->add_node();
  node->set_op_type(op_type);
  node->set_name(fmt::format("{}_{}", op_type, nodes_++));
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  for (const auto& a : attributes) *node->add_attribute() = a;
  return outputs;
}

onnx::TensorProto& GraphBuilder::initializer(const std::string& name,
                                             onnx::TensorProto::DataType type,
                                             const std::vector<std::int64_t>& shape,
                                             const void* data, std::size_t bytes) {
  onnx::TensorProto* t = graph_->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (std::int64_t d : shape) t->add_dims(d);
  t->set_raw_data(data, bytes);
  return *t;
}

std::string GraphBuilder::floats(const std::string& name, const std::vector<std::int64_t>& shape,
                                 const float* data) {
  std::size_t count = 1;
  for (std::int64_t d : shape) count *= static_cast<std::size_t>(d);
  initializer(name, onnx::TensorProto::FLOAT, shape, data, count * sizeof(float));
  return name;
}

std::string GraphBuilder::scalar(const std::string& name, float value) {
  initializer(name, onnx::TensorProto::FLOAT, {}, &value, sizeof value);
  return name;
}

std::string GraphBuilder::int64s(const std::string& name, const std::vector<std::int64_t>& values) {
  initializer(name, onnx::TensorProto::INT64, {static_cast<std::int64_t>(values.size())},
              values.data(), values.size() * sizeof(std::int64_t));
  return name;
}

std::string GraphBuilder::int64_scalar(const std::string& name, std::int64_t value) {
  initializer(name, onnx::TensorProto::INT64, {}, &value, sizeof value);
  return name;
}

namespace {

void describe(onnx::ValueInfoProto* info, const std::string& name, onnx::TensorProto::DataType type,
              const std::vector<Dim>& dims) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(type);
  auto* shape = tensor->mutable_shape();
  for (const Dim& d : dims) {
    auto* dim = shape->add_dim();
    if (d.name.empty())
      dim->set_dim_value(d.size);
    else
      dim->set_dim_param(d.name);
  }
}

}  // namespace

void GraphBuilder::input(const std::string& name, onnx::TensorProto::DataType type,
                         const std::vector<Dim>& dims) {
  describe(graph_->add_input(), name, type, dims);
}

void GraphBuilder::output(const std::string& name, onnx::TensorProto::DataType type,
                          const std::vector<Dim>& dims) {
  describe(graph_->add_output(), name, type, dims);
}

}  // namespace sentemb::exporting
