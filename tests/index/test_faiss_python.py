"""faiss's own Python bindings (Debian's python3-faiss) load an index written by
`sentemb index build` as is, and their search returns the rows that
`sentemb search --index` prints.

    test_faiss_python.py SENTEMB_BINARY TEST_DATA_DIR

Prints SENTEMB_TEST_SKIPPED (ctest counts the test skipped) without python3-faiss.
"""
import os
import subprocess
import sys
import tempfile

try:
    import faiss
    import numpy as np
except ImportError as e:
    print(f"SENTEMB_TEST_SKIPPED: python3-faiss or numpy is not installed ({e})")
    sys.exit(0)

sentemb, data = sys.argv[1], sys.argv[2]


def run(*args, stdin=None):
    r = subprocess.run([sentemb, *args], input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"sentemb {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "m.semb")
    run("init", "--tokenizer", f"{data}/tokenizer/tiny.model", "--layers", "1", "--dim", "32",
        "--heads", "2", "--ffn-dim", "64", "--max-len", "16", "--out", model)
    # Distinct lines, so that a printed line names one row.
    lines = []
    with open(f"{data}/train/pairs.tsv", encoding="utf-8") as f:
        for row in f:
            for s in row.rstrip("\n").split("\t")[:2]:
                if s not in lines:
                    lines.append(s)
    corpus = os.path.join(tmp, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in lines))
    queries = ["a child is sleeping", "the dog runs in the park", "a woman plays a guitar"]
    qfile = os.path.join(tmp, "queries.txt")
    with open(qfile, "w", encoding="utf-8") as f:
        f.write("".join(q + "\n" for q in queries))
    qvec = os.path.join(tmp, "queries.npy")
    run("encode", "--model", model, "--input", qfile, "--output", qvec, "--threads", "1")
    q = np.load(qvec)
    q /= np.linalg.norm(q, axis=1, keepdims=True)

    checked = 0
    for kind in ["flat", "hnsw", "ivf"]:
        index_path = os.path.join(tmp, f"{kind}.index")
        run("index", "build", "--model", model, "--corpus", corpus, "--out", index_path,
            "--kind", kind, "--ivf-lists", "8", "--threads", "1")
        index = faiss.read_index(index_path)
        assert index.ntotal == len(lines), (kind, index.ntotal, len(lines))
        assert index.d == 32 and index.metric_type == faiss.METRIC_INNER_PRODUCT, kind
        D, I = index.search(q, 5)
        out = run("search", "--model", model, "--corpus", corpus, "--index", index_path, "-k",
                  "5", "--threads", "1", stdin="".join(x + "\n" for x in queries))
        blocks = out.rstrip("\n").split("\n\n")
        assert len(blocks) == len(queries), (kind, out)
        for qi, block in enumerate(blocks):
            hits = [line.split("\t", 1) for line in block.split("\n")]
            ids = [lines.index(text) for _, text in hits]
            scores = [float(score) for score, _ in hits]
            # Same rows; equal scores may come in another order.
            assert sorted(ids) == sorted(I[qi].tolist()), (kind, qi, ids, I[qi])
            assert np.allclose(scores, D[qi], atol=1e-4), (kind, qi, scores, D[qi])
            checked += 1
    print(f"faiss {faiss.__version__} loaded 3 indexes; {checked} query results match")
