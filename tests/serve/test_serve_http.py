#!/usr/bin/env python3
"""`sentemb serve` end to end with real clients (urllib, curl) on loopback.

    test_serve_http.py SENTEMB_BINARY TESTS_DATA_DIR

Starts servers on free ports (--port 0 --port-file), checks every endpoint against
`sentemb encode` / `sentemb info --json`, bad input, limits, auth, 64 concurrent
clients, a slow client, and SIGTERM with requests in flight. Exits non-zero on the
first failure.
"""
import base64
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SENTEMB, DATA = sys.argv[1], sys.argv[2]
MODEL = os.path.join(DATA, "golden", "tiny.semb")
TMP = tempfile.mkdtemp(prefix="sentemb_serve_")
SENTENCES = ["hello world", "the quick brown fox jumps over the lazy dog", "a",
             "in the beginning god created the heaven and the earth", "x y z",
             "and the earth was without form, and void", "let there be light"]
TOL = 1e-5
servers = []


def fail(message):
    for p in servers:
        if p.poll() is None:
            p.kill()
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit("FAIL: " + message)


def check(condition, message):
    if not condition:
        fail(message)


def start(*extra, env=None):
    port_file = os.path.join(TMP, f"port{len(servers)}")
    p = subprocess.Popen([SENTEMB, "serve", "--model", MODEL, "--port", "0", "--port-file",
                          port_file, "--threads", "1", *extra],
                         env=env, stderr=subprocess.PIPE, text=True)
    servers.append(p)
    deadline = time.time() + 120
    while not os.path.exists(port_file):
        if p.poll() is not None:
            fail(f"server exited {p.returncode}: {p.stderr.read()}")
        if time.time() > deadline:
            fail("server did not open its port")
        time.sleep(0.02)
    with open(port_file) as f:
        return p, int(f.read())


