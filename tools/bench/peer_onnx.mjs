// The ONNX Runtime peer of the sentemb benchmarks (issue 7): the PyTorch peer
// exported to ONNX (peer_torch.py export-onnx: same weights, fp32), run by npm
// onnxruntime-node on the CPU execution provider.
//
//   NODE_PATH=build-bench/node/node_modules node tools/bench/peer_onnx.mjs \
//     encode-fixed --onnx ref.onnx --threads 2 [--batch 128] [--tokens 32] [--seconds 2]
//   ... check --onnx ref.onnx --ids IDS --emb EMB --dim 256 [--tol 1e-4]
//   ... encode-ids --onnx ref.onnx --ids IDS [--batch 64]
//
// Prints one JSON line per result, like sentemb_bench and peer_torch.py.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
// onnxruntime-node lives outside the source tree (run.sh installs it into the
// build directory); ORT_NODE_MODULES points at that node_modules folder.
const modules = process.env.ORT_NODE_MODULES || 'build-bench/node/node_modules';
const ort = require(path.resolve(modules, 'onnxruntime-node'));

function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`expected --flag value at ${argv[i]}`);
    flags[argv[i].slice(2)] = argv[i + 1];
  }
  return flags;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

// A padded batch of id lists: ids int64 (B, T), valid bool (B, T).
function padBatch(idsList) {
  const B = idsList.length;
  const T = Math.max(...idsList.map((s) => s.length));
  const ids = new BigInt64Array(B * T);
  const valid = new Uint8Array(B * T);
  idsList.forEach((s, b) => s.forEach((id, t) => { ids[b * T + t] = BigInt(id); valid[b * T + t] = 1; }));
  return { ids: new ort.Tensor('int64', ids, [B, T]), valid: new ort.Tensor('bool', valid, [B, T]) };
}

function randomFixedIds(B, T, vocab, seed) {
  let x = seed >>> 0 || 1;  // xorshift32: any fixed ids will do
  const rand = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  return Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => (t === 0 ? 2 : 4 + (rand() % (vocab - 4)))));
}

const readIds = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length)
  .map((l) => l.trim().split(/\s+/).map(Number));

function emit(fields) {
  console.log(JSON.stringify({ system: 'onnxruntime', ...fields }));
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const flags = parseFlags(rest);
  const threads = Number(flags.threads || 0);
  const session = await ort.InferenceSession.create(flags.onnx, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const run = async (batch) => (await session.run(batch)).embedding;

  if (command === 'encode-fixed') {
    const B = Number(flags.batch || 128), T = Number(flags.tokens || 32);
    const batch = padBatch(randomFixedIds(B, T, Number(flags.vocab || 8000), 7));
    for (let i = 0; i < 2; ++i) await run(batch);
    const times = [];
    const start = now();
    while (times.length < 5 || now() - start < Number(flags.seconds || 2)) {
      const t0 = now();
      await run(batch);
      times.push(now() - t0);
    }
    const perS = B / median(times);
    const C = 256, F = 1024, L = 4;  // reference size (FLOPs as sentemb_bench counts them)
    const flops = (2 * C * 3 * C + 2 * C * C + 4 * C * F + 4 * T * C) * L * T;
    emit({ workload: 'encode_fixed', precision: 'fp32', threads, batch: B, tokens: T,
      items_per_s: Math.round(perS * 10) / 10, gflops: Math.round(flops * perS / 1e7) / 100,
      median_batch_ms: Math.round(median(times) * 1e6) / 1e3, iterations: times.length,
      ort_version: ort.env.versions?.common ?? 'unknown' });
  } else if (command === 'check') {
    const idsList = readIds(flags.ids);
    const dim = Number(flags.dim || 256);
    const ref = new Float32Array(fs.readFileSync(flags.emb).buffer.slice(0));
    let maxDiff = 0;
    for (let i = 0; i < idsList.length; i += 64) {
      const out = (await run(padBatch(idsList.slice(i, i + 64)))).data;
      for (let j = 0; j < out.length; ++j) maxDiff = Math.max(maxDiff, Math.abs(out[j] - ref[i * dim + j]));
    }
    const tol = Number(flags.tol || 1e-4);
    emit({ workload: 'check', impl: 'onnx', precision: 'fp32', sentences: idsList.length,
      max_abs_diff: maxDiff, min_cosine: null, tol, ok: maxDiff <= tol });
    process.exitCode = maxDiff <= tol ? 0 : 1;
  } else if (command === 'encode-ids') {
    const idsList = readIds(flags.ids);
    const B = Number(flags.batch || 64);
    const encode = async (list) => {
      const order = list.map((_, i) => i).sort((a, b) => list[a].length - list[b].length);
      for (let i = 0; i < order.length; i += B) await run(padBatch(order.slice(i, i + B).map((j) => list[j])));
    };
    const w0 = now();
    await encode(idsList.slice(0, 2000));
    const warmup = now() - w0;
    const t0 = now();
    await encode(idsList);
    const pass = now() - t0;
    emit({ workload: 'encode_text', precision: 'fp32', threads, batch: B, sentences: idsList.length,
      items_per_s: Math.round(idsList.length / pass * 10) / 10, warmup_s: warmup, median_pass_s: pass });
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((e) => { console.error(`peer_onnx: ${e.message}`); process.exit(1); });
