"""`sentemb export` read back by independent readers (Debian's /usr/bin/python3).

  check_export.py safetensors SENTEMB MODEL.semb WORK_DIR
      the safetensors file parsed here with the standard library and numpy, every tensor
      compared with the model file's (parsed here too), the metadata and tokenizer files
  check_export.py onnx SENTEMB MODEL.semb WORK_DIR
      model.onnx loaded by python3-onnx: onnx.checker (full check, shape inference
      included), inputs, outputs and every initializer against the model file's tensors

  check_export.py tokenizer SENTEMB MODEL.semb WORK_DIR SENTENCES
      the exported tokenizer.model and sentemb_tokenizer.json in python3-sentencepiece:
      [bos_id] + the first max_length - 1 pieces' ids of each sentence must be the ids
      sentemb itself feeds the encoder (`sentemb tokenizer encode --max-len`)

Prints SENTEMB_TEST_SKIPPED (ctest: skipped) when python3-onnx or python3-sentencepiece
is missing. (Each mode imports one of them: each carries a protobuf of its own.)
"""

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np


def read_semb(path):
    """(header JSON, tokenizer bytes, {name: float32 array}) of a sentemb model file:
    magic, u32 version, u64-sized header and blob, u32 tensor count, then per tensor
    u32-sized name, u32 dtype (0: float32), u32 ndim, u64 dims, u64 bytes, (version 2:
    zero padding to a 64-byte offset), data."""
    data = Path(path).read_bytes()
    pos = 0

    def take(n):
        nonlocal pos
        chunk = data[pos:pos + n]
        assert len(chunk) == n, f"{path}: truncated at {pos}"
        pos += n
        return chunk

    assert take(8) == b"SENTEMB\0", f"{path}: not a sentemb model file"
    (version,) = struct.unpack("<I", take(4))
    header = json.loads(take(struct.unpack("<Q", take(8))[0]))
    blob = take(struct.unpack("<Q", take(8))[0])
    tensors = {}
    for _ in range(struct.unpack("<I", take(4))[0]):
        name = take(struct.unpack("<I", take(4))[0]).decode()
        dtype, ndim = struct.unpack("<II", take(8))
        assert dtype == 0, name
        shape = struct.unpack(f"<{ndim}Q", take(8 * ndim))
        (nbytes,) = struct.unpack("<Q", take(8))
        if version >= 2:
            take(-pos % 64)
        tensors[name] = np.frombuffer(take(nbytes), dtype="<f4").reshape(shape)
    return header, blob, tensors


def read_safetensors(path):
    """(header dict, data buffer) per the safetensors format."""
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + size]), data[8 + size:], size


def export(sentemb, model, fmt, out):
    subprocess.run([sentemb, "export", "--model", model, "--format", fmt, "--out", str(out)],
                   check=True)


def check_common(out, header, blob):
    config = header["config"]
    assert (out / "tokenizer.model").read_bytes() == blob, "tokenizer.model differs from the model's"
    tok = json.loads((out / "sentemb_tokenizer.json").read_text())
    assert tok["tokenizer_file"] == "tokenizer.model"
    assert (tok["bos_id"], tok["pad_id"], tok["add_bos"]) == (2, 0, True), tok
    assert tok["max_length"] == config["max_len"], tok
    assert tok["pooling"] == config["pooling"] and tok["normalize"] == config["normalize"], tok
    assert tok["dim"] == config["dim"] and tok["vocab_size"] == config["vocab_size"], tok


