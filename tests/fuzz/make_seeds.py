#!/usr/bin/env python3
"""Writes the generated seed inputs under tests/fuzz/corpus/ (committed; rerun
only to change them). Standard library only.

model_file/: tiny valid model files written from the format description in
src/tensor_file.h (independently of the C++ writer), truncated,
bit-flipped and otherwise broken variants, and the v1 fixture.
mapped_model/: the same for map_model, mostly version 2 (aligned, read in
place), broken around the alignment padding too, and version 1 files.
corpus_reader/: the reader test fixtures (tests/data/corpus) and a few mixed
bad inputs. tokenizer/: short texts, valid and invalid UTF-8.
vector_io/: small .npy files (v1.0/v2.0 headers, '<f4' and '<f8', the 1-D and
Fortran-order arrays the reader refuses) and .fvecs files, whole and truncated,
written from the NumPy format description and the fvecs layout in vector_io.h.
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
MASK = (1 << 64) - 1


def checksum(data: bytes) -> int:
    """FNV-1a-64 over little-endian u64 words, then the tail bytes one by one."""
    h = 0xCBF29CE484222325
    prime = 0x100000001B3
    n8 = len(data) // 8 * 8
    for (word,) in struct.iter_unpack("<Q", data[:n8]):
        h = ((h ^ word) * prime) & MASK
    for b in data[n8:]:
        h = ((h ^ b) * prime) & MASK
    return h


def tensor_file(header: str, blob: bytes, tensors, version=1) -> bytes:
    """Version 2 pads each tensor's data to a 64-byte file offset with zero bytes."""
    out = bytearray(b"SENTEMB\0")
    out += struct.pack("<I", version)
    hb = header.encode()
    out += struct.pack("<Q", len(hb)) + hb
    out += struct.pack("<Q", len(blob)) + blob
    out += struct.pack("<I", len(tensors))
    for name, shape, values in tensors:
        nb = name.encode()
        out += struct.pack("<I", len(nb)) + nb
        out += struct.pack("<II", 0, len(shape))
        for d in shape:
            out += struct.pack("<Q", d)
        out += struct.pack("<Q", 4 * len(values))
        if version >= 2:
            out += bytes(-len(out) % 64)
        out += struct.pack(f"<{len(values)}f", *values)
    out += struct.pack("<Q", checksum(bytes(out)))
    return bytes(out)


def specs(cfg):
    """Parameter tensors in arena order (src/parameters.cpp)."""
    V, T, C, F = cfg["vocab_size"], cfg["max_len"], cfg["dim"], cfg["ffn_dim"]
    out = [("tok_emb", [V, C]), ("pos_emb", [T, C])]
    for l in range(cfg["layers"]):
        p = f"blocks.{l}."
        out += [(p + "ln1.weight", [C]), (p + "ln1.bias", [C]),
                (p + "attn.qkv.weight", [C, 3 * C]), (p + "attn.qkv.bias", [3 * C]),
                (p + "attn.proj.weight", [C, C]), (p + "attn.proj.bias", [C]),
                (p + "ln2.weight", [C]), (p + "ln2.bias", [C]),
                (p + "ffn.fc1.weight", [C, F]), (p + "ffn.fc1.bias", [F]),
                (p + "ffn.fc2.weight", [F, C]), (p + "ffn.fc2.bias", [C])]
    return out + [("final_ln.weight", [C]), ("final_ln.bias", [C])]


