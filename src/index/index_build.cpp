// build_index: a corpus encoded a window at a time into a faiss index on disk,
// with its metadata beside it.
#include <faiss/index_io.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "index/faiss_index.h"
#include "sentemb/corpus.h"
#include "sentemb/errors.h"
#include "sentemb/similarity.h"
#include "sentemb/vector_index.h"

namespace sentemb {
namespace {

// The lines of a text file, read (and checked: UTF-8, no NUL) without keeping them.
std::size_t count_lines(const std::string& path) {
  CorpusReader reader(path, CorpusFormat::kText);
  Record record;
  std::size_t n = 0;
  while (reader.next(record)) ++n;
  return n;
}

// Files are written to PATH.tmp and renamed when complete: an interrupted build
// leaves no half index under the final name.
void rename_into_place(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IoError(fmt::format("cannot rename {} to {}: {}", tmp, path, ec.message()));
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(fmt::format("cannot create {}", tmp));
    out << text;
    out.flush();
    if (!out) throw IoError(fmt::format("cannot write {}", tmp));
  }
  rename_into_place(tmp, path);
}

}  // namespace

IndexBuildResult build_index(Encoder& encoder, const std::string& model_path,
                             const std::string& corpus_path, const IndexSpec& spec,
                             const std::string& out_path, const ProgressCallback& on_progress) {
  const int dim = encoder.dim();
  const std::size_t rows = count_lines(corpus_path);
  if (rows == 0) throw UsageError(fmt::format("corpus {} is empty: nothing to index", corpus_path));
  index_detail::IndexFiller filler(spec, dim, rows);

  IndexBuildResult result;
  LineChecksum checksum;
  CorpusReader reader(corpus_path, CorpusFormat::kText);
  std::vector<float> unit;
  result.vectors = encode_stream(encoder, reader,
                                 [&](const std::vector<std::string>& texts, const float* vectors) {
                                   for (const auto& text : texts) checksum.add(text);
                                   unit.assign(vectors, vectors + texts.size() * dim);
                                   // Unit rows make inner products cosines, whether or not the
                                   // model normalises.
                                   l2_normalize_rows(unit.data(), texts.size(), dim);
                                   filler.add(unit.data(), texts.size());
                                   if (on_progress) on_progress(texts.size());
                                 });
  if (result.vectors != rows)
    throw IoError(fmt::format("corpus {} changed while it was indexed ({} lines, then {})",
                              corpus_path, rows, result.vectors));
  const std::unique_ptr<faiss::Index> index = filler.finish();

  IndexMeta& m = result.meta;
  m.kind = to_string(spec.kind);
  m.quantize = spec.quantize;
  m.description = filler.description();
  m.model = model_path;
  m.model_checksum = model_file_checksum(model_path);
  m.dim = dim;
  m.precision = to_string(encoder.options().precision);
  m.corpus = corpus_path;
  m.corpus_lines = rows;
  m.corpus_checksum = checksum.hex();
  if (spec.kind == IndexKind::kHnsw)
    m.hnsw_m = spec.hnsw_m, m.ef_construction = spec.ef_construction;
  if (spec.kind == IndexKind::kIvf) m.ivf_lists = ivf_list_count(spec, rows);
  m.train_size = filler.train_size();

  const std::string tmp = out_path + ".tmp";
  index_detail::faiss_call<IoError>(fmt::format("cannot write index {}", tmp),
                                    [&] { faiss::write_index(index.get(), tmp.c_str()); });
  rename_into_place(tmp, out_path);
  write_text_atomically(index_meta_path(out_path), m.to_json());
  result.index_bytes = std::filesystem::file_size(out_path);
  result.train_seconds = filler.train_seconds();
  result.add_seconds = filler.add_seconds();
  return result;
}

}  // namespace sentemb
