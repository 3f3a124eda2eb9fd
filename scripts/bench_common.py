"""Shared helpers of the benchmark scripts: the machine, percentiles, memory, timing."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed_ms(func: Callable[[], object], runs: int) -> list[float]:
    """Wall times of ``runs`` calls in milliseconds (after one untimed warm-up call)."""
    func()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process in MiB: total, peak, and its anonymous / file-backed parts.

    File-backed pages (memory-mapped index files) live in the page cache: shared between processes
    and reclaimable, unlike anonymous memory.
    """
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    nan = float("nan")
    return {"rss_mb": round(out.get("VmRSS", nan), 1), "peak_mb": round(out.get("VmHWM", nan), 1),
            "anon_mb": round(out.get("RssAnon", nan), 1), "file_mb": round(out.get("RssFile", nan), 1)}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _version(module: str) -> str:
    try:
        mod = __import__(module)
    except Exception:  # noqa: BLE001 - absent or broken: say so in the report
        return "absent"
    return str(getattr(mod, "__version__", "?"))


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return {
        "cpu": cpu, "cores": cores, "memory": mem, "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {m: _version(m) for m in ("numpy", "faiss", "onnxruntime", "torch", "fastapi", "uvicorn")},
        "wrk": _wrk_version(),
    }


def _wrk_version() -> str | None:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "wrk"


def dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def disk_mb(paths: Sequence[Path]) -> float:
    return round(sum(p.stat().st_size for p in paths if p.is_file()) / 1024 / 1024, 1)
