#!/usr/bin/python3
"""Generates the golden fixtures of the C++ tests from the PyTorch reference.

    /usr/bin/python3 tools/reference/make_fixtures.py          # (re)write them
    /usr/bin/python3 tools/reference/make_fixtures.py --check  # compare with the committed ones

Writes tests/data/golden/* (forward and gradient fixtures) and
tests/data/model_file/v1_tiny.semb. Deterministic: fixed seeds, numpy's PCG64
generator, float64 computation; the same inputs give the same bytes. See
tests/data/golden/README.md for what each file holds.
"""

import argparse
import math
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import sentemb_ref as ref  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKENIZER = ROOT / "tests/data/tokenizer/tiny.model"
VOCAB = 256  # tiny.model's vocabulary size

TEMPERATURE = 0.05
MARGIN = 0.5


def tiny_config(**overrides):
    args = dict(vocab_size=VOCAB, max_len=16, layers=2, dim=32, heads=4, ffn_dim=64)
    args.update(overrides)
    return ref.make_config(**args)


def ids_line(ids):
    return " ".join(str(i) for i in ids)


def vectors_tsv(rows):
    return "".join("\t".join("%.9g" % v for v in row) + "\n" for row in rows)


def random_sentence(rng, length):
    """BOS then length - 1 ids from [3, VOCAB): no pad, unk or a second BOS."""
    return [ref.BOS_ID] + [int(i) for i in rng.integers(3, VOCAB, size=length - 1)]


# ---------------------------------------------------------------------------
# Forward fixture


def forward_fixtures(tokenizer):
    files = {}
    config = tiny_config()
    params = ref.random_parameters(config, seed=1, std=0.2)
    files["golden/tiny.semb"] = ref.model_file_bytes(config, tokenizer, params)

    rng = np.random.default_rng(101)
    lengths = [5, 1, 16, 9, 2, 12, 3, 16, 7, 14]  # 1 and max_len included, unsorted
    inputs = [random_sentence(rng, n) for n in lengths]
    files["golden/forward_inputs.tsv"] = "".join(ids_line(s) + "\n" for s in inputs).encode()

    P = ref.to_torch(params)
    variants = {
        "golden/forward_expected.tsv": dict(pooling="mean", normalize=True),
        "golden/forward_expected_mean_raw.tsv": dict(pooling="mean", normalize=False),
        "golden/forward_expected_cls.tsv": dict(pooling="cls", normalize=False),
        "golden/forward_expected_max.tsv": dict(pooling="max", normalize=False),
    }
    for path, overrides in variants.items():
        cfg = tiny_config(**overrides)
        with torch.no_grad():
            alone = torch.cat([ref.encode(P, cfg, [s]) for s in inputs])  # (N, C)
            batched = ref.encode(P, cfg, inputs)  # (N, C), padded to 16
        # The reference must itself be padding-invariant.
        gap = (alone - batched).abs().max().item()
        assert gap < 1e-12, f"{path}: batched and one-by-one differ by {gap}"
        if overrides["normalize"]:
            assert torch.allclose(alone.norm(dim=-1), torch.ones(len(inputs), dtype=alone.dtype))
        files[path] = vectors_tsv(alone.tolist()).encode()
    return files


# ---------------------------------------------------------------------------
# Gradient fixture


def finite_difference_check(P, loss_of, name, grads, rng, count=4, h=1e-6):
    """Central differences in float64 at a few components of tensor `name`."""
    flat = P[name].detach().view(-1)
    g = grads[name].reshape(-1)
    picks = set(int(i) for i in rng.integers(0, flat.numel(), size=count))
    picks.add(int(np.argmax(np.abs(g))))
    for i in picks:
        saved = flat[i].item()
        with torch.no_grad():
            flat[i] = saved + h
            up = loss_of().item()
            flat[i] = saved - h
            down = loss_of().item()
            flat[i] = saved
        numeric = (up - down) / (2 * h)
        assert abs(numeric - g[i]) <= 1e-6 + 1e-5 * abs(g[i]), (name, i, numeric, g[i])


