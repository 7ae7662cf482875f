// proto_string_field (onnx_graph.h): one field of a protobuf message, by number.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "export/onnx/onnx_graph.h"

namespace sentemb::exporting {

std::string proto_string_field(const std::string& message, int number) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(message.data()),
                                            static_cast<int>(message.size()));
  std::string found;
  while (const std::uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == number &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::uint32_t size = 0;
      if (!in.ReadVarint32(&size) || !in.ReadString(&found, static_cast<int>(size))) return "";
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return "";
    }
  }
  return found;
}

}  // namespace sentemb::exporting
