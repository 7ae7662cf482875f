// oneDNN's JIT GEMM (the gemm:jit matmuls of runtime-M linear layers and of
// attention on large batches) generates all its kernels for a data type on the
// first product of that type: about 40 ms on a 2-core Zen 5. fp32 inference
// needs none of them for a small call (its linear layers then run per-M brgemm
// primitives and attention plain loops), but bf16 attention and the int8 linear
// layers always use it. Encoder::load runs warm_up_gemm while a second thread reads
// and checks the model file, so the two overlap. (Not the other way round: products
// whose kernels were generated on another thread ran the sum post-op of later
// products up to 3× slower.)
#pragma once

namespace sentemb::nn {

// One small product of each type requested: bf16, s8.
void warm_up_gemm(bool bf16, bool int8);

}  // namespace sentemb::nn
