// A thin helper over the ONNX protobuf classes (generated from Debian's libonnx-dev
// onnx.proto, see CMakeLists.txt): adds nodes,
// initializers and constants to a GraphProto under readable, unique names, so that
// the encoder graph (onnx_export.cpp) reads like the math it computes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx.pb.h"

namespace sentemb::exporting {

onnx::AttributeProto int_attribute(const std::string& name, std::int64_t value);
onnx::AttributeProto float_attribute(const std::string& name, float value);
onnx::AttributeProto ints_attribute(const std::string& name,
                                    const std::vector<std::int64_t>& values);

// A dimension of a graph input or output: a fixed size, or a symbolic name.
struct Dim {
  std::int64_t size = 0;  // used when name is empty
  std::string name;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  // Node `op_type` of `inputs` with one output named `output`; returns that name.
  std::string op(const std::string& op_type, const std::vector<std::string>& inputs,
                 const std::string& output,
                 const std::vector<onnx::AttributeProto>& attributes = {});
  // The same with several outputs.
  std::vector<std::string> op(const std::string& op_type, const std::vector<std::string>& inputs,
                              const std::vector<std::string>& outputs,
                              const std::vector<onnx::AttributeProto>& attributes = {});

  // Initializers (raw little-endian data); each returns its name.
  std::string floats(const std::string& name, const std::vector<std::int64_t>& shape,
                     const float* data);
  std::string scalar(const std::string& name, float value);  // float, shape ()
  std::string int64s(const std::string& name, const std::vector<std::int64_t>& values);  // 1-D
  std::string int64_scalar(const std::string& name, std::int64_t value);                 // shape ()

  void input(const std::string& name, onnx::TensorProto::DataType type,
             const std::vector<Dim>& dims);
  void output(const std::string& name, onnx::TensorProto::DataType type,
              const std::vector<Dim>& dims);

 private:
  onnx::TensorProto& initializer(const std::string& name, onnx::TensorProto::DataType type,
                                 const std::vector<std::int64_t>& shape, const void* data,
                                 std::size_t bytes);
  onnx::GraphProto* graph_;
  int nodes_ = 0;  // for unique node names
};

}  // namespace sentemb::exporting
