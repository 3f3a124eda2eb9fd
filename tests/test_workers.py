"""Workers started directly by uvicorn (``uvicorn --factory rag.workers:app``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def start_uvicorn(workers: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uvicorn", "--factory", "rag.workers:app", "--host", "127.0.0.1", "--port", "0",
         "--workers", str(workers)],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )


def test_bad_setting_stops_a_direct_uvicorn_start_with_one_line() -> None:
    proc = start_uvicorn(1, {"RAG_QUERY_BATCH": "abc"})
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    named = [line for line in proc.stderr.splitlines() if "RAG_QUERY_BATCH" in line]
    assert len(named) == 1 and "invalid settings" in named[0], proc.stderr


@pytest.mark.slow  # two worker processes: several seconds on two cores
def test_bad_setting_stops_uvicorn_workers_instead_of_restarting_them() -> None:
    # the supervisor stops when a worker fails to start (it restarts one that fails otherwise, for
    # ever); it exits 0 all the same: uvicorn does not pass a worker's failure on to the parent's status
    proc = start_uvicorn(2, {"RAG_QUERY_BATCH": "abc"})
    assert "Traceback" not in proc.stderr, proc.stderr
    named = [line for line in proc.stderr.splitlines() if "RAG_QUERY_BATCH" in line]
    assert len(named) == 2 and all("invalid settings" in line for line in named), proc.stderr
