"""Soak: run the real server (``rag serve``, the real model) on a copy of a corpus on 127.0.0.1 and
keep it busy for a bounded time with a mix of search / ask / locate / context requests plus a
document write every 30 s. Samples the server's RSS and reports, per window, requests, errors and
latency percentiles. Passes when there are no errors and RSS after warm-up grows less than 10 %.

    scripts/soak --seconds 180 --clients 4 --out docs/soak-result.md
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

QUESTIONS = ["Who killed Lyushkov?", "When did Lyushkov defect to Japan?", "What was Lyushkov's rank in the NKVD?",
             "Where was Lyushkov born?", "Why did Lyushkov defect?", "What happened to Lyushkov's family?",
             "Which Japanese officer was Lyushkov's handler?", "Lyushkov Far East purge", "Takeoka 1945 Dairen",
             "What did Lyushkov tell the Japanese?"]
CLAIMS = ["Lyushkov was shot by Yutaka Takeoka in 1945.", "Lyushkov defected in June 1938."]
MIX = [("search", 7), ("ask", 1), ("locate", 1), ("context", 1)]
WARMUP_S = 30.0
WINDOW_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def request_for(i: int) -> tuple[str, dict[str, Any]]:
    kinds = [k for k, w in MIX for _ in range(w)]
    kind = kinds[i % len(kinds)]
    q = QUESTIONS[i % len(QUESTIONS)]
    if kind == "search":
        return "/v1/search", {"query": q, "k": 5, "mode": ("hybrid", "dense", "lexical")[i % 3]}
    if kind == "ask":
        return "/v1/ask", {"question": q}
    if kind == "locate":
        return "/v1/locate", {"claim": CLAIMS[i % len(CLAIMS)]}
    return "/v1/context", {"question": q, "max_chars": 2000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None, help="write the result (Markdown) here")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rag-soak-"))
    shutil.copytree(args.corpus, tmp / "corpus")
    port, key = free_port(), secrets.token_urlsafe(32)
    env = {**os.environ, "RAG_CORPUS_DIR": str(tmp / "corpus"), "RAG_INDEX_DIR": str(tmp / "index"),
           "RAG_HOST": "127.0.0.1", "RAG_PORT": str(port), "RAG_ADMIN_KEYS": key, "RAG_GC_GRACE_SECONDS": "0"}
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "rag", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    samples: list[tuple[float, float]] = []
    results: list[tuple[float, str, int, float]] = []  # (t, route, status, seconds)
    errors: list[str] = []
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 600
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"server did not become ready; see {tmp / 'server.log'}")
                time.sleep(0.5)
        t_start = time.monotonic()
        stop = threading.Event()

        def worker(n: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                i = n
                while not stop.is_set():
                    path, body = request_for(i)
                    i += args.clients
                    t0 = time.monotonic()
                    try:
                        status = client.post(path, json=body).status_code
                    except httpx.HTTPError as exc:
                        status = 0
                        errors.append(f"{path}: {type(exc).__name__}")
                    results.append((t0 - t_start, path, status, time.monotonic() - t0))
                    if status != 200:
                        errors.append(f"{path}: HTTP {status}")

        def writer() -> None:
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
                n = 0
                while not stop.wait(WINDOW_S):
                    n += 1
                    doc = {"doc_id": f"soak{n}", "title": f"Soak {n}", "text": f"Soak document number {n}."}
                    for method, path, want in (("POST", "/v1/documents", 201), ("DELETE", f"/v1/documents/soak{n}",
                                                                                 204)):
                        t0 = time.monotonic()
                        status = client.request(method, path, json=doc if method == "POST" else None).status_code
                        results.append((t0 - t_start, f"{method} /v1/documents", status, time.monotonic() - t0))
                        if status != want:
                            errors.append(f"{method} {path}: HTTP {status}")

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
        threads.append(threading.Thread(target=writer))
        for t in threads:
            t.start()
        while time.monotonic() - t_start < args.seconds:
            samples.append((time.monotonic() - t_start, rss_mb(server.pid)))
            time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(120)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    report = summarize(args, samples, results, errors)
    print(report)
    if args.out:
        args.out.write_text(report)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if not errors and report_ok(samples) else 1


def report_ok(samples: list[tuple[float, float]]) -> bool:
    return growth(samples) < 0.10


def growth(samples: list[tuple[float, float]]) -> float:
    after = [r for t, r in samples if t >= WARMUP_S]
    if len(after) < 10:
        return 0.0
    base = statistics.median(after[:5])
    return (statistics.median(after[-5:]) - base) / base


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000.0 if values else float("nan")


def summarize(args: argparse.Namespace, samples: list[tuple[float, float]],
              results: list[tuple[float, str, int, float]], errors: list[str]) -> str:
    queries = [r for r in results if r[1].startswith("/v1/")]
    lines = [f"clients: {args.clients}, duration: {args.seconds:.0f} s, requests: {len(results)} "
             f"({len(queries) / args.seconds:.1f}/s), errors: {len(errors)}",
             f"RSS: start {samples[0][1]:.0f} MB, after warm-up ({WARMUP_S:.0f} s) "
             f"{statistics.median([r for t, r in samples if t >= WARMUP_S][:5]):.0f} MB, end {samples[-1][1]:.0f} MB, "
             f"growth after warm-up {growth(samples) * 100:+.1f}%", "",
             "| window (s) | requests | errors | p50 ms | p95 ms | p99 ms | RSS MB |", "|---|---|---|---|---|---|---|"]
    t = 0.0
    while t < args.seconds:
        window = [r for r in queries if t <= r[0] < t + WINDOW_S]
        rss = [r for s, r in samples if t <= s < t + WINDOW_S]
        latencies = [r[3] for r in window]
        lines.append(f"| {t:.0f}-{t + WINDOW_S:.0f} | {len(window)} | {sum(r[2] != 200 for r in window)} | "
                     f"{pct(latencies, 0.5):.0f} | {pct(latencies, 0.95):.0f} | {pct(latencies, 0.99):.0f} | "
                     f"{max(rss) if rss else float('nan'):.0f} |")
        t += WINDOW_S
    by_route: dict[str, list[float]] = {}
    for r in results:
        by_route.setdefault(r[1], []).append(r[3])
    lines += ["", "| route | requests | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    lines += [f"| {route} | {len(v)} | {pct(v, 0.5):.0f} | {pct(v, 0.95):.0f} | {pct(v, 0.99):.0f} |"
              for route, v in sorted(by_route.items())]
    if errors:
        lines += ["", "errors (first 10): " + json.dumps(errors[:10])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
