"""Summarise tools/bench/run.sh's results.jsonl as the markdown tables of
docs/benchmarks.md: medians over rounds, ratios of medians, the fraction of the
matmul limit, and which targets of issue 7 are met.

  python3 tools/bench/summarize.py build-bench/work/results.jsonl
"""

import json
import statistics
import sys


def load(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by_label, failed = {}, {}
    for r in rows:
        if r.get("failed"):
            failed.setdefault(r["label"], r.get("error", ""))
        else:
            by_label.setdefault(r["label"], []).append(r)
    return by_label, failed


class Results:
    def __init__(self, path):
        self.rows, self.failed = load(path)

    def values(self, label, key="items_per_s", where=None):
        out = []
        for r in self.rows.get(label, []):
            res = r["result"]
            if where and any(res.get(k) != v for k, v in where.items()):
                continue
            value = r.get(key) if key in ("rss_kb", "wall_s") else res.get(key)
            if value is not None:
                out.append(float(value))
        return out

    def median(self, label, key="items_per_s", where=None):
        v = self.values(label, key, where)
        return statistics.median(v) if v else None

    def spread(self, label, key="items_per_s"):
        v = self.values(label, key)
        return (min(v), max(v), len(v)) if v else None

    def paired(self, label_a, label_b, key="items_per_s"):
        """Median over rounds of a/b within the same round (adjacent runs)."""
        def by_round(label):
            return {r["round"]: float(r["result"][key]) for r in self.rows.get(label, [])
                    if r["result"].get(key) is not None}
        a, b = by_round(label_a), by_round(label_b)
        ratios = [a[k] / b[k] for k in a if k in b and b[k]]
        return statistics.median(ratios) if ratios else None

    def matmul(self, precision, label="matmul"):
        return self.median(label, "gflops", {"precision": precision})


def fmt(x, digits=0):
    return "—" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    R = Results(sys.argv[1])
    lines = []
    p = lines.append
    mm32, mm16 = R.matmul("fp32"), R.matmul("bf16")
    mm32_t1, mm16_t1 = R.matmul("fp32", "matmul_t1"), R.matmul("bf16", "matmul_t1")
    threads = next((r["result"].get("threads") for r in R.rows.get("matmul", [])), "?")

    loads = R.values("load", "loadavg1")
    if loads:
        p(f"Machine load (1-minute load average at each round's start): "
          f"{', '.join(f'{x:.1f}' for x in loads)}\n")
    p(f"### Matmul limit (oneDNN, 2048³, medians over rounds)\n")
    p("| threads | fp32 GFLOP/s | bf16 GFLOP/s |")
    p("|---|---:|---:|")
    p(f"| {threads} | {fmt(mm32, 1)} | {fmt(mm16, 1)} |")
    p(f"| 1 | {fmt(mm32_t1, 1)} | {fmt(mm16_t1, 1)} |")
    p("")

    def row(name, label, limit):
        med = R.median(label)
        if med is None:
            why = R.failed.get(label, "not run")
            p(f"| {name} | not available ({why}) | | | | |")
            return None
        lo, hi, n = R.spread(label)
        gf = R.median(label, "gflops")
        rss = R.median(label, "rss_kb")
        frac = ratio(gf, limit)
        p(f"| {name} | {fmt(med)} | {fmt(lo)}–{fmt(hi)} (n={n}) | {fmt(gf, 1)} | "
          f"{'—' if frac is None else f'{100 * frac:.0f}%'} | {fmt(rss and rss / 1024)} |")
        return med

    header = ("| system | {unit}/s (median) | range | model GFLOP/s | of matmul limit | "
              "peak RSS MB |\n|---|---:|---:|---:|---:|---:|")
    p(f"### (a) Encode, 128 sentences × 32 tokens, {threads} threads\n")
    p(header.format(unit="sentences"))
    s32 = row("sentemb fp32", "enc_a_fp32_sentemb", mm32)
    tp = row("PyTorch fp32 (plain matmuls)", "enc_a_fp32_torch_plain", mm32)
    tn = row("PyTorch fp32 (nn.TransformerEncoderLayer fast path)", "enc_a_fp32_torch_nn", mm32)
    tx = row("ONNX Runtime fp32 (onnxruntime-node, export of the PyTorch peer)", "enc_a_fp32_onnx", mm32)
    s16 = row("sentemb bf16", "enc_a_bf16_sentemb", mm16)
    t16 = row("PyTorch bf16 autocast", "enc_a_bf16_torch_plain", mm16)
    s8 = row("sentemb int8", "enc_a_int8_sentemb", None)
    p("")
    torch32 = max([x for x in (tp, tn) if x is not None], default=None)
    torch32_label = "enc_a_fp32_torch_plain" if torch32 == tp else "enc_a_fp32_torch_nn"

    p(f"### (b) Encode real text (STS-B dev both columns + 20k COCO captions), {threads} threads\n")
    p(header.format(unit="sentences"))
    sb = row("sentemb fp32 (Encoder::encode: tokenise, sort, batch)", "text_fp32_sentemb", None)
    sb16 = row("sentemb bf16", "text_bf16_sentemb", None)
    sb8 = row("sentemb int8", "text_int8_sentemb", None)
    tb = row("PyTorch fp32 (pre-tokenised ids, sorted, batched)", "text_fp32_torch", None)
    for label in ("text_fp32_sentemb", "text_fp32_torch"):
        res = R.rows.get(label, [{}])[0].get("result", {})
        if res:
            p(f"\n{label}: batch {res.get('batch')}" +
              (f", impl {res.get('impl')}" if res.get("impl") else ""))
    p("")

    p(f"### (c) Training steps, 64 pairs × 32 tokens, InfoNCE + AdamW, {threads} threads\n")
    p(header.format(unit="pairs"))
    sc = row("sentemb fp32", "train_fp32_sentemb", mm32)
    tc = row("PyTorch fp32", "train_fp32_torch", mm32)
    sc16 = row("sentemb bf16 mixed precision", "train_bf16_sentemb", mm16)
    tc16 = row("PyTorch bf16 autocast", "train_bf16_torch", mm16)
    p("")

    p("### Thread scaling, (a) fp32\n")
    p("| system | 1 thread | " + f"{threads} threads | speed-up |")
    p("|---|---:|---:|---:|")
    for name, l1, l2 in (("sentemb", "enc_a_fp32_t1_sentemb", "enc_a_fp32_sentemb"),
                         ("PyTorch nn", "enc_a_fp32_t1_torch_nn", "enc_a_fp32_torch_nn"),
                         ("oneDNN matmul (GFLOP/s)", None, None)):
        if l1 is None:
            p(f"| {name} | {fmt(mm32_t1, 1)} | {fmt(mm32, 1)} | {fmt(ratio(mm32, mm32_t1), 2)}× |")
            continue
        a, b = R.median(l1), R.median(l2)
        p(f"| {name} | {fmt(a)} | {fmt(b)} | {fmt(ratio(b, a), 2)}× |")
    for name, l1, l2 in (("sentemb training (pairs/s)", "train_fp32_t1_sentemb", "train_fp32_sentemb"),
                         ("PyTorch training (pairs/s)", "train_fp32_t1_torch", "train_fp32_torch")):
        a, b = R.median(l1), R.median(l2)
        p(f"| {name} | {fmt(a, 1)} | {fmt(b, 1)} | {fmt(ratio(b, a), 2)}× |")
    a, b = R.median("train_fp32_t1_sentemb"), R.median("train_fp32_t1_torch")
    p(f"\nTraining at 1 thread: sentemb / PyTorch = {fmt(ratio(a, b), 2)}×; "
      f"sentemb {fmt(R.median('train_fp32_t1_sentemb', 'gflops'), 1)} model GFLOP/s.")
    s1 = R.median("enc_a_fp32_t1_sentemb", "gflops")
    p(f"\nsentemb at 1 thread: {fmt(s1, 1)} model GFLOP/s = "
      f"{'—' if ratio(s1, mm32_t1) is None else f'{100 * ratio(s1, mm32_t1):.0f}%'} "
      f"of the 1-thread matmul limit.\n")

    first_s, first_t = R.median("first_sentemb", "wall_s"), R.median("first_torch", "wall_s")
    p("### Model load + first embedding (process start to exit)\n")
    p(f"- `sentemb score` on two short sentences: {fmt(first_s and 1e3 * first_s)} ms "
      f"(median wall, range {fmt(R.spread('first_sentemb', 'wall_s') and 1e3 * R.spread('first_sentemb', 'wall_s')[0])}–"
      f"{fmt(R.spread('first_sentemb', 'wall_s') and 1e3 * R.spread('first_sentemb', 'wall_s')[1])} ms)")
    p(f"- PyTorch peer (Python start, import torch, load, embed): {fmt(first_t and 1e3 * first_t)} ms\n")

    p("### Equivalence\n")
    for label in sorted(R.rows):
        if label.startswith(("check_", "cosine_", "trained_cosine_")):
            res = R.rows[label][0]["result"]
            cos = res.get("min_cosine")
            p(f"- {label}: max |Δ| {res['max_abs_diff']:.2e}"
              + ("" if cos is None else f", min cosine {cos:.6f}")
              + f" over {res['sentences']} sentences")
    p("")

    p("### Targets (ratios of medians, same run)\n")
    p("| target | ratio of medians | median of per-round ratios | met? |")
    p("|---|---:|---:|:---:|")

    def target(name, value, threshold, unit="×", paired=None):
        if value is None:
            p(f"| {name} | not measured | | — |")
            return
        shown = f"{value:.2f}{unit}" if unit == "×" else f"{100 * value:.0f}%"
        pair = "" if paired is None else f"{paired:.2f}×"
        p(f"| {name} | {shown} | {pair} | {'yes' if value >= threshold else 'no'} |")

    target("encode (a) fp32 ≥ 1.3× PyTorch fp32 (best of plain / nn)", ratio(s32, torch32), 1.3,
           paired=R.paired("enc_a_fp32_sentemb", torch32_label))
    target("encode (a) fp32 ≥ 1.15× ONNX Runtime fp32", ratio(s32, tx), 1.15,
           paired=R.paired("enc_a_fp32_sentemb", "enc_a_fp32_onnx"))
    target("encode (a) fp32 ≥ 85% of the matmul limit",
           ratio(R.median("enc_a_fp32_sentemb", "gflops"), mm32), 0.85, unit="%")
    target("encode (a) bf16 ≥ 1.3× PyTorch bf16 autocast", ratio(s16, t16), 1.3,
           paired=R.paired("enc_a_bf16_sentemb", "enc_a_bf16_torch_plain"))
    for prec in ("bf16", "int8"):
        for prefix, what in (("trained_cosine_", "trained model"), ("cosine_", "random model")):
            cos = R.rows.get(f"{prefix}{prec}_vs_fp32")
            if cos:
                c = cos[0]["result"]["min_cosine"]
                p(f"| {prec} embeddings within cosine 0.999 of fp32 ({what}) | min {c:.5f} | | "
                  f"{'yes' if c >= 0.999 else 'no'} |")
    target("int8 ≥ 2× PyTorch fp32 on (a)", ratio(s8, torch32), 2.0,
           paired=R.paired("enc_a_int8_sentemb", torch32_label))
    target("encode (b) real text ≥ 2× PyTorch fp32", ratio(sb, tb), 2.0,
           paired=R.paired("text_fp32_sentemb", "text_fp32_torch"))
    for prec, value in (("bf16", sb16), ("int8", sb8)):
        target(f"encode (b) real text, sentemb {prec} ≥ 2× PyTorch fp32", ratio(value, tb), 2.0,
               paired=R.paired(f"text_{prec}_sentemb", "text_fp32_torch"))
    target("training fp32 ≥ 1.5× PyTorch fp32", ratio(sc, tc), 1.5,
           paired=R.paired("train_fp32_sentemb", "train_fp32_torch"))
    target("training fp32 at 1 thread ≥ 1.5× PyTorch fp32 at 1 thread (not a target; less load-bound)",
           ratio(R.median("train_fp32_t1_sentemb"), R.median("train_fp32_t1_torch")), 1.5,
           paired=R.paired("train_fp32_t1_sentemb", "train_fp32_t1_torch"))
    target("training bf16 ≥ 1.7× PyTorch bf16 autocast", ratio(sc16, tc16), 1.7,
           paired=R.paired("train_bf16_sentemb", "train_bf16_torch"))
    rss_s, rss_t = R.median("enc_a_fp32_sentemb", "rss_kb"), R.median(torch32_label, "rss_kb")
    v = ratio(rss_t, rss_s)
    p(f"| peak RSS of encode ≤ half of PyTorch's | {fmt(rss_s and rss_s / 1024)} MB vs "
      f"{fmt(rss_t and rss_t / 1024)} MB ({'—' if v is None else f'{v:.1f}× less'}) | | "
      f"{'—' if v is None else ('yes' if v >= 2 else 'no')} |")
    p(f"| model load + first embedding < 100 ms | {fmt(first_s and 1e3 * first_s)} ms | | "
      f"{'—' if first_s is None else ('yes' if first_s < 0.1 else 'no')} |")
    p("")

    shapes = R.rows.get("matmul_shapes", [])
    if shapes:
        p(f"### Diagnostic: the model's linear shapes, M = 4096, {threads} threads\n")
        p("Each product alone, cache-warm inputs, fp32 output; sentemb runs the packed form on "
          "256 rows or more (src/nn/linear.cpp).\n")
        p("| layer | K×N | precision | GFLOP/s: runtime M, plain W | fixed M, plain W | fixed M, packed W "
          "| impls (runtime / fixed) |")
        p("|---|---|---|---:|---:|---:|---|")
        res = [r["result"] for r in shapes if r["result"].get("workload") == "matmul_shape"]
        for prec in ("fp32", "bf16"):
            for layer in ("qkv", "proj", "fc1", "fc2"):
                f = [r for r in res if r["layer"] == layer and r["precision"] == prec]
                rt = next((r for r in f if r["runtime_m"]), None)
                fixed = next((r for r in f if not r["runtime_m"] and not r.get("packed")), None)
                packed = next((r for r in f if r.get("packed")), None)
                if fixed and rt:
                    pk = f"{packed['gflops']:.1f}" if packed else "—"
                    p(f"| {layer} | {fixed['k']}×{fixed['n']} | {prec} | {rt['gflops']:.1f} | "
                      f"{fixed['gflops']:.1f} | {pk} | {rt['impl']} / {fixed['impl']} |")
        p("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
