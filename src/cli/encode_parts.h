// Joining the parts of an output encoded by several processes (`sentemb encode` under
// mpirun): the result is byte for byte the file one process writes.
#pragma once

#include <string>
#include <vector>

#include "sentemb/vector_io.h"

namespace sentemb::cli {

// Writes output from parts (each a complete file of `format`, in line order) and
// removes the parts. tsv, jsonl and fvecs: the parts' bytes one after another; npy:
// one header for all rows, then each part's data after its own header.
void join_vector_parts(const std::vector<std::string>& parts, const std::string& output,
                       VectorFormat format, int dim);

}  // namespace sentemb::cli
