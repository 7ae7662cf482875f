"""Train the PyTorch peer on real data the way `sentemb train` does, for issue 5:
does the same architecture, from the same initial weights and tokenization, with
the same batching and loss, reach a higher STS-B dev score in PyTorch? A gap
would point at sentemb's trainer; no gap at the recipe or the data.

Same as `sentemb train --symmetric` with per-file batches: each step draws one
file with probability proportional to its weight, takes the next --batch rows of
that file's shuffled order (reshuffled when exhausted), and applies symmetric
InfoNCE (temperature 0.05; the triplets' negatives as extra candidates of the
anchor→positive half; rows of one caption group are not each other's negatives),
dropout 0.1 in sentemb's places, AdamW (decay 0.01 on the linear matrices), global
norm clip 1.0, linear warm-up then linear decay to zero, the schedule following
steps or time, whichever is further along (as `--max-minutes` does).

Inputs are ids files from `sentemb_bench tokenize` (one per column), in a folder:
  NAME.c1.ids, NAME.c2.ids[, NAME.c3.ids] for each --file NAME:WEIGHT,
  sts.c1.ids, sts.c2.ids, sts.gold for the evaluation,
  and optionally NAME.c1.txt with GROUPS.tsv for caption groups (--groups NAME=FILE).

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp env -u OPENBLAS_CORETYPE \\
    /usr/bin/python3 tools/bench/peer_train_real.py --dir DIR --model init.semb \\
      --file coco_captions.pairs:50 ... --minutes 45 --threads 2 --log log.jsonl
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import load_peer, make_adamw, pad, read_ids  # noqa: E402


def group_ids(dir_, name, groups_file):
    """Group id of each row (by its anchor text), -1 where the anchor has none."""
    by_text, number = {}, {}
    with open(groups_file) as f:
        for line in f:
            g, text = line.rstrip("\n").split("\t", 1)
            by_text[text] = number.setdefault(g, len(number))
    with open(os.path.join(dir_, name + ".c1.txt")) as f:
        return [by_text.get(line.rstrip("\n"), -1) for line in f]


def infonce_symmetric(a, p, n, groups, temperature):
    """sentemb's InfoNceLoss with symmetric=True (src/train/losses.cpp)."""
    B = a.shape[0]
    a, p = F.normalize(a, dim=-1), F.normalize(p, dim=-1)
    cand = p if n is None else torch.cat([p, F.normalize(n, dim=-1)])
    logits_ab = a @ cand.T / temperature  # (B, M)
    logits_ba = p @ a.T / temperature  # (B, B)
    if groups is not None:
        g = torch.tensor(groups)
        same = (g[:, None] == g[None, :]) & (g[:, None] >= 0) & ~torch.eye(B, dtype=torch.bool)
        mask_ab = same if n is None else torch.cat([same, same], dim=1)
        logits_ab = logits_ab.masked_fill(mask_ab, float("-inf"))
        logits_ba = logits_ba.masked_fill(same, float("-inf"))
    target = torch.arange(B)
    return 0.5 * (F.cross_entropy(logits_ab, target) + F.cross_entropy(logits_ba, target))


def evaluate(peer, dir_):
    peer.eval()
    a, b = read_ids(os.path.join(dir_, "sts.c1.ids")), read_ids(os.path.join(dir_, "sts.c2.ids"))
    gold = [float(x) for x in open(os.path.join(dir_, "sts.gold"))]
    cos = []
    with torch.no_grad():
        for i in range(0, len(a), 256):
            ea, eb = peer(*pad(a[i:i + 256])), peer(*pad(b[i:i + 256]))
            cos += F.cosine_similarity(ea, eb).tolist()
    peer.train()
    return 100 * spearmanr(cos, gold).correlation


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--model", required=True, help="initial weights (sentemb init)")
    ap.add_argument("--file", action="append", required=True, help="NAME:WEIGHT")
    ap.add_argument("--groups", action="append", default=[], help="NAME=GROUPS.tsv")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=8e-4)
    ap.add_argument("--warmup", type=float, default=0.05)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    groups_of = dict(g.split("=", 1) for g in args.groups)
    files = []
    for spec in args.file:
        name, weight = spec.rsplit(":", 1)
        cols = [read_ids(os.path.join(args.dir, f"{name}.c{c}.ids")) for c in (1, 2, 3)
                if os.path.exists(os.path.join(args.dir, f"{name}.c{c}.ids"))]
        groups = group_ids(args.dir, name, groups_of[name]) if name in groups_of else None
        files.append({"name": name, "weight": float(weight), "cols": cols, "groups": groups,
                      "order": [], "pos": 0})
    rows = sum(len(f["cols"][0]) for f in files)
    total_steps = args.epochs * sum(len(f["cols"][0]) // args.batch for f in files)
    warmup = int(args.warmup * total_steps)

    peer = load_peer(args.model, dropout=args.dropout).train()
    opt = make_adamw(peer, args.lr)
    log = open(args.log, "w")
    start = time.time()
    weights = [f["weight"] for f in files]
    print(f"{rows} rows, {total_steps} scheduled steps, warm-up {warmup}", flush=True)
    step = 0
    while step < total_steps and time.time() - start < 60 * args.minutes:
        f = rng.choices(files, weights)[0]
        n = len(f["cols"][0])
        if f["pos"] + args.batch > n or not f["order"]:
            f["order"] = list(range(n))
            rng.shuffle(f["order"])
            f["pos"] = 0
        idx = f["order"][f["pos"]:f["pos"] + args.batch]
        f["pos"] += args.batch
        # The schedule runs on steps or time, whichever is further along.
        progress = max(step, (time.time() - start) / (60 * args.minutes) * total_steps)
        lr = args.lr * (progress / max(1, warmup) if progress < warmup else
                        max(0.0, (total_steps - progress) / max(1, total_steps - warmup)))
        for g in opt.param_groups:
            g["lr"] = lr
        seqs = [[col[i] for i in idx] for col in f["cols"]]
        B = len(idx)
        e = peer(*pad([s for col in seqs for s in col]))  # (B·columns, C)
        groups = [f["groups"][i] for i in idx] if f["groups"] else None
        loss = infonce_symmetric(e[:B], e[B:2 * B], e[2 * B:] if len(seqs) == 3 else None,
                                 groups, args.temperature)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(peer.parameters(), 1.0)
        opt.step()
        step += 1
        record = {"step": step, "elapsed_s": round(time.time() - start, 1),
                  "loss": round(float(loss), 4), "lr": lr, "source": f["name"]}
        if step % args.eval_every == 0:
            record["eval_spearman"] = round(evaluate(peer, args.dir), 2)
            print(record, flush=True)
        log.write(json.dumps(record) + "\n")
        log.flush()
    final = round(evaluate(peer, args.dir), 2)
    log.write(json.dumps({"step": step, "elapsed_s": round(time.time() - start, 1),
                          "eval_spearman": final, "final": True}) + "\n")
    print(f"done after {step} steps; STS-B dev {final}", flush=True)


if __name__ == "__main__":
    main()
