// Workload (c): training steps of batch B pairs of exactly T ids, the same step as
// src/train/trainer.cpp's loop: forward of the 2B sentences (anchors then
// positives) with dropout, InfoNCE, backward, gradient norm and clipping, AdamW.
// Data loading, batching and logging are left out (the PyTorch peer leaves them
// out too).
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "bench_util.h"
#include "model_file_internal.h"
#include "sentemb/parameters.h"
#include "train/adamw.h"
#include "train/losses.h"
#include "train/training_encoder.h"

namespace sentemb::bench {

// sentemb_bench train --model M [--threads N] [--batch 64] [--tokens 32]
//                     [--dropout 0.1] [--seconds 3] [--steps 3] [--precision fp32|bf16]
// Times at least --steps steps and --seconds seconds after one warm-up step.
int run_train(const Flags& flags) {
  const int threads = flags.integer("threads", 0);
  if (threads > 0) omp_set_num_threads(threads);
  const std::string precision = flags.str("precision", "fp32");
  if (precision != "fp32" && precision != "bf16")
    throw std::runtime_error("--precision: fp32 or bf16, got " + precision);
  const int B = flags.integer("batch", 64), T = flags.integer("tokens", 32);
  const float dropout = static_cast<float>(flags.real("dropout", 0.1));
  Model model = load_model(flags.required("model"));
  const ModelConfig& config = model.config;
  const std::size_t n = model.parameters.size();

  std::vector<ParamRange> decay;
  for (const auto& spec : parameter_specs(config))
    if (spec.weight_decay)
      decay.push_back({static_cast<std::size_t>(spec.offset), static_cast<std::size_t>(spec.size)});
  AdamW adam(n, AdamWOptions{0.9f, 0.999f, 1e-8f, 0.01f}, decay);
  InfoNceLoss loss(InfoNceOptions{0.05f, false});
  train::TrainingEncoder encoder(config, {dropout, dropout, dropout}, precision == "bf16");

  // Fixed random pairs; a new draw per step would not change the work.
  const auto ids = random_fixed_ids(2 * B, T, config.vocab_size, 11);
  std::vector<const std::vector<int>*> seqs;
  for (const auto& s : ids) seqs.push_back(&s);
  const int C = config.dim;
  std::vector<float> grads(n), emb(2 * B * C), demb(2 * B * C);
  std::uint64_t step = 0;
  float last_loss = 0;
  // Seconds spent per phase over all steps (warm-up included), to see where a
  // step goes: forward, loss (forward + backward), encoder backward, optimiser
  // (gradient zeroing, norm, clipping, AdamW).
  double phase[4] = {0, 0, 0, 0};
  auto train_step = [&] {
    const double t0 = now_seconds();
    encoder.forward(model.parameters.data(), seqs, emb.data(), 42 + step);
    const double t1 = now_seconds();
    EmbeddingBatch eb;
    eb.anchor = emb.data();
    eb.positive = emb.data() + B * C;
    eb.batch = B;
    eb.dim = C;
    last_loss = loss.forward(eb);
    std::fill(demb.begin(), demb.end(), 0.0f);
    loss.backward(1.0f, EmbeddingGrads{demb.data(), demb.data() + B * C, nullptr});
    const double t2 = now_seconds();
    std::fill(grads.begin(), grads.end(), 0.0f);
    const double t3 = now_seconds();
    encoder.backward(model.parameters.data(), demb.data(), grads.data());
    const double t4 = now_seconds();
    const double norm = grad_norm(grads.data(), n);
    if (!std::isfinite(norm)) throw std::runtime_error("non-finite gradient");
    adam.step(model.parameters.data(), grads.data(), 1e-4f, clip_factor(1.0f, norm));  // clipped
    const double t5 = now_seconds();
    phase[0] += t1 - t0;
    phase[1] += t2 - t1;
    phase[2] += t4 - t3;
    phase[3] += (t3 - t2) + (t5 - t4);
    ++step;
  };
  const Timing t =
      time_iterations(train_step, 1, flags.integer("steps", 3), flags.real("seconds", 3.0));
  const double pairs_per_s = B / t.median_s;
  // Forward + backward ≈ 3 × forward FLOPs, for the 2B sentences of each step.
  const double flops =
      3.0 * forward_flops_per_sequence(config.layers, C, config.ffn_dim, T) * 2 * pairs_per_s;
  fmt::print(
      "{{\"system\":\"sentemb\",\"workload\":\"train\",\"precision\":\"{}\",\"threads\":{},"
      "\"batch\":{},\"tokens\":{},\"items_per_s\":{:.1f},\"gflops\":{:.2f},"
      "\"median_step_ms\":{:.3f},\"mean_step_ms\":{:.3f},\"iterations\":{},\"warmup\":1,"
      "\"loss\":{:.4f},\"forward_ms\":{:.1f},\"loss_ms\":{:.1f},\"backward_ms\":{:.1f},"
      "\"optimizer_ms\":{:.1f}}}\n",
      precision, omp_get_max_threads(), B, T, pairs_per_s, flops / 1e9, 1e3 * t.median_s,
      1e3 * t.mean_s, t.iterations, last_loss, 1e3 * phase[0] / step, 1e3 * phase[1] / step,
      1e3 * phase[2] / step, 1e3 * phase[3] / step);
  return 0;
}

}  // namespace sentemb::bench
