// Joining the parts of an output written by several processes (`sentemb encode`
// under mpirun, each rank a contiguous range of lines, split_text_file in corpus.h):
// the result is byte for byte the file one process writes.
#pragma once

#include <string>
#include <vector>

#include "sentemb/vector_io.h"

namespace sentemb {

// Writes `output` from `parts` (each a complete file of `format` with rows of `dim`
// elements of `type`, in line order) and removes the parts. tsv, jsonl, fvecs, bvecs
// and i8vecs: the parts' bytes one after another; npy: one header for all rows, then
// each part's rows.
void join_vector_files(const std::vector<std::string>& parts, const std::string& output,
                       VectorFormat format, int dim, ElementType type = ElementType::kFloat32);

}  // namespace sentemb
