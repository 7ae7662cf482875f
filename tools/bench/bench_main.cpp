// sentemb_bench: the performance benchmarks of issue 7. Each subcommand runs one
// measurement in this process and prints one JSON line per result; run.sh runs
// them in alternation with the PyTorch peer and takes medians.
#include <fmt/format.h>

#include <exception>
#include <string>

#include "bench_util.h"
#include "malloc_settings.h"

namespace sentemb::bench {
int run_matmul(const Flags& flags);
int run_encode_fixed(const Flags& flags);
int run_encode_text(const Flags& flags);
int run_tokenize(const Flags& flags);
int run_embed_ids(const Flags& flags);
int run_train(const Flags& flags);
}  // namespace sentemb::bench

int main(int argc, char** argv) {
  sentemb::apply_malloc_settings();  // as the sentemb CLI does
  using namespace sentemb::bench;
  const std::string usage =
      "usage: sentemb_bench matmul|encode-fixed|encode-text|train|tokenize|embed-ids "
      "--flag value ...\n";
  if (argc < 2) {
    fmt::print(stderr, "{}", usage);
    return 2;
  }
  try {
    const std::string cmd = argv[1];
    const Flags flags(argc, argv, 2);
    if (cmd == "matmul") return run_matmul(flags);
    if (cmd == "encode-fixed") return run_encode_fixed(flags);
    if (cmd == "encode-text") return run_encode_text(flags);
    if (cmd == "train") return run_train(flags);
    if (cmd == "tokenize") return run_tokenize(flags);
    if (cmd == "embed-ids") return run_embed_ids(flags);
    fmt::print(stderr, "unknown subcommand '{}'\n{}", cmd, usage);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sentemb_bench: {}\n", e.what());
    return 1;
  }
}