def call(port, path, body=None, headers=None, raw=None):
    """(status, parsed JSON or text) of one request; body: JSON value, raw: bytes."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text, kind = r.status, r.read().decode(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        status, text, kind = e.code, e.read().decode(), e.headers.get("Content-Type")
    return status, (json.loads(text) if kind and "json" in kind else text)


def expect_error(port, path, status, field, body=None, raw=None, headers=None):
    got, answer = call(port, path, body, headers, raw)
    check(got == status, f"{path} {body or raw!r:.60}: status {got}, expected {status}: {answer}")
    check(isinstance(answer, dict) and "message" in answer.get("error", {}) and
          "type" in answer["error"], f"no JSON error body: {answer}")
    check(field in answer["error"]["message"],
          f"error message {answer['error']['message']!r} does not name {field!r}")


def encode_offline(sentences):
    path = os.path.join(TMP, "sentences.txt")
    with open(path, "w") as f:
        f.write("\n".join(sentences) + "\n")
    out = subprocess.run([SENTEMB, "encode", "--model", MODEL, "--input", path, "--output", "-",
                          "--format", "tsv", "--threads", "1"],
                         capture_output=True, text=True, check=True).stdout
    return {s: [float(x) for x in line.split("\t")] for s, line in zip(sentences, out.splitlines())}


def close(a, b, what):
    check(len(a) == len(b), f"{what}: {len(a)} values, expected {len(b)}")
    worst = max(abs(x - y) for x, y in zip(a, b))
    check(worst <= TOL, f"{what}: differs from encode by {worst}")


def main():
    reference = encode_offline(SENTENCES)
    info = json.loads(subprocess.run([SENTEMB, "info", "--model", MODEL, "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    server, port = start("--max-inputs", "16", "--max-body-bytes", "4096", "--timeout", "1")

    status, health = call(port, "/health")
    check(status == 200 and health == {"status": "ok"}, f"/health: {status} {health}")
    status, got = call(port, "/info")
    check(status == 200 and got == info, f"/info {got} != info --json {info}")

    # Embeddings, float and base64, against offline encode.
    status, r = call(port, "/v1/embeddings", {"input": SENTENCES, "model": "tiny"})
    check(status == 200, f"embeddings: {status} {r}")
    check(r["object"] == "list" and r["model"] == "tiny" and len(r["data"]) == len(SENTENCES),
          f"embeddings shape: {r}")
    for i, (s, item) in enumerate(zip(SENTENCES, r["data"])):
        check(item["object"] == "embedding" and item["index"] == i, f"item {i}: {item}")
        close(item["embedding"], reference[s], f"embedding of {s!r}")
    check(r["usage"]["prompt_tokens"] == r["usage"]["total_tokens"] > len(SENTENCES),
          f"usage {r['usage']}")
    status, b = call(port, "/v1/embeddings", {"input": SENTENCES, "encoding_format": "base64"})
    for item, float_item in zip(b["data"], r["data"]):
        raw = base64.b64decode(item["embedding"])
        decoded = list(struct.unpack(f"<{len(raw) // 4}f", raw))
        check(decoded == float_item["embedding"], "base64 decodes to other values than float")
    status, one = call(port, "/v1/embeddings", {"input": SENTENCES[1]})
    check(status == 200 and len(one["data"]) == 1, f"single string: {one}")
    close(one["data"][0]["embedding"], reference[SENTENCES[1]], "single string")
    status, empty = call(port, "/v1/embeddings", {"input": ""})
    check(status == 200 and empty["usage"]["prompt_tokens"] == 1, f"empty string: {empty}")
    status, long = call(port, "/v1/embeddings", {"input": "word " * 200})
    check(status == 200 and long["usage"]["prompt_tokens"] == info["max_len"],
          f"overlong sentence: usage {long.get('usage')} (max_len {info['max_len']})")

    # Similarity: cosines of the offline vectors.
    pairs = [[SENTENCES[0], SENTENCES[1]], [SENTENCES[4], SENTENCES[6]]]
    status, sim = call(port, "/similarity", {"pairs": pairs})
    check(status == 200 and len(sim["scores"]) == 2, f"similarity: {status} {sim}")
    for (a, b_), score in zip(pairs, sim["scores"]):
        va, vb = reference[a], reference[b_]
        cos = sum(x * y for x, y in zip(va, vb)) / math.sqrt(sum(x * x for x in va) *
                                                             sum(y * y for y in vb))
        check(abs(cos - score) < 1e-5, f"similarity {score} != cosine {cos}")

    # Bad input and limits: 4xx with a JSON error naming the field.
    expect_error(port, "/v1/embeddings", 400, "JSON", raw=b'{"input": [')
    expect_error(port, "/v1/embeddings", 400, "'input'", {"input": 5})
    expect_error(port, "/v1/embeddings", 400, "'input'", {"input": []})
    expect_error(port, "/v1/embeddings", 400, "'input'", {"model": "m"})
    expect_error(port, "/v1/embeddings", 400, "'input[1]'", {"input": ["a", None]})
    expect_error(port, "/v1/embeddings", 400, "at most 16", {"input": ["a"] * 17})
    expect_error(port, "/v1/embeddings", 400, "UTF-8", raw=b'{"input": "caf\xc3"}')
    expect_error(port, "/v1/embeddings", 400, "'encoding_format'",
                 {"input": "a", "encoding_format": "hex"})
    expect_error(port, "/v1/embeddings", 400, "not trained for truncation",
                 {"input": "a", "dimensions": 8})
    expect_error(port, "/v1/embeddings", 400, "width", {"input": "a", "dimensions": 4096})
    expect_error(port, "/v1/embeddings", 413, "--max-body-bytes",
                 {"input": ["long sentence " * 40] * 10})
    expect_error(port, "/similarity", 400, "'pairs[0]'", {"pairs": [["only one"]]})
    expect_error(port, "/nowhere", 404, "no such endpoint")

    # curl, the other client.
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", f"http://127.0.0.1:{port}/v1/embeddings",
                          "-H", "Content-Type: application/json",
                          "-d", json.dumps({"input": ["hello world"]})],
                         capture_output=True, text=True, check=True).stdout
    body, code = out.rsplit("\n", 1)
    check(code == "200", f"curl: {code} {body}")
    close(json.loads(body)["data"][0]["embedding"], reference["hello world"], "curl embedding")
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-d", "not json",
                          f"http://127.0.0.1:{port}/v1/embeddings"],
                         capture_output=True, text=True, check=True).stdout
    body, code = out.rsplit("\n", 1)
    check(code == "400" and "error" in json.loads(body), f"curl bad body: {code} {body}")

    # 64 concurrent clients, each answered with its own sentences' vectors.
    results, errors = [None] * 64, []
    barrier = threading.Barrier(64)

    def client(i):
        try:
            mine = [SENTENCES[(i + k) % len(SENTENCES)] for k in range(1 + i % 3)]
            barrier.wait()
            status, r = call(port, "/v1/embeddings", {"input": mine})
            results[i] = (mine, status, r)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, f"concurrent clients failed: {errors[:3]}")
    for mine, status, r in results:
        check(status == 200, f"concurrent: {status} {r}")
        for s, item in zip(mine, r["data"]):
            close(item["embedding"], reference[s], f"concurrent embedding of {s!r}")

    # A slow client (half a request line) is dropped after the read timeout.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n")
        started = time.time()
        try:
            while sock.recv(4096):
                pass
        except socket.timeout:
            fail("a slow client kept its connection past the read timeout")
        check(time.time() - started < 8, "slow client dropped late")

    status, metrics = call(port, "/metrics")
    for name in ["sentemb_requests_total{endpoint=\"/v1/embeddings\"}", "sentemb_errors_total",
                 "sentemb_sentences_total", "sentemb_tokens_total",
                 "sentemb_request_duration_seconds_bucket", "sentemb_batch_sentences_bucket"]:
        check(name in metrics, f"/metrics lacks {name}")
    server.send_signal(signal.SIGTERM)
    check(server.wait(timeout=30) == 0, "server did not exit 0 on SIGTERM")

    # Authentication: the key from the environment; /health stays open.
    env = dict(os.environ, SENTEMB_API_KEY="sekret")
    server, port = start(env=env)
    expect_error(port, "/v1/embeddings", 401, "API key", {"input": "a"})
    expect_error(port, "/info", 401, "API key", headers={"Authorization": "Bearer wrong"})
    status, _ = call(port, "/v1/embeddings", {"input": "a"}, {"Authorization": "Bearer sekret"})
    check(status == 200, f"right key: {status}")
    check(call(port, "/health")[0] == 200, "/health needs no key")
    server.send_signal(signal.SIGINT)
    check(server.wait(timeout=30) == 0, "server did not exit 0 on SIGINT")

    # SIGTERM with requests in flight: the worker waits 300 ms to fill a batch, so
    # the requests are queued when the signal comes; each is still answered.
    server, port = start("--max-wait-ms", "300", "--batch-tokens", "100000")
    answers = []
    threads = [threading.Thread(target=lambda i=i: answers.append(
        call(port, "/v1/embeddings", {"input": [SENTENCES[i % len(SENTENCES)]]})))
        for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.15)
    server.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    check(server.wait(timeout=30) == 0, "server did not exit 0 after finishing in-flight requests")
    check(len(answers) == 8 and all(s == 200 for s, _ in answers),
          f"in-flight requests not all answered: {[s for s, _ in answers]}")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        fail("the port still accepts after shutdown")
    except OSError:
        pass

    shutil.rmtree(TMP, ignore_errors=True)
    print("serve end to end: all checks passed")


main()
