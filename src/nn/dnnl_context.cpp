#include "nn/dnnl_context.h"

#include <new>

#include "nn/simd.h"

namespace sentemb::nn {

DnnlContext& dnnl_context() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  thread_local DnnlContext ctx{engine, dnnl::stream(engine)};
  return ctx;
}

void Scratchpad::execute(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args) {
  const dnnl_memory_desc_t* c_md =
      dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  const dnnl::memory::desc md = c_md ? dnnl::memory::desc(*c_md) : dnnl::memory::desc();
  const std::size_t need = md.get_size();
  if (need > 0) {
    if (need > size_) {
      constexpr std::size_t kAlign = 4096;  // oneDNN's own scratchpads are page-aligned
      buffer_.reset(std::aligned_alloc(kAlign, (need + kAlign - 1) / kAlign * kAlign));
      if (!buffer_) throw std::bad_alloc();
      size_ = need;
    }
    args.emplace(DNNL_ARG_SCRATCHPAD, wrap(md, buffer_.get()));
  }
  prim.execute(dnnl_context().stream, args);
}

dnnl::matmul make_matmul(const dnnl::memory::desc& src, const dnnl::memory::desc& wei,
                         const dnnl::memory::desc& dst, float scale, bool accumulate) {
  dnnl::primitive_attr attr;
  if (scale != 1.0f) attr.set_output_scales(0, {scale});
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  return dnnl::matmul(
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, dnnl_context().engine));
}

namespace {

SENTEMB_SIMD_CLONES
void to_bf16_range(const float* src, std::uint16_t* dst, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) dst[i] = to_bf16(src[i]);
}

}  // namespace

void to_bf16(const float* src, std::uint16_t* dst, std::size_t n) {
  parallel_ranges(static_cast<std::int64_t>(n), 65536, [&](std::int64_t begin, std::int64_t end) {
    to_bf16_range(src + begin, dst + begin, end - begin);
  });
}

}  // namespace sentemb::nn
