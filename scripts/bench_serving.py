"""Serving: the real server over loopback under a closed-loop load generator, against the floor.

The server is ``rag serve`` (one process) or ``uvicorn --factory rag.workers:app --workers N``
(several processes sharing the index on disk), started on 127.0.0.1 and stopped afterwards. The
load generator is ``wrk`` when installed (a Lua script cycles through the questions), otherwise
an asyncio HTTP/1.1 keep-alive client in a separate process. Every request is a POST to
``/v1/search`` with one of a fixed set of questions; non-2xx answers, timeouts and socket errors
count as errors. The floor is the bare query-embedding time, measured in this process with the
same embedder on the same questions, in the same run.

    python scripts/bench_serving.py --client PORT CONCURRENCY SECONDS BODIES.json   (internal)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import PYTHON, median, percentile, rss_mb, say  # noqa: E402

LUA = r"""
local bodies = {
%s
}
local threads = 0
function setup(thread)
  thread:set("offset", threads * 37)
  threads = threads + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i %% #bodies + 1
  return wrk.format("POST", "/v1/search", {["Content-Type"] = "application/json"}, bodies[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "errors": %%d}\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def bodies_for(questions: list[str], k: int = 5) -> list[str]:
    return [json.dumps({"query": q, "k": k}, ensure_ascii=False) for q in questions]


# -- the server ------------------------------------------------------------------------------------
def start_server(index_dir: Path, corpus_dir: Path, port: int, embedder: str, workers: int, log: Path,
                 cache_dir: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAG_EMBEDDER": embedder, "RAG_INDEX_DIR": str(index_dir), "RAG_CORPUS_DIR": str(corpus_dir),
           "RAG_PORT": str(port), "RAG_HOST": "127.0.0.1"}
    if cache_dir is not None:
        env["RAG_MODEL_CACHE_DIR"] = str(cache_dir)
    if workers == 1:
        cmd = [PYTHON, "-m", "rag", "serve", "--corpus", str(corpus_dir), "--index", str(index_dir),
               "--port", str(port)]
    else:
        cmd = [PYTHON, "-m", "uvicorn", "--factory", "rag.workers:app", "--workers", str(workers),
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_ready(port, proc, workers, log, offset)
    return proc


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except OSError as exc:
        return int(getattr(exc, "code", 0) or 0)


def _wait_ready(port: int, proc: subprocess.Popen[bytes], workers: int, log: Path, offset: int,
                timeout: float = 600.0) -> None:
    """Until every worker has logged that its index is loaded (``ready: index …``, one line each) and
    /readyz answers 200. A run of 200s alone could all come from the first worker while another loads."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} before it was ready")
        with log.open("rb") as fh:
            fh.seek(offset)
            loaded = fh.read().count(b"ready: index ")
        if loaded >= workers and _get(f"http://127.0.0.1:{port}/readyz") == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("the server was not ready in time")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (it started it), then SIGKILL if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _server_pids(proc: subprocess.Popen[bytes]) -> list[str]:
    pids = [str(proc.pid)]
    with contextlib.suppress(OSError):
        pids += Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return pids


def server_cpu_s(proc: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes."""
    total = 0
    for pid in _server_pids(proc):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def measured_load(proc: subprocess.Popen[bytes], port: int, bodies: list[str], concurrency: int, seconds: float,
                  work: Path, tool: str) -> dict[str, Any]:
    """One load run, with the server's CPU time per request (all its processes, all cores)."""
    before = server_cpu_s(proc)
    out = load(port, bodies, concurrency, seconds, work, tool)
    out["cpu_ms_per_req"] = round((server_cpu_s(proc) - before) * 1000.0 / max(out["requests"], 1), 3)
    return out


def batch_stats(port: int) -> dict[str, float]:
    """The server's query micro-batching counters from /metrics (empty when it does not batch)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("rag_query_batches", "rag_query_batch_items", "rag_query_batch_largest"):
            out[name.removeprefix("rag_query_")] = float(value)
    if out.get("batches"):
        out["mean"] = round(out.get("batch_items", 0.0) / out["batches"], 2)
    return out


def server_rss(proc: subprocess.Popen[bytes]) -> float:
    """RSS of the server and its worker processes, in MiB (shared pages counted once per process)."""
    pids = _server_pids(proc)
    return round(sum(rss_mb(p)["rss_mb"] for p in pids if rss_mb(p)["rss_mb"] == rss_mb(p)["rss_mb"]), 1)


# -- load generators -------------------------------------------------------------------------------
def load(port: int, bodies: list[str], concurrency: int, seconds: float, work: Path, tool: str) -> dict[str, Any]:
    if tool == "wrk":
        return _wrk(port, bodies, concurrency, seconds, work)
    path = work / "bodies.json"
    path.write_text(json.dumps(bodies))
    out = subprocess.run([PYTHON, __file__, "--client", str(port), str(concurrency), str(seconds), str(path)],
                         capture_output=True, text=True, check=True, timeout=seconds + 120)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _wrk(port: int, bodies: list[str], concurrency: int, seconds: float, work: Path) -> dict[str, Any]:
    script = work / "search.lua"
    script.write_text(LUA % ",\n".join(f"[==[{b}]==]" for b in bodies))
    threads = min(2, concurrency)
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}/v1/search"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON "):])
    secs = raw["duration_us"] / 1e6
    return {"requests": raw["requests"], "seconds": round(secs, 3), "rps": round(raw["requests"] / secs, 1),
            "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "errors": raw["errors"]}


async def _client(port: int, bodies: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        try:
            while time.perf_counter() < deadline:
                body = bodies[i % len(bodies)].encode()
                i += 1
                request = (f"POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                t0 = time.perf_counter()
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - t0) * 1000.0)
                if not head.startswith(b"HTTP/1.1 2"):
                    errors += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c * 37) for c in range(concurrency)))
    secs = time.perf_counter() - t0
    return {"requests": len(latencies), "seconds": round(secs, 3), "rps": round(len(latencies) / secs, 1),
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99), "errors": errors}


# -- the run ---------------------------------------------------------------------------------------
def floor_ms(embedder: Any, questions: list[str], passes: int = 3) -> float:
    """Median bare query-embedding time over the questions (warm)."""
    for q in questions[:5]:
        embedder.embed_query(q)
    times = []
    for _ in range(passes):
        for q in questions:
            t0 = time.perf_counter()
            embedder.embed_query(q)
            times.append((time.perf_counter() - t0) * 1000.0)
    return median(times)


def batched_floor_ms(embedder: Any, questions: list[str], batch: int = 16) -> float | None:
    """Median query-embedding time per query when ``batch`` queries are embedded in one call (one thread)."""
    query_embedder = getattr(embedder, "_query", None) or embedder
    embed_queries = getattr(query_embedder, "embed_queries", None)
    if embed_queries is None:
        return None
    times = []
    for start in range(0, len(questions) - batch + 1, batch):
        t0 = time.perf_counter()
        embed_queries(questions[start:start + batch])
        times.append((time.perf_counter() - t0) * 1000.0 / batch)
    return median(times)


def in_process_ms(retriever: Any, questions: list[str]) -> float:
    """Median ``Retriever.search`` time (embedding + retrieval, no HTTP), for the breakdown."""
    times = []
    for q in questions * 2:
        t0 = time.perf_counter()
        retriever.search(q, k=5)
        times.append((time.perf_counter() - t0) * 1000.0)
    return median(times)


def run(index_dir: Path, corpus_dir: Path, questions: list[str], embedder_name: str, work: Path, *,
        levels: tuple[int, ...] = (1, 4, 16), seconds: float = 8.0, repeats: int = 3, workers: tuple[int, ...] = (2,),
        port: int = 18765, cache_dir: Path | None = None) -> dict[str, Any]:
    from rag.config import load_settings
    from rag.embedding import get_embedder
    from rag.retrieval import Retriever
    from rag.store import load_index

    tool = "wrk" if _have_wrk() else "python"
    bodies = bodies_for(questions)
    settings = load_settings()  # RAG_QUERY_BATCH / RAG_QUERY_SLOTS as the server reads them
    embedder = get_embedder(embedder_name, cache_dir=cache_dir, query_batch=settings.query_batch,
                            query_slots=settings.query_slots)
    retriever = Retriever(load_index(index_dir, embedder), embedder)
    result: dict[str, Any] = {"tool": tool, "questions": len(questions), "seconds": seconds, "repeats": repeats,
                              "backend": getattr(embedder, "backend", type(embedder).__name__), "levels": []}
    log = work / "server.log"
    proc = start_server(index_dir, corpus_dir, port, embedder_name, 1, log, cache_dir)
    try:
        result["server_rss_mb"] = server_rss(proc)
        load(port, bodies, 4, min(2.0, seconds), work, tool)  # warm-up
        result["floor_ms"] = round(floor_ms(embedder, questions), 3)
        batched = batched_floor_ms(embedder, questions)
        if batched is not None:
            result["batched_floor_ms"] = round(batched, 3)
        result["in_process_ms"] = round(in_process_ms(retriever, questions), 3)
        say(f"serving: floor {result['floor_ms']} ms, in-process search {result['in_process_ms']} ms ({tool})")
        for c in levels:
            before = batch_stats(port)
            runs = [measured_load(proc, port, bodies, c, seconds, work, tool) for _ in range(repeats)]
            row = _summarise(c, runs)
            after = batch_stats(port)
            if after.get("batches", 0) > before.get("batches", 0):
                row["queries_per_batch"] = round((after["batch_items"] - before["batch_items"])
                                                 / (after["batches"] - before["batches"]), 2)
            result["levels"].append(row)
            say(f"serving: c={c}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, {row['rps']} req/s, "
                f"{row['errors']} errors")
        result["query_batches"] = batch_stats(port)
        result["floor_after_ms"] = round(floor_ms(embedder, questions, passes=1), 3)
        result["server_rss_after_mb"] = server_rss(proc)
    finally:
        stop_server(proc)
    result["workers"] = []
    top = max(levels)
    for n in workers:
        proc = start_server(index_dir, corpus_dir, port + n, embedder_name, n, log, cache_dir)
        try:
            load(port + n, bodies, 4, min(2.0, seconds), work, tool)
            row = _summarise(top, [measured_load(proc, port + n, bodies, top, seconds, work, tool)
                                   for _ in range(repeats)])
            row["workers"] = n
            row["server_rss_mb"] = server_rss(proc)
            result["workers"].append(row)
            say(f"serving: {n} workers, c={top}: {row['rps']} req/s, p50 {row['p50_ms']} ms")
        finally:
            stop_server(proc)
    return result


def _summarise(concurrency: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("p50_ms", "p95_ms", "p99_ms", "rps", "cpu_ms_per_req")
    return {"concurrency": concurrency,
            **{key: round(median([r[key] for r in runs]), 3) for key in keys if all(key in r for r in runs)},
            "errors": int(sum(r["errors"] for r in runs)), "requests": int(sum(r["requests"] for r in runs)),
            "runs": [{k: r[k] for k in ("p50_ms", "p99_ms", "rps", "errors", "cpu_ms_per_req") if k in r}
                     for r in runs]}


def _have_wrk() -> bool:
    if os.environ.get("RAG_BENCH_CLIENT") == "python":
        return False
    try:
        subprocess.run(["wrk", "--version"], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return True


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--client":
        _, _, port, conc, secs, path = sys.argv
        data = asyncio.run(_client(int(port), json.loads(Path(path).read_text()), int(conc), float(secs)))
        print(json.dumps(data))
        sys.exit(0)
    print(__doc__)
    sys.exit(2)
