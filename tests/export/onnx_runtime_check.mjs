// The ONNX export against a real runtime: ONNX Runtime (npm onnxruntime-node) runs
// `sentemb export --format onnx`'s model.onnx on sentences tokenized with the exported
// tokenizer.model, and every sentence embedding must match `sentemb encode`'s
// (cosine >= --min-cosine). Batches are the file's order, so each pads sentences of
// different lengths together (the attention mask and the pooling mask are exercised);
// a few sentences are also run alone, and must equal their padded rows.
//
//   node onnx_runtime_check.mjs --ort-modules DIR --sentemb BIN --model M.semb
//        --sentences FILE --work DIR [--batch 64] [--min-cosine 0.99999]
//        [--init-tokenizer T.model "--init=SIZE FLAGS"]   first write M.semb: a random
//        model, `sentemb init --tokenizer T.model SIZE FLAGS`
//
// Without onnxruntime-node in DIR (tools/install-deps.sh installs it) it prints
// SENTEMB_TEST_SKIPPED, which ctest counts as skipped.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

// A float32 (N, D) .npy file (format 1.x or 2.x, little-endian, C order).
function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${file}: not float32 C order: ${header}`);
  const shape = header.match(/'shape':\s*\((\d+),\s*(\d+)\)/).slice(1).map(Number);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start + headerLength, bytes.byteOffset + bytes.length));
  if (data.length !== shape[0] * shape[1]) throw new Error(`${file}: ${data.length} values for shape ${shape}`);
  return { rows: shape[0], dim: shape[1], data };
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; ++i) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

function fail(message) {
  console.error(`onnx_runtime_check: FAILED: ${message}`);
  process.exit(1);
}

async function main() {
  const names = ['ort-modules', 'sentemb', 'model', 'sentences', 'work', 'batch', 'min-cosine', 'init', 'init-tokenizer'];
  const { values: flags } = parseArgs({ options: Object.fromEntries(names.map((n) => [n, { type: 'string' }])) });
  const ortPath = path.resolve(flags['ort-modules'], 'onnxruntime-node');
  if (!fs.existsSync(ortPath)) {
    console.log(`SENTEMB_TEST_SKIPPED: onnxruntime-node not found in ${flags['ort-modules']} (tools/install-deps.sh installs it)`);
    return;
  }
  const ort = createRequire(import.meta.url)(ortPath);
  const batchSize = Number(flags.batch || 64), minCosine = Number(flags['min-cosine'] || 0.99999);
  const work = flags.work;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const out = path.join(work, 'onnx');
  const sentemb = (args, input) => execFileSync(flags.sentemb, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });

  if (flags.init !== undefined)
    sentemb(['init', '--tokenizer', flags['init-tokenizer'], '--out', flags.model, ...flags.init.split(' ').filter((a) => a)]);
  const t0 = process.hrtime.bigint();
  sentemb(['export', '--model', flags.model, '--format', 'onnx', '--out', out]);
  const exportSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const config = JSON.parse(fs.readFileSync(path.join(out, 'sentemb_tokenizer.json'), 'utf8'));
  // The ids a consumer makes from the exported tokenizer and JSON: BOS first, at most max_length.
  const text = fs.readFileSync(flags.sentences, 'utf8');
  const ids = sentemb(['tokenizer', 'encode', '--model', path.join(out, config.tokenizer_file), '--max-len', String(config.max_length)], text)
    .split('\n').filter((l) => l.length).map((l) => l.split(' ').map(Number));
  if (ids.some((s) => s[0] !== config.bos_id)) fail('a sentence does not start with bos_id');
  const reference = path.join(work, 'reference.npy');
  sentemb(['encode', '--model', flags.model, '--input', flags.sentences, '--output', reference, '--format', 'npy']);
  const ref = readNpy(reference);
  if (ref.rows !== ids.length || ref.dim !== config.dim) fail(`encode wrote (${ref.rows}, ${ref.dim}) for ${ids.length} sentences of width ${config.dim}`);

  const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const run = async (list) => {
    const B = list.length, T = Math.max(...list.map((s) => s.length));
    const inputIds = new BigInt64Array(B * T).fill(BigInt(config.pad_id)), mask = new BigInt64Array(B * T);
    list.forEach((s, b) => s.forEach((id, t) => { inputIds[b * T + t] = BigInt(id); mask[b * T + t] = 1n; }));
    const result = await session.run({
      input_ids: new ort.Tensor('int64', inputIds, [B, T]), attention_mask: new ort.Tensor('int64', mask, [B, T]),
    });
    const tokens = result.token_embeddings.dims, sentences = result.sentence_embedding.dims;
    if (tokens.join() !== [B, T, config.dim].join() || sentences.join() !== [B, config.dim].join()) fail(`output dims ${sentences} / ${tokens} for a (${B}, ${T}) batch`);
    return { data: result.sentence_embedding.data, T };
  };

  const D = config.dim, cosines = [];
  let padded = 0, maxAbs = 0;
  const rows = [];
  for (let i = 0; i < ids.length; i += batchSize) {
    const batch = ids.slice(i, i + batchSize);
    const { data, T } = await run(batch);
    padded += batch.filter((s) => s.length < T).length;
    batch.forEach((_, b) => {
      const row = data.slice(b * D, (b + 1) * D), want = ref.data.slice((i + b) * D, (i + b + 1) * D);
      rows.push(row);
      cosines.push(cosine(row, want));
      for (let d = 0; d < D; ++d) maxAbs = Math.max(maxAbs, Math.abs(row[d] - want[d]));
    });
  }
  // Alone, without padding, each of these must give its padded row's vector.
  let aloneDiff = 0;
  for (let i = 0; i < Math.min(8, ids.length); ++i) {
    const { data } = await run([ids[i]]);
    for (let d = 0; d < D; ++d) aloneDiff = Math.max(aloneDiff, Math.abs(data[d] - rows[i][d]));
  }
  const lengths = ids.map((s) => s.length);
  const summary = {
    model: flags.model, sentences: ids.length, dim: D, batch: batchSize, pooling: config.pooling,
    min_length: Math.min(...lengths), max_length: Math.max(...lengths), padded_rows: padded,
    min_cosine: Math.min(...cosines), max_abs_diff: maxAbs, alone_vs_padded_max_abs_diff: aloneDiff,
    export_seconds: exportSeconds, ort_version: ort.env.versions?.common ?? 'unknown',
  };
  console.log(JSON.stringify(summary));
  if (padded === 0) fail('no batch mixed sentence lengths: the mask went untested');
  if (summary.min_cosine < minCosine) fail(`min cosine ${summary.min_cosine} < ${minCosine} (sentence ${cosines.indexOf(summary.min_cosine) + 1})`);
  if (aloneDiff > 1e-5) fail(`a sentence alone differs from its padded row by ${aloneDiff}`);
}

main().catch((e) => fail(e.stack || e.message));
