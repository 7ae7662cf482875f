// The process-wide oneDNN CPU engine and this thread's stream (one per thread, so
// encoders on different threads never share one), and small helpers to wrap raw
// buffers as oneDNN memory. Private to src/: oneDNN types never reach the public
// headers.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
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

// Primitives that inference keeps across calls (Linear, LayerNorm, Attention) take
// their scratchpad from the caller (dnnl::scratchpad_mode::user) instead of
// oneDNN's per-thread global one, so nothing ties them to the thread that created
// them (see sentemb/encoder.h on threads). `attr` gains that mode.
inline dnnl::primitive_attr with_user_scratchpad(dnnl::primitive_attr attr = {}) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A caller-owned scratchpad for such primitives, grown to the largest one's need;
// one per object that owns primitives, used by one thread at a time.
class Scratchpad {
 public:
  // Executes prim on this thread's stream with `args` and this scratchpad.
  void execute(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args);

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> buffer_;
  std::size_t size_ = 0;
};

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
