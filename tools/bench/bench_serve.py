#!/usr/bin/env python3
"""Throughput and latency of `sentemb serve` on loopback against offline `sentemb encode`.

    tools/bench/bench_serve.py --sentemb build/sentemb --model ref.semb \
        --sentences ../shared/data/eval/stsb_dev.tsv [--threads 2] [--seconds 8]

Sentences: the text columns of a TAB-separated file (or every line of a plain one).
For 1, 8 and 64 concurrent clients sending 1 and 16 sentences per request, each cell runs for --seconds or
--max-requests, whichever ends first, and reports sentences/s and p50/p99 request
latency. The clients are the C++ load generator given with --load
(build/tools/bench/sentemb_serve_load: a thread and a keep-alive connection each),
or else Python threads with urllib (a connection per request; on a 2-core machine
these take CPU from the server they measure). The offline baseline encodes the same sentences with `sentemb encode`
(model load subtracted: the time of encoding one sentence is taken off). Prints a
Markdown table.
"""
import argparse
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request


def load_sentences(path, limit):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            out.extend(c for c in (cols[1:] if len(cols) > 1 else cols) if c.strip())
            if len(out) >= limit:
                break
    return out[:limit]


def offline_rate(args, sentences, tmp):
    def run(lines):
        path = os.path.join(tmp, "in.txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        start = time.perf_counter()
        subprocess.run([args.sentemb, "encode", "--model", args.model, "--input", path, "--output",
                        os.path.join(tmp, "out.npy"), "--threads", str(args.threads)], check=True)
        return time.perf_counter() - start
    load = min(run(sentences[:1]) for _ in range(3))
    full = min(run(sentences) for _ in range(3))
    return len(sentences) / (full - load)


def post(port, sentences):
    body = json.dumps({"input": sentences}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/embeddings", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        json.loads(r.read())


def cell_load(load, port, path, clients, per_request, seconds, max_requests):
    out = subprocess.run([load, "--port", str(port), "--sentences", path, "--clients", str(clients),
                          "--per-request", str(per_request), "--seconds", str(seconds),
                          "--max-requests", str(max_requests)],
                         check=True, capture_output=True, text=True).stdout.split()
    n, rate, p50, p99 = int(out[0]), float(out[1]), float(out[2]), float(out[3])
    return rate, p50, p99, n


def cell(port, sentences, clients, per_request, seconds, max_requests):
    latencies, lock = [], threading.Lock()
    counter = [0]
    deadline = time.perf_counter() + seconds

    def client(i):
        k = i * 7919
        while time.perf_counter() < deadline:
            with lock:
                if counter[0] >= max_requests:
                    return
                counter[0] += 1
            batch = [sentences[(k + j) % len(sentences)] for j in range(per_request)]
            k += per_request
            t0 = time.perf_counter()
            post(port, batch)
            with lock:
                latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return len(latencies) * per_request / elapsed, pick(0.5), pick(0.99), len(latencies)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentemb", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--max-requests", type=int, default=4000)
    ap.add_argument("--load", help="the C++ load generator (sentemb_serve_load)")
    ap.add_argument("--serve-args", default="", help="extra `sentemb serve` options")
    args = ap.parse_args()
    sentences = load_sentences(args.sentences, 3000)
    with tempfile.TemporaryDirectory() as tmp:
        offline = offline_rate(args, sentences, tmp)
        sentences_path = os.path.join(tmp, "sentences.txt")
        with open(sentences_path, "w", encoding="utf-8") as f:
            f.write("\n".join(sentences) + "\n")
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([args.sentemb, "serve", "--model", args.model, "--port", "0",
                                   "--port-file", port_file, "--threads", str(args.threads),
                                   *args.serve_args.split()])
        try:
            while not os.path.exists(port_file):
                time.sleep(0.05)
            port = int(open(port_file).read())
            for _ in range(20):  # warm up the encoder's shapes
                post(port, sentences[:16])
            print(f"offline encode: {offline:.0f} sentences/s ({len(sentences)} sentences); "
                  f"clients: {'C++ keep-alive' if args.load else 'Python urllib'}\n")
            print("| clients | sentences/request | requests | sentences/s | vs offline | p50 ms | p99 ms |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            for clients in (1, 8, 64):
                for per_request in (1, 16):
                    if args.load:
                        rate, p50, p99, n = cell_load(args.load, port, sentences_path, clients,
                                                      per_request, args.seconds, args.max_requests)
                    else:
                        rate, p50, p99, n = cell(port, sentences, clients, per_request,
                                                 args.seconds, args.max_requests)
                    print(f"| {clients} | {per_request} | {n} | {rate:.0f} | {rate / offline:.0%} "
                          f"| {p50:.1f} | {p99:.1f} |", flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait()


main()
