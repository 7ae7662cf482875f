// Inference benchmarks through the public Encoder API:
//   encode-fixed  workload (a): batches of B sentences of exactly T ids (fixed shape)
//   encode-text   workload (b): real text, one sentence per line, Encoder::encode
//                 (tokenisation, length sorting and batching included)
// and two helpers for the PyTorch peer, which has no SentencePiece of its own:
//   tokenize      text -> ids, one sentence per line, space-separated (BOS first)
//   embed-ids     ids  -> float32 embeddings (N, C), raw little-endian, for the
//                 peer's equivalence check
#include <fmt/format.h>
#include <omp.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "sentemb/encoder.h"

namespace sentemb::bench {
namespace {

EncoderOptions encoder_options(const Flags& flags, int default_batch) {
  EncoderOptions o;
  o.precision = precision_from_string(flags.str("precision", "fp32"));
  o.threads = flags.integer("threads", 0);
  o.batch_size = flags.integer("batch", default_batch);
  return o;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot open {}", path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::vector<int>> read_ids(const std::string& path) {
  std::vector<std::vector<int>> ids;
  for (const auto& line : read_lines(path)) {
    std::istringstream words(line);
    std::vector<int> s;
    for (int id; words >> id;) s.push_back(id);
    ids.push_back(std::move(s));
  }
  return ids;
}

}  // namespace

// sentemb_bench encode-fixed --model M [--threads N] [--precision fp32|bf16|int8]
//                            [--batch 128] [--tokens 32] [--seconds 2]
int run_encode_fixed(const Flags& flags) {
  const EncoderOptions o = encoder_options(flags, 128);
  const int T = flags.integer("tokens", 32);
  Encoder encoder = Encoder::load(flags.required("model"), o);
  const ModelConfig& c = encoder.config();
  const auto ids = random_fixed_ids(o.batch_size, T, c.vocab_size, 7);
  std::vector<float> out(ids.size() * static_cast<std::size_t>(c.dim));
  const Timing t = time_iterations([&] { encoder.encode_ids(ids, out.data()); }, 2, 5,
                                   flags.real("seconds", 2.0));
  const double per_s = o.batch_size / t.median_s;
  const double flops = forward_flops_per_sequence(c.layers, c.dim, c.ffn_dim, T) * per_s;
  fmt::print(
      "{{\"system\":\"sentemb\",\"workload\":\"encode_fixed\",\"precision\":\"{}\","
      "\"threads\":{},\"batch\":{},\"tokens\":{},\"items_per_s\":{:.1f},\"gflops\":{:.2f},"
      "\"median_batch_ms\":{:.3f},\"mean_batch_ms\":{:.3f},\"iterations\":{},\"warmup\":2}}\n",
      to_string(o.precision), omp_get_max_threads(), o.batch_size, T, per_s, flops / 1e9,
      1e3 * t.median_s, 1e3 * t.mean_s, t.iterations);
  return 0;
}

// sentemb_bench encode-text --model M --input FILE [--threads N] [--precision P]
//                           [--batch 64] [--repeats 1] [--warmup-lines 2000]
int run_encode_text(const Flags& flags) {
  const EncoderOptions o = encoder_options(flags, 64);
  Encoder encoder = Encoder::load(flags.required("model"), o);
  const auto texts = read_lines(flags.required("input"));
  std::vector<float> out(texts.size() * static_cast<std::size_t>(encoder.dim()));
  // Warm-up on the first --warmup-lines lines (2000): creates the primitives of the common
  // (B, T) shapes (cached after that), as a long-running service would have.
  const std::vector<std::string> head(
      texts.begin(),
      texts.begin() + std::min<std::size_t>(texts.size(), flags.integer("warmup-lines", 2000)));
  const double w0 = now_seconds();
  encoder.encode(head, out.data());
  const double warmup_s = now_seconds() - w0;
  const Timing t2 = time_iterations([&] { encoder.encode(texts, out.data()); }, 0,
                                    flags.integer("repeats", 1), 0.0);
  const double per_s = texts.size() / t2.median_s;
  fmt::print(
      "{{\"system\":\"sentemb\",\"workload\":\"encode_text\",\"precision\":\"{}\","
      "\"threads\":{},\"batch\":{},\"sentences\":{},\"items_per_s\":{:.1f},"
      "\"warmup_s\":{:.3f},\"median_pass_s\":{:.3f}}}\n",
      to_string(o.precision), omp_get_max_threads(), o.batch_size, texts.size(), per_s, warmup_s,
      t2.median_s);
  return 0;
}

// sentemb_bench tokenize --model M --input FILE --out IDS
int run_tokenize(const Flags& flags) {
  Encoder encoder = Encoder::load(flags.required("model"), {});
  const auto texts = read_lines(flags.required("input"));
  const auto ids = encoder.tokenizer().encode_batch(texts, encoder.config().max_len, 1);
  std::ofstream out(flags.required("out"));
  for (const auto& s : ids) {
    for (std::size_t i = 0; i < s.size(); ++i) out << (i ? " " : "") << s[i];
    out << '\n';
  }
  return out ? 0 : 1;
}

// sentemb_bench embed-ids --model M --ids IDS --out EMB [--precision P] [--batch 64]
int run_embed_ids(const Flags& flags) {
  Encoder encoder = Encoder::load(flags.required("model"), encoder_options(flags, 64));
  const auto ids = read_ids(flags.required("ids"));
  std::vector<float> out(ids.size() * static_cast<std::size_t>(encoder.dim()));
  encoder.encode_ids(ids, out.data());
  std::FILE* f = std::fopen(flags.required("out").c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + flags.required("out"));
  std::fwrite(out.data(), sizeof(float), out.size(), f);
  std::fclose(f);
  return 0;
}

}  // namespace sentemb::bench
