// `sentemb index build`: a faiss vector index of a corpus (sentemb/vector_index.h)
// for `sentemb search --index`.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/cli_options.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sentemb/vector_index.h"

namespace sentemb::cli {
namespace {

struct IndexBuildArgs {
  EncoderFlags encoder;
  std::string corpus;
  std::string out;
  std::string kind = "hnsw";
  IndexSpec spec;
};

void run_index_build(IndexBuildArgs& args) {
  args.spec.kind = index_kind_from_string(args.kind);
  args.spec.threads = args.encoder.threads;
  Encoder encoder = args.encoder.load();
  Progress progress("index", 0, "lines");
  const IndexBuildResult r = build_index(encoder, args.encoder.model, args.corpus, args.spec,
                                         args.out, [&](std::size_t n) { progress.advance(n); });
  progress.finish();
  fmt::print(stderr,
             "index {}: {} vectors of width {} ({}, faiss \"{}\"), {:.1f} MB; train {:.1f} s, "
             "add {:.1f} s; metadata {}\n",
             args.out, r.vectors, r.meta.dim, r.meta.kind, r.meta.description, r.index_bytes / 1e6,
             r.train_seconds, r.add_seconds, index_meta_path(args.out));
}

void add_build(CLI::App& parent) {
  auto* cmd = parent.add_subcommand(
      "build",
      "Encode a corpus (one sentence per line) into a faiss index for `sentemb search\n"
      "--index`: inner product of unit vectors (cosine). Writes OUT (faiss::write_index, so\n"
      "faiss.read_index loads it) and OUT.json (model, corpus and settings it was built from).");
  auto args = std::make_shared<IndexBuildArgs>();
  args->encoder.add_to(cmd);
  cmd->add_option("--corpus,-c", args->corpus, "Text file to index, one sentence per line")
      ->required();
  cmd->add_option("--out,-o", args->out, "The index file to write (and OUT.json beside it)")
      ->required();
  cmd->add_option("--kind", args->kind,
                  "flat (exact), hnsw (graph, fast approximate) or ivf (k-means cells)")
      ->capture_default_str();
  cmd->add_option("--quantize", args->spec.quantize,
                  "Vector storage: none (float32), sq8 (a byte a dimension) or pqM (M bytes a "
                  "vector, M divides the width)")
      ->capture_default_str();
  cmd->add_option("--hnsw-m", args->spec.hnsw_m, "HNSW: neighbours per node")
      ->check(CLI::Range(2, 512))
      ->capture_default_str();
  cmd->add_option("--ef-construction", args->spec.ef_construction,
                  "HNSW: candidate list while inserting (higher: better graph, slower build)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--ivf-lists", args->spec.ivf_lists,
                  "IVF: number of k-means cells (0: 4 sqrt(lines))")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--train-size", args->spec.train_size,
                  "IVF/SQ/PQ: train on the first N lines (0: max(64 lists, 10000), at most "
                  "200000)")
      ->capture_default_str();
  cmd->callback([args] { run_index_build(*args); });
}

}  // namespace

void add_index_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("index", "Build vector indexes (faiss) for `sentemb search`");
  cmd->require_subcommand(1);
  add_build(*cmd);
}

}  // namespace sentemb::cli
