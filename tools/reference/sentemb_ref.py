"""Independent PyTorch reference of the sentemb encoder, model file and losses.

Written from the specification, not from the C++ code, so that the golden
fixtures it produces (tests/data/golden/) check the C++ implementation rather
than restate it. Only tools/reference/make_fixtures.py needs it; the C++ tests
read the committed fixtures.

Run with Debian's /usr/bin/python3 (python3-torch 1.13 + numpy).

Conventions (same as the C++ side):
  * linear weights are stored (in, out): a layer computes y = x @ W + b;
  * ids: BOS (2) then piece ids, 1..max_len ids per sentence; a batch is padded
    with pad id 0 to T = the longest sentence;
  * shapes in comments: B batch, T tokens, C dim, NH heads, hd = C / NH, F ffn.
"""

import json
import math
import struct

import numpy as np
import torch

MAGIC = b"SENTEMB\0"
FORMAT_VERSION = 1
ALIGNMENT = 64  # tensor data alignment from format version 2 on
DTYPE_FLOAT32 = 0
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------
# Configuration and parameter layout


def make_config(vocab_size, max_len, layers, dim, heads, ffn_dim, pooling="mean",
                normalize=True, layernorm_eps=1e-5):
    """A model config as stored in the file header (JSON object)."""
    assert pooling in ("mean", "cls", "max")
    assert dim % heads == 0
    return {
        "vocab_size": int(vocab_size),
        "max_len": int(max_len),
        "layers": int(layers),
        "dim": int(dim),
        "heads": int(heads),
        "ffn_dim": int(ffn_dim),
        "pooling": pooling,
        "normalize": bool(normalize),
        # The C++ side keeps eps as a float; storing the float32 value makes the
        # JSON text identical to what the C++ writer produces.
        "layernorm_eps": float(np.float32(layernorm_eps)),
    }


def parameter_specs(config):
    """[(name, shape)] of every parameter tensor, in file (and arena) order."""
    V, T, C, F = config["vocab_size"], config["max_len"], config["dim"], config["ffn_dim"]
    specs = [("tok_emb", (V, C)), ("pos_emb", (T, C))]
    for l in range(config["layers"]):
        p = f"blocks.{l}."
        specs += [
            (p + "ln1.weight", (C,)),
            (p + "ln1.bias", (C,)),
            (p + "attn.qkv.weight", (C, 3 * C)),
            (p + "attn.qkv.bias", (3 * C,)),
            (p + "attn.proj.weight", (C, C)),
            (p + "attn.proj.bias", (C,)),
            (p + "ln2.weight", (C,)),
            (p + "ln2.bias", (C,)),
            (p + "ffn.fc1.weight", (C, F)),
            (p + "ffn.fc1.bias", (F,)),
            (p + "ffn.fc2.weight", (F, C)),
            (p + "ffn.fc2.bias", (C,)),
        ]
    specs += [("final_ln.weight", (C,)), ("final_ln.bias", (C,))]
    return specs


def random_parameters(config, seed, std=0.2):
    """{name: float32 ndarray}; every tensor N(0, std), LayerNorm weights 1 + N(0, std).

    Deliberately far larger than a training init (0.02) and with non-trivial
    LayerNorm affine parameters, so that a golden test is sensitive to every
    tensor and to every layout convention (transposes, head order, q/k/v order).
    """
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in parameter_specs(config):
        values = rng.standard_normal(shape) * std
        if name.endswith(".weight") and "ln" in name.split(".")[-2]:
            values = values + 1.0
        params[name] = values.astype(np.float32)
    return params


# ---------------------------------------------------------------------------
# The tensor file container (models, gradient fixtures)