def check_safetensors(sentemb, model, work):
    header, blob, tensors = read_semb(model)
    out = work / "safetensors"
    export(sentemb, model, "safetensors", out)
    meta, buffer, header_size = read_safetensors(out / "model.safetensors")
    assert header_size % 8 == 0, f"header size {header_size}: the data is not 8-byte aligned"
    metadata = meta.pop("__metadata__")
    assert all(isinstance(v, str) for v in metadata.values()), "metadata values must be strings"
    assert json.loads(metadata["sentemb_config"]) == header["config"], metadata
    assert set(meta) == set(tensors), set(meta) ^ set(tensors)
    spans = sorted(tuple(entry["data_offsets"]) for entry in meta.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(buffer), "the tensors do not cover the data"
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "holes or overlaps between tensors"
    for name, entry in meta.items():
        assert entry["dtype"] == "F32", (name, entry)
        begin, end = entry["data_offsets"]
        array = np.frombuffer(buffer[begin:end], dtype="<f4").reshape(entry["shape"])
        assert array.shape == tensors[name].shape, (name, array.shape, tensors[name].shape)
        assert np.array_equal(array, tensors[name]), f"{name}: values differ"
    check_common(out, header, blob)
    print(f"safetensors: {len(meta)} tensors, {len(buffer)} bytes, equal to {model}")


def check_onnx(sentemb, model, work):
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        print("SENTEMB_TEST_SKIPPED: python3-onnx is not installed")
        return
    header, blob, tensors = read_semb(model)
    config = header["config"]
    out = work / "onnx"
    export(sentemb, model, "onnx", out)
    proto = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    opset = {o.domain: o.version for o in proto.opset_import}
    assert opset.get("", 0) >= 14, opset

    def signature(values):
        return [(v.name, v.type.tensor_type.elem_type,
                 [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
                for v in values]

    int64, float32 = onnx.TensorProto.INT64, onnx.TensorProto.FLOAT
    assert signature(proto.graph.input) == [
        ("input_ids", int64, ["batch", "sequence"]),
        ("attention_mask", int64, ["batch", "sequence"])], signature(proto.graph.input)
    assert signature(proto.graph.output) == [
        ("sentence_embedding", float32, ["batch", config["dim"]]),
        ("token_embeddings", float32, ["batch", "sequence", config["dim"]])], \
        signature(proto.graph.output)
    weights = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name, array in tensors.items():
        assert name in weights, f"{name} is not an initializer"
        assert weights[name].dtype == np.float32 and np.array_equal(weights[name], array), name
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(metadata["sentemb_config"]) == config
    check_common(out, header, blob)
    print(f"onnx: checker passed, opset {opset['']}, {len(proto.graph.node)} nodes, "
          f"{len(tensors)} weights equal to {model}")


def check_tokenizer(sentemb, model, work, sentences):
    try:
        import sentencepiece
    except ImportError:
        print("SENTEMB_TEST_SKIPPED: python3-sentencepiece is not installed")
        return
    out = work / "tokenizer"
    export(sentemb, model, "safetensors", out)
    config = json.loads((out / "sentemb_tokenizer.json").read_text())
    processor = sentencepiece.SentencePieceProcessor(model_file=str(out / config["tokenizer_file"]))
    text = Path(sentences).read_text(encoding="utf-8")
    theirs = [[config["bos_id"]] + processor.encode(line)[:config["max_length"] - 1]
              for line in text.splitlines()]
    ours = subprocess.run([sentemb, "tokenizer", "encode", "--model", str(out / "tokenizer.model"),
                           "--max-len", str(config["max_length"])], input=text, text=True,
                          capture_output=True, check=True).stdout.splitlines()
    ours = [[int(i) for i in line.split()] for line in ours]
    assert len(ours) == len(theirs) > 0, (len(ours), len(theirs))
    for number, (a, b) in enumerate(zip(ours, theirs), 1):
        assert a == b, f"{sentences}:{number}: sentemb {a} != sentencepiece {b}"
    truncated = sum(len(ids) == config["max_length"] for ids in ours)
    print(f"tokenizer: {len(ours)} sentences ({truncated} truncated) tokenized alike")


def main():
    mode, sentemb, model, work = sys.argv[1:5]
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    if mode == "tokenizer":
        check_tokenizer(sentemb, model, work, sys.argv[5])
        return
    {"safetensors": check_safetensors, "onnx": check_onnx}[mode](sentemb, model, work)


if __name__ == "__main__":
    main()
