"""The benchmark harness at tiny sizes (fake embedder): it runs end to end and writes a sane report.

The real benchmark (``scripts/bench --squad ...``, ~20 minutes) is not part of the test run.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, write_corpus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bench_smoke_writes_report_with_all_parts(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    port = _free_port()
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_run.py"), "--smoke", "--corpus", str(corpus),
                           "--out", str(out), "--work", str(tmp_path / "work"), "--port", str(port)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / "benchmarks.json").read_text())
    assert data["machine"]["cores"] >= 1 and len(data["load_before"]) == 3

    serving = data["serving"]
    assert [row["concurrency"] for row in serving["levels"]] == [1, 4]
    for row in [*serving["levels"], *serving["workers"]]:
        assert row["requests"] > 0 and row["errors"] == 0
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["cpu_ms_per_req"] > 0  # the server's own CPU time, read from /proc
    assert serving["floor_ms"] > 0 and serving["workers"][0]["workers"] == 2

    indexing = data["indexing"]
    assert indexing["chunks"] > 0 and indexing["build_chunks_per_s"] > 0 and indexing["raw_chunks_per_s"] > 0
    assert indexing["embedded"].startswith("sentences")  # chunk vectors are sentence means: only sentences embedded

    (row,) = data["scale"]["rows"]
    assert row["n"] == 3000 and row["params"]["type"] == "ivf"  # the smoke run lowers the flat limit
    assert row["recall_at_10"] >= 0.9 and row["params"]["nprobe"] >= 1
    assert row["disk_mb"] > 0 and row["rss_loaded_mb"] > 0

    report = (out / "benchmarks.md").read_text()
    for heading in ("## Machine", "## Targets", "## Serving", "### Several workers", "## Indexing", "## Scale"):
        assert heading in report
    assert "Server CPU time per request" in report and "CPU ms/req" in report
    if importlib.util.find_spec("matplotlib"):
        for name in ("benchmarks-serving.png", "benchmarks-scale.png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"]({name})" in report
    with socket.socket() as s:  # the servers were stopped
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_report_keeps_sections_other_scripts_maintain() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    import bench_report

    previous = ("# old report\n\n<!-- postgres:start -->\n## PostgreSQL\n| a |\n<!-- postgres:end -->\n\ntail\n"
                "<!-- other:start -->x<!-- other:end -->")
    kept = bench_report.kept_blocks(previous)
    assert kept == "<!-- postgres:start -->\n## PostgreSQL\n| a |\n<!-- postgres:end -->\n\n<!-- other:start -->x<!-- other:end -->"
    assert bench_report.kept_blocks("# nothing marked\n") == ""
