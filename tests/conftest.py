"""Shared fixtures: tiny corpora written to tmp_path, indexes built with the fake embedder,
and the real model loaded once per session for slow tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = Path(os.environ.get("RAG_SHARED_EVAL", REPO.parent / "shared" / "eval"))

WIKI_DOC = """= Ada Lovelace =

Ada Lovelace
- Born: 1815
- Died: 1852-11-27

Augusta Ada King, Countess of Lovelace (1815 - 27 November 1852) was an English mathematician. She is known for her work on Charles Babbage's Analytical Engine.

==Early life==
Ada was born in London on 10 December 1815. Her father was the poet Lord Byron, who left England when she was an infant.

Her mother, Lady Byron, promoted Ada's interest in mathematics and logic.

== Work ==
In 1843 she translated an article by Luigi Menabrea about the Analytical Engine. She added notes that contain what many consider the first computer program, an algorithm for Bernoulli numbers.

==Death==
She died of uterine cancer on 27 November 1852, aged 36. She was buried beside her father at Hucknall.
"""

MD_DOC = """# Tea

Tea is an aromatic beverage prepared by pouring hot water over cured leaves of *Camellia sinensis*.

## History

Tea drinking may have begun in Yunnan during the Shang dynasty. It was popularised in England
in the 17th century by Catherine of Braganza.

## Preparation

Black tea is steeped in water near boiling point for three to five minutes. Green tea needs
cooler water, about 80 °C, or it turns bitter.
"""


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 30.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something true and return that; fail saying ``what`` did not
    happen within ``timeout`` seconds. For what a background thread or process does: a fixed sleep
    races with it on a loaded machine, a deadline only bounds a hang."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (waited {timeout:g} s)")
        time.sleep(interval)


def fastest(func: Callable[[], Any], tries: int = 3) -> float:
    """The best of a few timings, in seconds (the machine is shared: one slow run is noise, three are a
    blow-up); stops at the first run under half a second."""
    best = float("inf")
    for _ in range(tries):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
        if best < 0.5:
            break
    return best


def stop_process(proc: subprocess.Popen, timeout: float = 20.0) -> tuple[Any, Any]:
    """SIGTERM (a container runtime's stop: graceful), SIGKILL if it has not exited within ``timeout``;
    returns ``communicate()``'s (stdout, stderr)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def write_corpus(folder: Path, docs: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (docs or {"ada_lovelace.txt": WIKI_DOC, "tea.md": MD_DOC}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


ADMIN = "admin-key-0123456789abcdef"
READER = "read-key-0123456789abcdefgh"


def make_keyed_settings(tmp: Path, *, reload_interval: float, **overrides: Any) -> Settings:
    """The two-document corpus built with the fake embedder, with an admin key set."""
    from rag.service import build

    corpus = write_corpus(tmp / "corpus", {"ada_lovelace.txt": WIKI_DOC, "tea.md": MD_DOC})
    values: dict[str, Any] = {"embedder": "fake", "corpus_dir": corpus, "index_dir": tmp / "index",
                              "chunk_chars": 300, "admin_keys": ADMIN, "reload_interval": reload_interval,
                              **overrides}
    settings = Settings(**values)
    build(settings)
    return settings


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def fake_settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "index", chunk_chars=300)


@pytest.fixture
def built_settings(fake_settings: Settings) -> Settings:
    from rag.service import build

    build(fake_settings)
    return fake_settings


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - rag.retrieval.Retriever
    """A fake-embedder index of ``write_corpus``'s documents (300-character chunks), built once per test module."""
    from rag.service import Engine, build

    root = tmp_path_factory.mktemp("retriever")
    settings = Settings(embedder="fake", corpus_dir=write_corpus(root / "corpus"), index_dir=root / "index",
                        chunk_chars=300)
    build(settings)
    return Engine(settings).retriever


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session (slow tests only)."""
    from rag.embedding import get_embedder

    embedder = get_embedder("sentence-transformers")
    embedder.embed_query("warm up")
    return embedder


@pytest.fixture(scope="session")
def shared_eval() -> Path:
    if not SHARED_EVAL.is_dir():
        pytest.skip(f"development data not found at {SHARED_EVAL} (set RAG_SHARED_EVAL to its folder)")
    return SHARED_EVAL


# -- PostgreSQL (tests/pg.py): one real server per session, a fresh database per test -------------
@pytest.fixture(scope="session")
def pg_server():
    from tests import pg

    server, why = pg.start()
    if server is None:
        pytest.skip(why)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:  # noqa: ANN001
    return pg_server.new_database()


@pytest.fixture(autouse=True)
def _close_stores():
    """Stores (and their connection pools) live per process; each test starts with none open."""
    yield
    from rag.stores import close_stores

    close_stores()
