"""Where the time goes inside oneDNN: reads the output of a sentemb_bench run made
with ONEDNN_VERBOSE=1 and prints, per primitive kind, implementation and shape,
the executions per iteration, the time per iteration and its share; then the
share of the iteration time spent outside oneDNN (sentemb's own loops).

  ONEDNN_VERBOSE=1 build-bench/sentemb_bench encode-fixed --model M --threads 2 \\
      --seconds 0.5 > log.txt
  python3 tools/bench/onednn_profile.py log.txt
"""

import json
import sys
from collections import defaultdict


def main():
    totals = defaultdict(lambda: [0, 0.0])  # (kind, impl, shape) -> [count, ms]
    result = None
    for line in open(sys.argv[1], errors="replace"):
        line = line.strip()
        if line.startswith("{"):
            result = json.loads(line)
            continue
        parts = line.split(",")
        if len(parts) < 11 or not parts[0].endswith("_verbose") or parts[1] != "exec":
            continue
        kind, impl, mds, attrs, shape = parts[3], parts[4], parts[6], parts[7], parts[-2]
        dtype = "bf16" if "bf16" in mds else ("s8/u8" if "s8" in mds or "u8" in mds else "f32")
        post = " +" + attrs.replace("attr-post-ops:", "").strip() if "post-ops" in attrs else ""
        key = (kind, impl, f"{shape} {dtype}{post}")
        totals[key][0] += 1
        totals[key][1] += float(parts[-1])
    if not totals or result is None:
        print("no oneDNN verbose lines or no benchmark result in the log")
        return 1
    # The bench ran `iterations` timed + `warmup` untimed iterations; the oneDNN
    # totals are averaged over all of them and compared with the mean iteration.
    iterations = result.get("iterations", 1) + result.get("warmup", 2)
    per_iter_ms = result.get("mean_batch_ms") or result.get("mean_step_ms")
    all_ms = sum(ms for _, ms in totals.values()) / iterations
    print(f"workload {result.get('workload')} {result.get('precision')}, {iterations} iterations; "
          f"mean iteration {per_iter_ms} ms (with verbose logging on), oneDNN primitives "
          f"{all_ms:.2f} ms per iteration\n")
    print("| primitive | impl | shape / type / post-ops | execs/iter | ms/iter | share |")
    print("|---|---|---|---:|---:|---:|")
    for (kind, impl, shape), (count, ms) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        share = ms / iterations / all_ms
        if share < 0.005:
            continue
        print(f"| {kind} | {impl} | {shape} | {count / iterations:.0f} | {ms / iterations:.3f} | "
              f"{100 * share:.1f}% |")
    by_impl = defaultdict(float)
    for (kind, impl, _), (_, ms) in totals.items():
        by_impl[f"{kind} {impl}"] += ms / iterations
    print("\nby primitive and implementation: " +
          ", ".join(f"{k} {v:.2f} ms ({100 * v / all_ms:.0f}%)"
                    for k, v in sorted(by_impl.items(), key=lambda kv: -kv[1])))
    if per_iter_ms:
        outside = per_iter_ms - all_ms
        print(f"\noutside oneDNN (embedding, masks, pooling, conversions, loss, optimiser, "
              f"logging): about {outside:.2f} ms per iteration "
              f"({100 * outside / per_iter_ms:.0f}% of the mean iteration)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
