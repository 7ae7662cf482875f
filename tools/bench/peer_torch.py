"""The PyTorch peer of the sentemb benchmarks (issue 7): the same encoder, the
same weights (read from a sentemb model file), float32, timed on the same work.

Run with Debian's /usr/bin/python3 (python3-torch 1.13). For a fair peer, run it
with OpenBLAS instead of the reference BLAS:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
    env -u OPENBLAS_CORETYPE /usr/bin/python3 tools/bench/peer_torch.py ...

Subcommands (each prints one JSON line per result, like sentemb_bench):
  check         embeddings of an ids file vs sentemb's (raw float32 (N, C)); exit 1
                when the largest difference is above --tol
  encode-fixed  workload (a): batches of --batch sentences of exactly --tokens ids
  encode-ids    workload (b): the ids of real text (from `sentemb_bench tokenize`),
                sorted by length and batched (tokenisation is not timed here)
  train         workload (c): training steps on --batch pairs of --tokens ids
  first         model load plus the first embedding (from Python start: see run.sh)
  export-onnx   writes an ONNX export of the peer (for the ONNX Runtime peer)

Two implementations of the forward, --impl:
  plain  explicit matmuls (F.linear, softmax, F.gelu), exactly sentemb's math;
         the only one used for training (dropout in the same places as sentemb)
  nn     torch.nn.TransformerEncoderLayer (norm_first, batch_first), whose
         inference fast path (_transformer_encoder_layer_fwd) PyTorch 1.13 takes in
         eval mode under inference_mode; final LayerNorm and pooling as in plain
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import sentemb_ref  # noqa: E402

BOS_ID = 2


class PeerEncoder(nn.Module):
    """sentemb's pre-LN encoder in float32 with explicit matmuls.

    sentemb stores linear weights (in, out) and computes x @ W + b; nn.Linear keeps
    (out, in), so every weight is transposed once at load.
    """

    def __init__(self, config, params, dropout=0.0):
        super().__init__()
        self.config = config
        C, F_, NH = config["dim"], config["ffn_dim"], config["heads"]
        self.C, self.NH, self.hd = C, NH, C // NH
        self.eps = config["layernorm_eps"]
        self.p = dropout
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
        self.tok_emb = nn.Embedding(config["vocab_size"], C)
        self.tok_emb.weight.data = t(params["tok_emb"])
        self.pos_emb = nn.Parameter(t(params["pos_emb"]))
        self.blocks = nn.ModuleList()
        for l in range(config["layers"]):
            p = f"blocks.{l}."
            b = nn.Module()
            b.ln1 = nn.LayerNorm(C, eps=self.eps)
            b.ln1.weight.data, b.ln1.bias.data = t(params[p + "ln1.weight"]), t(params[p + "ln1.bias"])
            b.qkv = nn.Linear(C, 3 * C)
            b.proj = nn.Linear(C, C)
            b.ln2 = nn.LayerNorm(C, eps=self.eps)
            b.ln2.weight.data, b.ln2.bias.data = t(params[p + "ln2.weight"]), t(params[p + "ln2.bias"])
            b.fc1 = nn.Linear(C, F_)
            b.fc2 = nn.Linear(F_, C)
            for name, layer in (("attn.qkv", b.qkv), ("attn.proj", b.proj), ("ffn.fc1", b.fc1),
                                ("ffn.fc2", b.fc2)):
                layer.weight.data = t(params[p + name + ".weight"].T)
                layer.bias.data = t(params[p + name + ".bias"])
            self.blocks.append(b)
        self.lnf = nn.LayerNorm(C, eps=self.eps)
        self.lnf.weight.data, self.lnf.bias.data = t(params["final_ln.weight"]), t(params["final_ln.bias"])

    def embed(self, ids):
        T = ids.shape[1]
        return F.dropout(self.tok_emb(ids) + self.pos_emb[:T], self.p, self.training)

    def pool(self, x, valid):
        x = self.lnf(x)  # (B, T, C)
        m = valid[:, :, None].to(x.dtype)  # (B, T, 1)
        pooling = self.config["pooling"]
        if pooling == "mean":
            e = (x * m).sum(dim=1) / m.sum(dim=1)
        elif pooling == "cls":
            e = x[:, 0, :]
        else:
            e = x.masked_fill(~valid[:, :, None], float("-inf")).max(dim=1).values
        if self.config["normalize"]:
            e = F.normalize(e, dim=-1)
        return e  # (B, C)

    def forward(self, ids, valid):
        B, T = ids.shape
        C, NH, hd = self.C, self.NH, self.hd
        x = self.embed(ids)  # (B, T, C)
        # Additive key mask (B, 1, 1, T); every row keeps BOS, so none is all masked.
        mask = torch.zeros(B, 1, 1, T, dtype=x.dtype).masked_fill(~valid[:, None, None, :], -1e9)
        scale = 1.0 / math.sqrt(hd)
        for b in self.blocks:
            qkv = b.qkv(b.ln1(x))  # (B, T, 3C)
            q, k, v = qkv.split(C, dim=-1)
            q = q.reshape(B, T, NH, hd).transpose(1, 2)  # (B, NH, T, hd)
            k = k.reshape(B, T, NH, hd).transpose(1, 2)
            v = v.reshape(B, T, NH, hd).transpose(1, 2)
            att = torch.softmax(torch.baddbmm(
                mask.expand(B, NH, 1, T).reshape(B * NH, 1, T).to(q.dtype),
                q.reshape(B * NH, T, hd), k.reshape(B * NH, T, hd).transpose(1, 2),
                alpha=scale), dim=-1)  # (B·NH, T, T)
            att = F.dropout(att, self.p, self.training)
            ctx = torch.bmm(att, v.reshape(B * NH, T, hd)).reshape(B, NH, T, hd)
            ctx = ctx.transpose(1, 2).reshape(B, T, C)  # heads side by side
            x = x + F.dropout(b.proj(ctx), self.p, self.training)
            x = x + F.dropout(b.fc2(F.gelu(b.fc1(b.ln2(x)))), self.p, self.training)
        return self.pool(x, valid)


class NnEncoder(nn.Module):
    """The same weights in torch.nn.TransformerEncoderLayer (inference only)."""

    def __init__(self, peer):
        super().__init__()
        self.peer = peer
        C, NH = peer.C, peer.NH
        self.layers = nn.ModuleList()
        for b in peer.blocks:
            layer = nn.TransformerEncoderLayer(C, NH, dim_feedforward=b.fc1.out_features,
                                               dropout=0.0, activation="gelu", layer_norm_eps=peer.eps,
                                               batch_first=True, norm_first=True)
            layer.self_attn.in_proj_weight.data = b.qkv.weight.data.clone()
            layer.self_attn.in_proj_bias.data = b.qkv.bias.data.clone()
            layer.self_attn.out_proj.weight.data = b.proj.weight.data.clone()
            layer.self_attn.out_proj.bias.data = b.proj.bias.data.clone()
            layer.linear1.weight.data, layer.linear1.bias.data = b.fc1.weight.data, b.fc1.bias.data
            layer.linear2.weight.data, layer.linear2.bias.data = b.fc2.weight.data, b.fc2.bias.data
            layer.norm1.weight.data, layer.norm1.bias.data = b.ln1.weight.data, b.ln1.bias.data
            layer.norm2.weight.data, layer.norm2.bias.data = b.ln2.weight.data, b.ln2.bias.data
            self.layers.append(layer)

    def forward(self, ids, valid):
        x = self.peer.embed(ids)
        pad = ~valid  # True = padding
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        return self.peer.pool(x, valid)


def load_peer(path, dropout=0.0):
    with open(path, "rb") as f:
        config, _, params, _ = sentemb_ref.load_model_bytes(f.read())
    return PeerEncoder(config, params, dropout)


def pad(ids_list):
    B, T = len(ids_list), max(len(s) for s in ids_list)
    ids = torch.zeros((B, T), dtype=torch.long)
    valid = torch.zeros((B, T), dtype=torch.bool)
    for i, s in enumerate(ids_list):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        valid[i, :len(s)] = True
    return ids, valid


def read_ids(path):
    with open(path) as f:
        return [[int(w) for w in line.split()] for line in f]


def random_fixed_ids(B, T, vocab, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, vocab, (B, T), generator=g)
    ids[:, 0] = BOS_ID
    return ids, torch.ones((B, T), dtype=torch.bool)


def forward_flops_per_sequence(config, T):
    C, F_ = config["dim"], config["ffn_dim"]
    per_token_layer = 2 * C * 3 * C + 2 * C * C + 2 * C * F_ + 2 * F_ * C + 4 * T * C
    return per_token_layer * config["layers"] * T


def time_iterations(body, warmup, min_iterations, min_seconds):
    """Median seconds of one iteration (after `warmup` untimed ones)."""
    for _ in range(warmup):
        body()
    times, start = [], time.perf_counter()
    while len(times) < min_iterations or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def autocast(precision):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def emit(**fields):
    fields = {"system": "pytorch", **fields}
    print(json.dumps(fields), flush=True)


def make_model(args):
    peer = load_peer(args.model).eval()
    return (NnEncoder(peer) if args.impl == "nn" else peer).eval(), peer.config


def cmd_check(args):
    model, config = make_model(args)
    ids_list = read_ids(args.ids)
    ref = np.fromfile(args.emb, dtype="<f4").reshape(len(ids_list), config["dim"])
    with torch.inference_mode(), autocast(args.precision):
        out = torch.cat([model(*pad(ids_list[i:i + 64])).float()
                         for i in range(0, len(ids_list), 64)]).numpy()
    diff = float(np.abs(out - ref).max())
    cos = float(((out * ref).sum(1) / (np.linalg.norm(out, axis=1) * np.linalg.norm(ref, axis=1))).min())
    ok = diff <= args.tol
    emit(workload="check", impl=args.impl, precision=args.precision, sentences=len(ids_list),
         max_abs_diff=diff, min_cosine=cos, tol=args.tol, ok=ok)
    return 0 if ok else 1


def cmd_encode_fixed(args):
    model, config = make_model(args)
    ids, valid = random_fixed_ids(args.batch, args.tokens, config["vocab_size"], 7)
    with torch.inference_mode(), autocast(args.precision):
        median, n = time_iterations(lambda: model(ids, valid), 2, 5, args.seconds)
    per_s = args.batch / median
    emit(workload="encode_fixed", impl=args.impl, precision=args.precision,
         threads=torch.get_num_threads(), batch=args.batch, tokens=args.tokens,
         items_per_s=round(per_s, 1),
         gflops=round(forward_flops_per_sequence(config, args.tokens) * per_s / 1e9, 2),
         median_batch_ms=round(1e3 * median, 3), iterations=n)
    return 0


def sorted_batches(ids_list, batch):
    """(padded batches of length-sorted sentences, their input positions)."""
    order = sorted(range(len(ids_list)), key=lambda i: len(ids_list[i]))
    batches = [pad([ids_list[j] for j in order[i:i + batch]]) for i in range(0, len(order), batch)]
    return batches, torch.tensor(order)


def cmd_encode_ids(args):
    model, config = make_model(args)
    ids_list = read_ids(args.ids)
    out = torch.empty(len(ids_list), config["dim"])

    def encode(ids_subset):
        # Padding and sorting are part of the work, as in sentemb's Encoder::encode.
        batches, index = sorted_batches(ids_subset, args.batch)
        pooled = torch.cat([model(ids, valid).float() for ids, valid in batches])
        out[index] = pooled  # back to input order

    with torch.inference_mode(), autocast(args.precision):
        t0 = time.perf_counter()
        encode(ids_list[:args.warmup_lines])  # warm-up, as sentemb_bench encode-text
        warmup = time.perf_counter() - t0
        median, _ = time_iterations(lambda: encode(ids_list), 0, args.repeats, 0.0)
    emit(workload="encode_text", impl=args.impl, precision=args.precision,
         threads=torch.get_num_threads(), batch=args.batch, sentences=len(ids_list),
         items_per_s=round(len(ids_list) / median, 1), warmup_s=round(warmup, 3),
         median_pass_s=round(median, 3))
    return 0


def infonce(a, p, temperature=0.05):
    logits = F.normalize(a, dim=-1) @ F.normalize(p, dim=-1).T / temperature  # (B, B)
    return F.cross_entropy(logits, torch.arange(a.shape[0]))


def make_adamw(peer, lr):
    """sentemb's AdamW: decay 0.01 on the linear matrices only."""
    decay = [p for n, p in peer.named_parameters()
             if n.endswith(("qkv.weight", "proj.weight", "fc1.weight", "fc2.weight"))]
    decay_ids = {id(p) for p in decay}
    rest = [p for p in peer.parameters() if id(p) not in decay_ids]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                              {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.999), eps=1e-8)


