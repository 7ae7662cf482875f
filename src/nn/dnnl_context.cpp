#include "nn/dnnl_context.h"

namespace sentemb::nn {

DnnlContext& dnnl_context() {
  static DnnlContext ctx = [] {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return DnnlContext{engine, dnnl::stream(engine)};
  }();
  return ctx;
}

void to_bf16(const float* src, std::uint16_t* dst, std::size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (std::size_t i = 0; i < n; ++i) dst[i] = to_bf16(src[i]);
}

}  // namespace sentemb::nn
