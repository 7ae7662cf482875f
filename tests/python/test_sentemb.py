"""The Python module against the library and the `sentemb` binary.

ctest (python/CMakeLists.txt) sets PYTHONPATH to the built module, SENTEMB_BIN to
the `sentemb` binary and SENTEMB_TEST_DATA to tests/data.
"""
import json
import os
import subprocess
import threading

import numpy as np
import pytest

import sentemb

BIN = os.environ["SENTEMB_BIN"]
DATA = os.environ["SENTEMB_TEST_DATA"]
TOKENIZER = os.path.join(DATA, "tokenizer", "tiny.model")
CORPUS = os.path.join(DATA, "cli", "corpus.txt")
PAIRS = os.path.join(DATA, "train", "pairs.tsv")


def sentences():
    with open(CORPUS, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    """A random 2-layer width-32 model, made by `sentemb init`."""
    path = str(tmp_path_factory.mktemp("model") / "m.semb")
    subprocess.run([BIN, "init", "--tokenizer", TOKENIZER, "--out", path, "--layers", "2",
                    "--dim", "32", "--heads", "4", "--ffn-dim", "64", "--max-len", "16"],
                   check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def model(model_path):
    return sentemb.Model(model_path, threads=1)


def test_encode_shape_dtype_and_unit_rows(model):
    s = sentences()
    v = model.encode(s)
    assert isinstance(v, np.ndarray)
    assert v.shape == (len(s), 32) and v.dtype == np.float32
    assert v.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert model.encode([]).shape == (0, 32)
    one = model.encode(s[0])
    assert one.shape == (32,)
    np.testing.assert_array_equal(one, v[0])


def test_encode_equals_the_cli_npy(model_path, tmp_path):
    out = str(tmp_path / "v.npy")
    subprocess.run([BIN, "encode", "--model", model_path, "--input", CORPUS, "--output", out,
                    "--threads", "1"], check=True, capture_output=True)
    expected = np.load(out)
    got = sentemb.Model(model_path, threads=1).encode(sentences())
    np.testing.assert_array_equal(got, expected)


def test_batch_size_threads_and_normalize_options(model_path, model):
    s = sentences() * 5
    ref = model.encode(s)
    np.testing.assert_allclose(model.encode(s, batch_size=3), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sentemb.Model(model_path, threads=2).encode(s), ref,
                               rtol=1e-5, atol=1e-6)
    raw = model.encode(s, normalize=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), ref,
                               rtol=1e-5, atol=1e-6)
    # sentence-transformers' names
    alias = model.encode(s, batch_size=4, normalize_embeddings=False, convert_to_numpy=True,
                         show_progress_bar=False)
    np.testing.assert_allclose(alias, raw, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        model.encode(s, normalize=True, normalize_embeddings=False)
    with pytest.raises(ValueError):
        model.encode(s, batch_size=0)


def test_matryoshka_dim_is_truncated_and_renormalised(model):
    s = sentences()
    full = model.encode(s)
    for k in (32, 16, 1):
        part = model.encode(s, dim=k)
        assert part.shape == (len(s), k) and part.dtype == np.float32
        t = full[:, :k]
        np.testing.assert_allclose(part, t / np.linalg.norm(t, axis=1, keepdims=True),
                                   rtol=1e-5, atol=1e-6)
    raw = model.encode(s, normalize=False)
    np.testing.assert_allclose(model.encode(s, dim=8, normalize=False), raw[:, :8],
                               rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="33"):
        model.encode(s, dim=33)
    with pytest.raises(ValueError):
        model.encode(s, dim=0)
    # A call's width does not stick to the model: the next call is full width again.
    assert model.dim == 32
    np.testing.assert_array_equal(model.encode(s), full)


def test_concurrent_calls_from_python_threads(model):
    s = sentences() * 4
    ref = model.encode(s)
    results = [None] * 4

    def work(i):
        results[i] = model.encode(s)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, ref)


def test_similarity_tokenize_and_properties(model_path, model):
    s = sentences()
    v = model.encode(s)
    c = model.similarity(s[0], s[1])
    assert isinstance(c, float)
    assert c == pytest.approx(float(v[0] @ v[1]), abs=1e-5)
    many = model.similarity(s[:4], s[4:8])
    assert many.shape == (4,)
    np.testing.assert_allclose(many, np.sum(v[:4] * v[4:8], axis=1), atol=1e-5)
    with pytest.raises(ValueError):
        model.similarity(s[:2], s[:3])

    ids = model.tokenize(s[0])
    assert isinstance(ids, list) and ids[0] == 2 and all(isinstance(i, int) for i in ids)
    assert len(model.tokenize("word " * 100)) == model.max_len == 16
    assert model.dim == 32

    info = subprocess.run([BIN, "info", "--json", "--model", model_path], check=True,
                          capture_output=True, text=True).stdout
    assert model.config == json.loads(info)
    assert model.config["dim"] == 32 and model.config["layers"] == 2


def test_precisions(model_path, model):
    s = sentences()
    ref = model.encode(s)
    for precision in ("bf16", "int8"):
        try:
            m = sentemb.Model(model_path, precision=precision, threads=1)
        except sentemb.Error:  # a CPU without the instructions
            continue
        v = m.encode(s)
        assert v.shape == ref.shape
        assert np.min(np.sum(v * ref, axis=1)) > 0.9


def test_errors(model_path, tmp_path):
    with pytest.raises(OSError):
        sentemb.Model(str(tmp_path / "missing.semb"))
    with pytest.raises(ValueError, match="precision"):
        sentemb.Model(model_path, precision="fp64")
    with pytest.raises(ValueError):
        sentemb.Model(model_path, threads=-1)
    bad = tmp_path / "bad.semb"
    bad.write_bytes(b"not a model file at all" * 10)
    with pytest.raises(sentemb.Error) as e:
        sentemb.Model(str(bad))
    assert isinstance(e.value, RuntimeError)
    assert isinstance(e.value, sentemb.ModelFileError)
    assert issubclass(sentemb.InputError, sentemb.Error)
    assert issubclass(sentemb.NumericError, sentemb.Error)


def test_train_tiny_corpus(tmp_path):
    out = str(tmp_path / "trained.semb")
    seen = []
    result = sentemb.train(pairs=[PAIRS], tokenizer=TOKENIZER, layers=1, dim=32, heads=2,
                           ffn_dim=64, max_len=16, batch=8, max_steps=5, threads=1, out=out,
                           progress=seen.append)
    assert result["steps"] == 5 and result["stop_reason"] == "max-steps"
    assert np.isfinite(result["final_loss"]) and result["best_spearman"] is None
    assert [p["step"] for p in seen if p["eval_spearman"] is None] == [1, 2, 3, 4, 5]
    assert all(p["total_steps"] == 5 for p in seen)
    assert set(seen[0]) >= {"step", "total_steps", "loss", "pairs_per_second", "eval_spearman"}
    m = sentemb.Model(out, threads=1)
    assert m.dim == 32 and m.config["layers"] == 1
    assert m.encode(["a cat"]).shape == (1, 32)


def test_train_errors(tmp_path):
    out = str(tmp_path / "x.semb")
    with pytest.raises(ValueError, match="no_such_option"):
        sentemb.train(pairs=[PAIRS], out=out, no_such_option=1)
    with pytest.raises(ValueError, match="weights"):
        sentemb.train(pairs=[PAIRS], weights=[1, 2], tokenizer=TOKENIZER, out=out)
    with pytest.raises(OSError):
        sentemb.train(pairs=[str(tmp_path / "missing.tsv")], tokenizer=TOKENIZER, out=out,
                      max_steps=1)

    def fail(progress):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        sentemb.train(pairs=[PAIRS], tokenizer=TOKENIZER, layers=1, dim=32, heads=2, ffn_dim=64,
                      max_len=16, batch=8, max_steps=2, threads=1, out=out, progress=fail)