def cmd_train(args):
    peer = load_peer(args.model, dropout=args.dropout).train()
    config = peer.config
    opt = make_adamw(peer, 1e-4)
    B = args.batch
    ids, valid = random_fixed_ids(2 * B, args.tokens, config["vocab_size"], 11)
    last = [0.0]

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast(args.precision):
            e = peer(ids, valid)  # (2B, C): anchors then positives
            loss = infonce(e[:B].float(), e[B:].float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(peer.parameters(), 1.0)
        opt.step()
        last[0] = float(loss)

    median, n = time_iterations(step, 1, args.steps, args.seconds)
    per_s = B / median
    emit(workload="train", impl="plain", precision=args.precision, threads=torch.get_num_threads(),
         batch=B, tokens=args.tokens, items_per_s=round(per_s, 1),
         gflops=round(3 * forward_flops_per_sequence(config, args.tokens) * 2 * per_s / 1e9, 2),
         median_step_ms=round(1e3 * median, 3), iterations=n, loss=round(last[0], 4))
    return 0


def cmd_first(args):
    """Model load + the first embedding of two short sentences' ids, from Python start."""
    model, _ = make_model(args)
    ids_list = read_ids(args.ids)[:2]
    with torch.inference_mode():
        model(*pad(ids_list))
    emit(workload="first", impl=args.impl, seconds_since_start=round(time.perf_counter() - T_START, 4))
    return 0


def cmd_export_onnx(args):
    model, config = make_model(args)
    ids, valid = random_fixed_ids(2, 8, config["vocab_size"], 7)
    torch.onnx.export(model, (ids, valid), args.out, input_names=["ids", "valid"],
                      output_names=["embedding"], opset_version=14,
                      dynamic_axes={"ids": {0: "B", 1: "T"}, "valid": {0: "B", 1: "T"},
                                    "embedding": {0: "B"}})
    emit(workload="export_onnx", impl=args.impl, path=args.out)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["check", "encode-fixed", "encode-ids", "train", "first",
                                        "export-onnx"])
    ap.add_argument("--model", required=True, help="sentemb model file (.semb)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: torch.autocast('cpu', dtype=torch.bfloat16)")
    ap.add_argument("--impl", choices=["plain", "nn"], default="plain", help="forward implementation")
    ap.add_argument("--batch", type=int, default=128, help="sentences (pairs for train) per batch")
    ap.add_argument("--tokens", type=int, default=32, help="ids per sentence (fixed workloads)")
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum timed seconds")
    ap.add_argument("--repeats", type=int, default=1, help="timed passes over the ids (encode-ids)")
    ap.add_argument("--steps", type=int, default=3, help="train: minimum timed steps (after 1 warm-up)")
    ap.add_argument("--warmup-lines", type=int, default=2000,
                    help="encode-ids: sentences encoded once, untimed, before the timed pass")
    ap.add_argument("--dropout", type=float, default=0.1, help="training dropout")
    ap.add_argument("--ids", help="ids file: space-separated ids per line (BOS first)")
    ap.add_argument("--emb", help="sentemb's embeddings of --ids, raw float32 (N, C)")
    ap.add_argument("--tol", type=float, default=1e-4, help="check: largest allowed |difference|")
    ap.add_argument("--out", help="export-onnx: output .onnx path")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return {"check": cmd_check, "encode-fixed": cmd_encode_fixed, "encode-ids": cmd_encode_ids,
            "train": cmd_train, "first": cmd_first, "export-onnx": cmd_export_onnx}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
