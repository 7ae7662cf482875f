// The process-wide oneDNN CPU engine and this thread's stream (one per thread, so
// encoders on different threads never share one), and small helpers to wrap raw
// buffers as oneDNN memory. Private to src/: oneDNN types never reach the public
// headers.
#pragma once

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

namespace sentemb::nn {

struct DnnlContext {
  dnnl::engine engine;
  dnnl::stream stream;  // in-order: a primitive sees its predecessors' results
};

DnnlContext& dnnl_context();

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// A memory object over a caller-owned buffer (no copy; the buffer must outlive it).
inline dnnl::memory wrap(const dnnl::memory::desc& md, const void* ptr) {
  return dnnl::memory(md, dnnl_context().engine, const_cast<void*>(ptr));
}

// A matmul primitive dst = scale · (src · wei), added into dst when accumulate.
dnnl::matmul make_matmul(const dnnl::memory::desc& src, const dnnl::memory::desc& wei,
                         const dnnl::memory::desc& dst, float scale = 1.0f,
                         bool accumulate = false);

// bf16 as the upper half of an IEEE float, rounded to nearest even.
inline std::uint16_t to_bf16(float f) {
  std::uint32_t bits;
  __builtin_memcpy(&bits, &f, 4);
  const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;  // kept a NaN (quiet)
  const std::uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(nan ? (bits >> 16) | 0x40u : rounded >> 16);
}
void to_bf16(const float* src, std::uint16_t* dst, std::size_t n);

}  // namespace sentemb::nn
