"""Checks `sentemb encode --quantize` output with numpy, the way its users read it.

Usage: check_quantized.py FLOATS.npy RANGES.npy INT8.npy UINT8.npy BINARY.npy UBINARY.npy

Each file is loaded with numpy.load; the dtypes and shapes must be what
sentence-transformers' quantize_embeddings returns, and the codes must equal its
formulas (sentence_transformers/quantization.py) applied to the float vectors
with the same ranges. Exits 0 and prints OK, or prints what differs and exits 1.
"""
import sys

import numpy as np


def main(floats, ranges, int8, uint8, binary, ubinary):
    emb = np.load(floats)
    ranges = np.load(ranges)
    assert emb.dtype == np.float32 and emb.ndim == 2, (emb.dtype, emb.shape)
    assert ranges.dtype == np.float32 and ranges.shape == (2, emb.shape[1]), ranges.shape
    n, d = emb.shape
    starts = ranges[0, :]
    steps = (ranges[1, :] - ranges[0, :]) / 255
    expected = {
        int8: ((emb - starts) / steps - 128).astype(np.int8),
        uint8: ((emb - starts) / steps).astype(np.uint8),
        binary: (np.packbits(emb > 0).reshape(n, -1) - 128).astype(np.int8),
        ubinary: np.packbits(emb > 0).reshape(n, -1),
    }
    shapes = {int8: (n, d), uint8: (n, d), binary: (n, d // 8), ubinary: (n, d // 8)}
    dtypes = {int8: np.int8, uint8: np.uint8, binary: np.int8, ubinary: np.uint8}
    for path, want in expected.items():
        got = np.load(path)
        if got.dtype != dtypes[path] or got.shape != shapes[path]:
            print(f"{path}: dtype {got.dtype} shape {got.shape}, expected "
                  f"{np.dtype(dtypes[path])} {shapes[path]}")
            return 1
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)[:5]
            print(f"{path}: {int((got != want).sum())} codes differ, e.g. at {bad.tolist()}: "
                  f"{[int(got[tuple(i)]) for i in bad]} vs {[int(want[tuple(i)]) for i in bad]}")
            return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