def gradient_fixtures(compact_tokenizer):
    files = {}
    config = tiny_config()
    params = ref.random_parameters(config, seed=2, std=0.2)
    files["golden/grads_model.semb"] = ref.model_file_bytes(config, compact_tokenizer, params)

    # B = 4 triplets. A positive is its anchor with some ids replaced (so it is
    # close), a negative an unrelated sentence. The seed is the first from 201
    # whose triplet hinges are all active by >= 0.05, so that the triplet loss is
    # differentiable at the fixture with room for finite-difference steps.
    P = ref.to_torch(params, requires_grad=True)
    for seed in range(201, 301):
        rng = np.random.default_rng(seed)
        batch = []
        for n in (6, 11, 3, 15):
            anchor = random_sentence(rng, n)
            positive = list(anchor)
            for j in rng.choice(np.arange(1, n), size=max(1, n // 3), replace=False):
                positive[j] = int(rng.integers(3, VOCAB))
            negative = random_sentence(rng, int(rng.integers(2, 17)))
            batch.append((anchor, positive, negative))
        with torch.no_grad():
            a, p, n = (ref.encode(P, config, [t[k] for t in batch]) for k in range(3))
            hinge = (1 - ref.cosine_rows(a, p)) - (1 - ref.cosine_rows(a, n)) + MARGIN
        if hinge.min().item() >= 0.05:
            break
    else:
        raise RuntimeError("no seed gives active triplet hinges")
    files["golden/grads_batch.tsv"] = "".join(
        "\t".join(ids_line(s) for s in t) + "\n" for t in batch).encode()

    def embeddings():
        # One padded batch of 3B sentences, split back: (B, C) each.
        e = ref.encode(P, config, [t[0] for t in batch] + [t[1] for t in batch] +
                       [t[2] for t in batch])
        return e[:4], e[4:8], e[8:]

    losses = {
        "golden/grads_infonce_sym.semb": (
            dict(loss_name="infonce", symmetric=True, uses_negatives=False,
                 temperature=TEMPERATURE),
            lambda a, p, n: ref.infonce(a, p, None, TEMPERATURE, symmetric=True)),
        "golden/grads_infonce_neg.semb": (
            dict(loss_name="infonce", symmetric=False, uses_negatives=True,
                 temperature=TEMPERATURE),
            lambda a, p, n: ref.infonce(a, p, n, TEMPERATURE, symmetric=False)),
        "golden/grads_triplet.semb": (
            dict(loss_name="triplet", distance="cosine", uses_negatives=True, margin=MARGIN),
            lambda a, p, n: ref.triplet_cosine(a, p, n, MARGIN)),
    }
    check_rng = np.random.default_rng(7)
    for path, (description, loss_fn) in losses.items():
        for t in P.values():
            t.grad = None
        loss = loss_fn(*embeddings())
        loss.backward()
        grads = {name: P[name].grad.numpy().copy() for name in P}
        value = loss.item()
        assert math.isfinite(value) and value > 1e-3, (path, value)
        # Self-check the autograd gradients on a few components of every tensor.
        for name in P:
            finite_difference_check(P, lambda: loss_fn(*embeddings()), name, grads, check_rng)
        header = {"kind": "gradients", "loss": value, "model": "grads_model.semb",
                  "batch": "grads_batch.tsv"}
        header.update(description)
        files[path] = ref.model_file_bytes(
            config, compact_tokenizer, {k: v.astype(np.float32) for k, v in grads.items()},
            header)
    return files


# ---------------------------------------------------------------------------
# Model file fixture: a v1 file that every later version must keep loading


def v1_fixture(compact_tokenizer):
    config = ref.make_config(vocab_size=VOCAB, max_len=8, layers=1, dim=8, heads=2, ffn_dim=16,
                             pooling="max", normalize=False)
    # Arena value i (file order, row-major) = ((37 i) mod 129 - 64) / 64: exact in
    # float32, so the C++ test can recompute every value bit for bit.
    params, offset = {}, 0
    for name, shape in ref.parameter_specs(config):
        size = int(np.prod(shape))
        i = np.arange(offset, offset + size, dtype=np.int64)
        params[name] = (((37 * i) % 129 - 64) / 64.0).astype(np.float32).reshape(shape)
        offset += size
    return {"model_file/v1_tiny.semb": ref.model_file_bytes(config, compact_tokenizer, params)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory and compare with the committed files")
    args = parser.parse_args()

    torch.set_num_threads(1)  # reproducible reductions
    tokenizer = TOKENIZER.read_bytes()
    compact = ref.identity_normalized_tokenizer(tokenizer)
    files = {}
    files.update(forward_fixtures(tokenizer))
    files.update(gradient_fixtures(compact))
    files.update(v1_fixture(compact))

    # Every model file must read back through the reference reader.
    for path, data in files.items():
        if path.endswith(".semb"):
            ref.load_model_bytes(data)

    status = 0
    for path, data in sorted(files.items()):
        target = ROOT / "tests/data" / path
        if args.check:
            same = target.exists() and target.read_bytes() == data
            print(f"{'ok  ' if same else 'DIFF'} {path}")
            status |= 0 if same else 1
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            print(f"wrote {path} ({len(data)} bytes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
