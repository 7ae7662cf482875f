// Joining the parts of an output encoded by several processes (`sentemb encode` under
// mpirun): the result is byte for byte the file one process writes.
#pragma once

#include <string>
#include <vector>

#include "sentemb/corpus.h"
#include "sentemb/vector_io.h"

namespace sentemb::cli {

// Part k of `parts` of a text file for encoding: its lines start at a multiple of
// `window` lines (the windows encode_stream encodes at once, whose vectors depend on
// which sentences share a batch), the part boundary nearest to byte size * k / parts.
// So each window is the one a single process encodes, and the vectors are the same.
std::vector<TextFilePart> split_at_windows(const std::string& path, int parts, std::size_t window);

// Writes output from parts (each a complete file of `format`, in line order) and
// removes the parts. tsv, jsonl and fvecs: the parts' bytes one after another; npy:
// one header for all rows, then each part's data after its own header. dim and
// type: the elements of a row.
void join_vector_parts(const std::vector<std::string>& parts, const std::string& output,
                       VectorFormat format, int dim, ElementType type = ElementType::kFloat32);

}  // namespace sentemb::cli