def checksum(data: bytes) -> int:
    """FNV-1a-64 over the bytes read as little-endian u64 words, tail byte-wise."""
    h = FNV_OFFSET
    full = len(data) // 8 * 8
    for (word,) in struct.iter_unpack("<Q", data[:full]):
        h = ((h ^ word) * FNV_PRIME) & MASK64
    for byte in data[full:]:
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def dump_header(obj) -> bytes:
    """JSON exactly as nlohmann::json::dump() writes it: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def serialize_tensor_file(header: bytes, blob: bytes, tensors) -> bytes:
    """tensors: [(name, ndarray)], written as float32 in the given order."""
    out = bytearray()
    out += MAGIC
    out += struct.pack("<I", FORMAT_VERSION)
    out += struct.pack("<Q", len(header)) + header
    out += struct.pack("<Q", len(blob)) + blob
    out += struct.pack("<I", len(tensors))
    for name, array in tensors:
        array = np.ascontiguousarray(array, dtype="<f4")
        encoded = name.encode()
        out += struct.pack("<I", len(encoded)) + encoded
        out += struct.pack("<II", DTYPE_FLOAT32, array.ndim)
        for d in array.shape:
            out += struct.pack("<Q", d)
        out += struct.pack("<Q", array.nbytes)
        out += array.tobytes()
    out += struct.pack("<Q", checksum(bytes(out)))
    return bytes(out)


def parse_tensor_file(data: bytes):
    """(header JSON object, blob bytes, [(name, float32 ndarray)]); asserts validity."""
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise ValueError(f"truncated at offset {pos}: need {n} bytes")
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    if take(8) != MAGIC:
        raise ValueError("bad magic")
    (version,) = struct.unpack("<I", take(4))
    if version not in (1, 2):  # this module writes 1; sentemb writes 2 (aligned tensors)
        raise ValueError(f"unsupported version {version}")
    header = json.loads(take(struct.unpack("<Q", take(8))[0]))
    blob = take(struct.unpack("<Q", take(8))[0])
    (count,) = struct.unpack("<I", take(4))
    tensors = []
    for _ in range(count):
        name = take(struct.unpack("<I", take(4))[0]).decode()
        dtype, ndim = struct.unpack("<II", take(8))
        if dtype != DTYPE_FLOAT32:
            raise ValueError(f"{name}: dtype {dtype}")
        shape = struct.unpack(f"<{ndim}Q", take(8 * ndim))
        (nbytes,) = struct.unpack("<Q", take(8))
        if version >= 2 and any(take(-pos % ALIGNMENT)):
            raise ValueError(f"{name}: alignment bytes not zero")
        if nbytes != 4 * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{name}: size {nbytes} does not match shape {shape}")
        tensors.append((name, np.frombuffer(take(nbytes), dtype="<f4").reshape(shape).copy()))
    body = pos
    (stored,) = struct.unpack("<Q", take(8))
    if pos != len(data):
        raise ValueError("bytes after the checksum")
    if stored != checksum(data[:body]):
        raise ValueError("checksum mismatch")
    return header, blob, tensors


def model_file_bytes(config, tokenizer: bytes, params, header_extra=None) -> bytes:
    """A model file (or a gradient file when header_extra sets "kind")."""
    header = {"kind": "model", "config": config}
    header.update(header_extra or {})
    tensors = [(name, params[name]) for name, _ in parameter_specs(config)]
    for (name, shape), (_, array) in zip(parameter_specs(config), tensors):
        assert tuple(array.shape) == tuple(shape), (name, array.shape, shape)
    return serialize_tensor_file(dump_header(header), tokenizer, tensors)


def load_model_bytes(data: bytes):
    """(config, tokenizer bytes, {name: float32 ndarray}, header)."""
    header, blob, tensors = parse_tensor_file(data)
    config = header["config"]
    params = dict(tensors)
    for name, shape in parameter_specs(config):
        assert tuple(params[name].shape) == tuple(shape), name
    return config, blob, params, header


# ---------------------------------------------------------------------------
# The encoder forward


def layer_norm(x, weight, bias, eps):
    # Biased variance over the last dim, eps inside the square root.
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def to_torch(params, dtype=torch.float64, requires_grad=False):
    """{name: ndarray} -> {name: leaf tensor} in `dtype`."""
    return {name: torch.tensor(np.asarray(v, dtype=np.float64), dtype=dtype,
                               requires_grad=requires_grad)
            for name, v in params.items()}


def pad_batch(ids_list):
    """(ids (B, T) long padded with PAD_ID, valid (B, T) bool)."""
    B, T = len(ids_list), max(len(s) for s in ids_list)
    ids = torch.full((B, T), PAD_ID, dtype=torch.long)
    valid = torch.zeros((B, T), dtype=torch.bool)
    for b, sentence in enumerate(ids_list):
        ids[b, :len(sentence)] = torch.tensor(sentence, dtype=torch.long)
        valid[b, :len(sentence)] = True
    return ids, valid


def encode(P, config, ids_list):
    """Embeddings (B, C) of a padded batch; P: {name: tensor} (any float dtype)."""
    C, NH, eps = config["dim"], config["heads"], config["layernorm_eps"]
    hd = C // NH
    for s in ids_list:
        assert 1 <= len(s) <= config["max_len"], len(s)
        assert all(0 <= i < config["vocab_size"] for i in s)
    ids, valid = pad_batch(ids_list)
    B, T = ids.shape

    x = P["tok_emb"][ids] + P["pos_emb"][:T]  # (B, T, C)
    # Keys at padded positions get -inf before the softmax; every row keeps at
    # least key 0 (BOS), so no row is all -inf.
    key_mask = ~valid[:, None, None, :]  # (B, 1, 1, T)
    for l in range(config["layers"]):
        p = f"blocks.{l}."
        h = layer_norm(x, P[p + "ln1.weight"], P[p + "ln1.bias"], eps)  # (B, T, C)
        qkv = h @ P[p + "attn.qkv.weight"] + P[p + "attn.qkv.bias"]  # (B, T, 3C)
        q, k, v = qkv.split(C, dim=-1)  # each (B, T, C), head h = columns h*hd..(h+1)*hd
        q = q.reshape(B, T, NH, hd).transpose(1, 2)  # (B, NH, T, hd)
        k = k.reshape(B, T, NH, hd).transpose(1, 2)
        v = v.reshape(B, T, NH, hd).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)  # (B, NH, T, T)
        scores = scores.masked_fill(key_mask, float("-inf"))
        att = torch.softmax(scores, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C), head-major
        x = x + ctx @ P[p + "attn.proj.weight"] + P[p + "attn.proj.bias"]
        h2 = layer_norm(x, P[p + "ln2.weight"], P[p + "ln2.bias"], eps)
        f = gelu_erf(h2 @ P[p + "ffn.fc1.weight"] + P[p + "ffn.fc1.bias"])  # (B, T, F)
        x = x + f @ P[p + "ffn.fc2.weight"] + P[p + "ffn.fc2.bias"]
    x = layer_norm(x, P["final_ln.weight"], P["final_ln.bias"], eps)  # (B, T, C)

    m = valid[:, :, None].to(x.dtype)  # (B, T, 1)
    if config["pooling"] == "mean":
        e = (x * m).sum(dim=1) / m.sum(dim=1)
    elif config["pooling"] == "cls":
        e = x[:, 0, :]
    elif config["pooling"] == "max":
        e = x.masked_fill(~valid[:, :, None], float("-inf")).max(dim=1).values
    else:
        raise ValueError(config["pooling"])
    if config["normalize"]:
        e = e / e.norm(dim=-1, keepdim=True)
    return e  # (B, C)


# ---------------------------------------------------------------------------
# Losses on embeddings (B, D); each normalises its inputs itself


def cosine_matrix(x, y):
    """cos(x_i, y_j): (Bx, D), (By, D) -> (Bx, By)."""
    xn = x / x.norm(dim=-1, keepdim=True)
    yn = y / y.norm(dim=-1, keepdim=True)
    return xn @ yn.T


def cosine_rows(x, y):
    """cos(x_i, y_i): (B, D), (B, D) -> (B)."""
    return (x * y).sum(-1) / (x.norm(dim=-1) * y.norm(dim=-1))


def infonce(a, p, n=None, temperature=0.05, symmetric=False):
    """Multiple-negatives ranking loss.

    logits_ij = cos(a_i, c_j) / t over candidates c = [p_1..p_B] (+ [n_1..n_B]);
    loss_ab = mean_i CE(logits_i, target i). Symmetric: (loss_ab + loss_ba) / 2 with
    loss_ba = mean_j CE(cos(p_j, a_.) / t, target j) over the anchors only.
    """
    B = a.shape[0]
    candidates = p if n is None else torch.cat([p, n], dim=0)  # (M, D)
    target = torch.arange(B)
    loss_ab = torch.nn.functional.cross_entropy(cosine_matrix(a, candidates) / temperature,
                                                target)
    if not symmetric:
        return loss_ab
    loss_ba = torch.nn.functional.cross_entropy(cosine_matrix(p, a) / temperature, target)
    return (loss_ab + loss_ba) / 2


def triplet_cosine(a, p, n, margin=0.5):
    """mean_i max(0, d(a_i, p_i) - d(a_i, n_i) + margin), d = 1 - cos."""
    d_ap = 1 - cosine_rows(a, p)
    d_an = 1 - cosine_rows(a, n)
    return torch.clamp(d_ap - d_an + margin, min=0).mean()


# ---------------------------------------------------------------------------
# A compact copy of a SentencePiece model


def _read_varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _proto_fields(data):
    """[(field number, wire type, raw bytes of the whole field)] of a protobuf message."""
    fields, pos = [], 0
    while pos < len(data):
        start = pos
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _read_varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            pos += length
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        fields.append((number, wire, data[start:pos]))
    assert pos == len(data)
    return fields


def _payload(raw):
    """The payload of a length-delimited field's raw bytes."""
    _, pos = _read_varint(raw, 0)
    length, pos = _read_varint(raw, pos)
    return raw[pos:pos + length]


def identity_normalized_tokenizer(model_bytes: bytes) -> bytes:
    """The same SentencePiece model with its normalizer replaced by "identity".

    A .model file trained with nmt_nfkc embeds a ~240 KB precompiled character
    map (NormalizerSpec.precompiled_charsmap, field 2 of ModelProto field 3).
    Dropping it keeps every piece and id (same vocabulary) in a few KB; only text
    normalisation changes, which id-level fixtures never use.
    """
    out = bytearray()
    for number, wire, raw in _proto_fields(model_bytes):
        if number == 3 and wire == 2:  # ModelProto.normalizer_spec
            spec = bytearray()
            spec += b"\x0a" + _varint(len(b"identity")) + b"identity"  # name = "identity"
            for n, _, r in _proto_fields(_payload(raw)):
                if n not in (1, 2):  # drop the old name and precompiled_charsmap
                    spec += r
            out += b"\x1a" + _varint(len(spec)) + spec
        else:
            out += raw
    return bytes(out)
