// The ONNX side of `sentemb export`, a library of its own (sentemb_onnx, see
// CMakeLists.txt): the encoder graph in the protobuf classes generated from Debian's
// onnx.proto, on a statically linked protobuf-lite whose symbols are made local to
// the library's one object. The functions below take and return plain data: nothing
// of protobuf crosses into the rest of a process that also loads libsentencepiece.so
// (which carries a protobuf-lite of its own under the same names).
#pragma once

#include <string>

#include "export/export_tensors.h"
#include "sentemb/model_config.h"

namespace sentemb::exporting {

// The serialized ONNX ModelProto of the encoder (sentemb/export.h describes its
// inputs and outputs); config_json is stored in the model's metadata.
std::string onnx_graph_bytes(const ModelConfig& config, const std::string& config_json,
                             const Tensors& tensors);

// A serialized ModelProto parsed back, as JSON: ir_version, opsets, producer, metadata,
// inputs and outputs (name, elem_type, dims: a number or the symbolic name), the
// initializers (name, data_type, dims, raw_bytes) and the nodes' op types in order.
// Throws std::runtime_error when the bytes do not parse. For tests and diagnostics.
std::string onnx_graph_summary(const std::string& bytes);

// The last length-delimited field `number` of a serialized protobuf message (any
// message: read without its schema), or "" when absent or unreadable. Here because
// it needs this library's protobuf: the SentencePiece normalizer's name for
// sentemb_tokenizer.json.
std::string proto_string_field(const std::string& message, int number);

}  // namespace sentemb::exporting
