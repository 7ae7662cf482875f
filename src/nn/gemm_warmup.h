// oneDNN's GEMM (the gemm:jit matmuls of every linear layer and of attention)
// generates all its kernels for a data type on the first product of that type:
// about 40 ms on a 2-core Zen 5, more than the rest of a `sentemb score` call.
// Encoder::load runs warm_up_gemm while a second thread reads and checks the model
// file, so the two overlap. (Not the other way round: products whose kernels were
// generated on another thread ran the sum post-op of later products up to 3× slower.)
#pragma once

namespace sentemb::nn {

// One small product of each type an encoder uses: fp32 always (attention, and the
// int8 path's own fp32 products), bf16 or s8 on request.
void warm_up_gemm(bool bf16, bool int8);

}  // namespace sentemb::nn