def model(cfg, blob=b"x", extra=(), header=None, version=1):
    tensors = []
    i = 0
    for name, shape in specs(cfg):
        n = 1
        for d in shape:
            n *= d
        tensors.append((name, shape, [((i + k) % 7 - 3) / 4 for k in range(n)]))
        i += n
    tensors += list(extra)
    if header is None:
        header = json.dumps({"kind": "model", "config": cfg})
    return tensor_file(header, blob, tensors, version)


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def model_seeds():
    d = os.path.join(HERE, "corpus", "model_file")
    tiny = dict(vocab_size=4, max_len=2, layers=1, dim=2, heads=1, ffn_dim=1,
                pooling="mean", normalize=True, layernorm_eps=1e-5)
    good = model(tiny)
    write(d, "tiny_valid.semb", good)
    write(d, "two_layers_cls.semb",
          model(dict(tiny, layers=2, dim=4, heads=2, ffn_dim=3, pooling="cls", normalize=False)))
    write(d, "with_adam_tensor.semb", model(tiny, extra=[("adam.m.tok_emb", [4, 2], [0.0] * 8)]))
    write(d, "missing_tensor.semb",
          tensor_file(json.dumps({"kind": "model", "config": tiny}), b"x", []))
    write(d, "empty_blob.semb", model(tiny, blob=b""))
    write(d, "bad_config.semb", model(tiny, header=json.dumps({"kind": "model", "config": dict(tiny, heads=3)})))
    write(d, "not_json.semb", model(tiny, header="{\"kind\": \"model\", \"config\": "))
    write(d, "truncated_half.semb", good[: len(good) // 2])
    write(d, "truncated_checksum.semb", good[:-3])
    flipped = bytearray(good)
    flipped[40] ^= 0x10
    write(d, "flipped_byte.semb", bytes(flipped))
    write(d, "newer_version.semb", good[:8] + struct.pack("<I", 3) + good[12:])
    # Version 2 (what sentemb writes since session 9): tensor data 64-byte aligned.
    write(d, "tiny_valid_v2.semb", model(tiny, version=2))
    write(d, "two_layers_cls_v2.semb",
          model(dict(tiny, layers=2, dim=4, heads=2, ffn_dim=3, pooling="cls", normalize=False),
                version=2))
    write(d, "bad_magic.semb", b"SENTEMX\0" + good[8:])
    write(d, "zero_layernorm_eps.semb", model(dict(tiny, layernorm_eps=0.0)))
    shutil.copy(os.path.join(DATA, "model_file", "v1_tiny.semb"), os.path.join(d, "v1_tiny.semb"))


def mapped_model_seeds():
    """map_model reads version 2 files in place: valid ones, each way they can
    be broken around the alignment padding, and version 1 files (copied)."""
    d = os.path.join(HERE, "corpus", "mapped_model")
    tiny = dict(vocab_size=4, max_len=2, layers=1, dim=2, heads=1, ffn_dim=1,
                pooling="mean", normalize=True, layernorm_eps=1e-5)
    two = dict(tiny, layers=2, dim=4, heads=2, ffn_dim=3, pooling="cls", normalize=False)
    good = model(tiny, version=2)
    write(d, "tiny_valid_v2.semb", good)
    write(d, "two_layers_cls_v2.semb", model(two, version=2))
    write(d, "with_adam_and_ema_v2.semb",
          model(tiny, version=2, extra=[("adam.m.tok_emb", [4, 2], [0.0] * 8),
                                        ("ema.tok_emb", [4, 2], [0.5] * 8)]))
    write(d, "unexpected_tensor_v2.semb", model(tiny, version=2, extra=[("extra", [1], [1.0])]))
    write(d, "missing_tensor_v2.semb",
          tensor_file(json.dumps({"kind": "model", "config": tiny}), b"x", [], version=2))
    write(d, "wrong_shape_v2.semb",
          model(tiny, version=2, header=json.dumps({"kind": "model", "config": dict(tiny, dim=4, heads=2)})))
    write(d, "empty_blob_v2.semb", model(tiny, blob=b"", version=2))
    # The first tensor's 64-byte alignment padding starts right after its size field.
    first_pad = good.index(struct.pack("<Q", 4 * 8)) + 8
    write(d, "truncated_in_padding_v2.semb", good[: first_pad + 5])
    write(d, "truncated_in_data_v2.semb", good[: len(good) - 20])
    padded = bytearray(good[:-8])
    padded[first_pad + 1] = 0x7F
    write(d, "nonzero_padding_v2.semb", bytes(padded) + struct.pack("<Q", checksum(bytes(padded))))
    # A version 1 layout (no padding) labelled version 2: the padding is the data.
    v1 = model(tiny)
    relabeled = v1[:8] + struct.pack("<I", 2) + v1[12:-8]
    write(d, "v1_layout_labeled_v2.semb", relabeled + struct.pack("<Q", checksum(relabeled)))
    flipped = bytearray(good)
    flipped[first_pad + (-first_pad % 64) + 4] ^= 0x10  # in tok_emb's data
    write(d, "flipped_data_byte_v2.semb", bytes(flipped))
    # Version 1 files are read by copying.
    write(d, "tiny_valid_v1.semb", v1)
    shutil.copy(os.path.join(DATA, "model_file", "v1_tiny.semb"), os.path.join(d, "v1_tiny.semb"))


def text_seeds():
    d = os.path.join(HERE, "corpus", "corpus_reader")
    src = os.path.join(DATA, "corpus")
    os.makedirs(d, exist_ok=True)
    for name in sorted(os.listdir(src)):
        shutil.copy(os.path.join(src, name), os.path.join(d, name))
    write(d, "mixed_bad.tsv", b"ok\tfine\n\x00nul\tx\n\xff\xfe\tbad utf8\n 0.5 \ta\tb\n+1\tx\ty\n"
          b"1e40\tbig\tscore\nnan\ta\tb\n\t\t\n \t \n" + "\u00e9\u20ac\U0001f642\tmulti\tbyte\n".encode())
    write(d, "crlf_mixed.tsv", "a\tb\r\n\r\nc\td\re\n\xef\xbb\xbfbom\tlate\n")

    d = os.path.join(HERE, "corpus", "tokenizer")
    write(d, "ascii.txt", "The quick brown fox jumps over the lazy dog.")
    write(d, "unicode.txt", "caf\u00e9 na\u00efve \u20ac5 \u4e2d\u6587 \U0001f642 \u0928\u092e\u0938\u094d\u0924\u0947")
    write(d, "whitespace.txt", "  leading\ttabs\n\nnew\u00a0lines\u3000 ")
    write(d, "invalid_utf8.bin", b"ok \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82")
    write(d, "long_word.txt", "a" * 300 + " " + "xyz" * 50)
    write(d, "specials.txt", "<s> </s> <pad> <unk> \u2581 \u2047")
    write(d, "empty.txt", "")


def npy(shape, values, descr="<f4", fortran=False, version=1, pad_to=64):
    """A NumPy .npy file: magic, version, header length, the header dict padded
    with spaces to a multiple of `pad_to` bytes and ending in a newline, data."""
    dims = "".join(f"{d}, " for d in shape) if len(shape) == 1 else ", ".join(map(str, shape))
    shape_text = f"({dims.rstrip()})" if len(shape) != 1 else f"({shape[0]},)"
    dict_text = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    length_size = 2 if version == 1 else 4
    prefix = 6 + 2 + length_size
    total = (prefix + len(dict_text) + 1 + pad_to - 1) // pad_to * pad_to
    dict_bytes = (dict_text + " " * (total - prefix - len(dict_text) - 1) + "\n").encode()
    length = struct.pack("<H" if version == 1 else "<I", len(dict_bytes))
    fmt = "<%d%s" % (len(values), "d" if descr == "<f8" else "f")
    return b"\x93NUMPY" + bytes([version, 0]) + length + dict_bytes + struct.pack(fmt, *values)


def fvecs(rows):
    """Per vector: int32 width, then the floats."""
    return b"".join(struct.pack(f"<i{len(r)}f", len(r), *r) for r in rows)


def vector_seeds():
    d = os.path.join(HERE, "corpus", "vector_io")
    values = [(i % 5 - 2) / 4 for i in range(12)]
    good = npy((3, 4), values)
    write(d, "f4_3x4.npy", good)
    write(d, "f8_2x3.npy", npy((2, 3), values[:6], descr="<f8"))
    write(d, "v2_f4_2x2.npy", npy((2, 2), values[:4], version=2))
    write(d, "empty_0x4.npy", npy((0, 4), []))
    write(d, "special_values.npy", npy((1, 4), [float("nan"), float("inf"), -0.0, 1e-45]))
    write(d, "one_dim.npy", npy((5,), values[:5]))
    write(d, "three_dim.npy", npy((1, 2, 2), values[:4]))
    write(d, "fortran_order.npy", npy((2, 2), values[:4], fortran=True))
    write(d, "big_endian.npy", npy((2, 2), values[:4], descr=">f4"))
    write(d, "truncated_data.npy", good[:-5])
    write(d, "truncated_header.npy", good[:40])
    write(d, "huge_shape.npy", npy((2**62, 2**30), []))
    good = fvecs([values[:4], values[4:8], values[8:]])
    write(d, "3x4.fvecs", good)
    write(d, "1x1.fvecs", fvecs([[0.5]]))
    write(d, "empty.fvecs", b"")
    write(d, "mixed_widths.fvecs", fvecs([values[:4], values[:3]]))
    write(d, "zero_width.fvecs", struct.pack("<i", 0))
    write(d, "huge_width.fvecs", struct.pack("<if", 1 << 24, 1.0))
    write(d, "truncated_vector.fvecs", good[:-6])
    write(d, "truncated_width.fvecs", good + b"\x04\x00")


def regression_inputs():
    """Hand-made reproducers of bugs found while writing the fuzz targets (the
    fuzzer-found ones are committed as the fuzzer wrote them)."""
    d = os.path.join(HERE, "regressions", "model_file")
    # A ~200-byte file whose config (every field within ModelConfig::validate's
    # limits) makes the loader allocate parameter_count() floats (~376 GB)
    # before it looks for a single tensor.
    big = dict(vocab_size=1000000, max_len=4096, layers=64, dim=8192, heads=1, ffn_dim=65536)
    write(d, "huge_config_allocation.semb",
          tensor_file(json.dumps({"kind": "model", "config": big}), b"x", []))
    # A non-integer size in the config: json get<int>() casts 1e100 to int (UB).
    fl = dict(vocab_size=1e100, max_len=8, layers=1, dim=8, heads=1, ffn_dim=1)
    write(d, "config_float_vocab_size.semb",
          tensor_file(json.dumps({"kind": "model", "config": fl}), b"x", []))
    # "config" nested 100000 arrays deep: the loader re-serializes it with the
    # recursive json::dump(), which overflows the stack.
    depth = 100000
    write(d, "deeply_nested_config.semb",
          tensor_file('{"config":' + "[" * depth + "]" * depth + "}", b"x", []))


if __name__ == "__main__":
    model_seeds()
    mapped_model_seeds()
    text_seeds()
    vector_seeds()
    regression_inputs()
