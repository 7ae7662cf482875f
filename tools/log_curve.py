#!/usr/bin/env python3
"""Summarise a `sentemb train --log` JSON-lines file: the STS dev Spearman curve.

  tools/log_curve.py train.log.jsonl               # markdown table: minutes, step, Spearman
  tools/log_curve.py train.log.jsonl --svg c.svg   # ... and a line chart against minutes
  tools/log_curve.py new=a.jsonl old=b.jsonl --svg c.svg   # several runs, labelled

Standard library only. Each evaluation line of the log carries step, elapsed_s and
eval_spearman; the table marks the best.
"""

import argparse
import json
import sys


def read_evals(path):
    evals = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: not JSON ({e.msg})")
            if "eval_spearman" in row:
                evals.append((row["elapsed_s"] / 60, row["step"], 100 * row["eval_spearman"]))
    if not evals:
        sys.exit(f"{path}: no evaluation lines (train with --eval-sts and --log)")
    return evals


def table(path, evals):
    best = max(evals, key=lambda e: e[2])
    out = [f"{path}: best {best[2]:.1f} at step {best[1]} ({best[0]:.1f} min)", "",
           "| minutes | step | STS-B dev Spearman |", "|---:|---:|---:|"]
    for minutes, step, rho in evals:
        mark = f"**{rho:.1f}**" if (minutes, step, rho) == best else f"{rho:.1f}"
        out.append(f"| {minutes:.1f} | {step} | {mark} |")
    return "\n".join(out)


def svg(runs, width=640, height=360):
    """A line chart of Spearman against minutes, one polyline per run."""
    left, right, top, bottom = 56, 16, 16, 44
    xs = [m for _, ev in runs for m, _, _ in ev]
    ys = [r for _, ev in runs for _, _, r in ev]
    x1 = max(xs) or 1.0
    y0, y1 = int(min(ys)) - 1, int(max(ys)) + 2
    px = lambda x: left + (width - left - right) * x / x1  # noqa: E731
    py = lambda y: top + (height - top - bottom) * (y1 - y) / (y1 - y0)  # noqa: E731
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for y in range(y0, y1 + 1):
        parts.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{width - right}" y2="{py(y):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y}</text>')
    step = 10 if x1 > 30 else 5 if x1 > 10 else 1
    for x in range(0, int(x1) + 1, step):
        parts.append(f'<text x="{px(x):.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{x}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 8}" '
                 'text-anchor="middle">minutes</text>')
    parts.append(f'<text x="14" y="{(top + height - bottom) / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {(top + height - bottom) / 2})">'
                 'STS-B dev Spearman</text>')
    for i, (name, ev) in enumerate(runs):
        color = colors[i % len(colors)]
        points = " ".join(f"{px(m):.1f},{py(r):.1f}" for m, _, r in ev)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                     'stroke-width="2"/>')
        legend_y = height - bottom - 10 - 16 * (len(runs) - 1 - i)  # bottom right, clear of curves
        parts.append(f'<text x="{width - right - 8}" y="{legend_y}" text-anchor="end" '
                     f'fill="{color}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", help="JSON-lines logs of sentemb train, as PATH or LABEL=PATH")
    ap.add_argument("--svg", help="write a chart of Spearman against minutes here")
    args = ap.parse_args()
    runs = []
    for arg in args.logs:
        label, _, path = arg.rpartition("=")
        runs.append((label or path, read_evals(path)))
    print("\n\n".join(table(path, ev) for path, ev in runs))
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(runs))


if __name__ == "__main__":
    main()
