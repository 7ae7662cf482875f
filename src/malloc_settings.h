// Process-wide glibc malloc settings for sentemb's workloads; the CLI and the
// benchmark program apply them first thing. (A library does not change its host
// process's allocator by itself, so this is the programs' business, not the API's.)
//
// oneDNN allocates its GEMM packing buffers and scratchpads on every product and
// frees them after. By default glibc gives large freed blocks back to the kernel:
// each block above the mmap threshold is its own mapping, and free memory at the
// top of the heap is trimmed. Each product then faults its buffers in afresh:
// about 4,000 page faults per 128-sentence batch of encoding, a third of the time
// on a 2-core Zen 5 VM, where a fault costs microseconds. glibc raises the
// threshold itself after the first large free, so whether a process ran fast
// depended on the order of its first allocations (alternating runs measured 960
// and 1,400 sentences/s for the same build). With both thresholds fixed high,
// freed blocks stay in the process for the next product; peak RSS is unchanged.
#pragma once

namespace sentemb {

// mmap threshold 32 MB (glibc's largest), trim threshold 1 GB. Returns false if
// glibc refused a setting (or is not the C library).
bool apply_malloc_settings();

}  // namespace sentemb
