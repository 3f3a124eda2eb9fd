"""Micro-batching of concurrent queries (rag.batching): a lone call runs at once, concurrent calls
share a batch, each caller gets its own row, errors reach every caller of the batch; the ONNX
embedder gives the same vectors batched as alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from rag.batching import MicroBatcher, length_groups

if TYPE_CHECKING:
    from rag.embedding import OnnxEmbedder


class Recorder:
    """A batch function that remembers its batches and can be held until released."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.hold = hold
        self.started = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.started.set()
        if self.hold is not None:
            assert self.hold.wait(30)
        return [x * 10 for x in items]


def test_a_lone_call_runs_at_once_as_a_batch_of_one() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8)
    t0 = time.perf_counter()
    assert [batcher(i) for i in range(3)] == [0, 10, 20]
    assert time.perf_counter() - t0 < 0.5
    assert run.batches == [[0], [1], [2]]
    assert batcher.stats.batches == 3 and batcher.stats.largest == 1


def behind_a_held_batch(max_batch: int, first: int, rest: Sequence[int]) -> tuple[Recorder, MicroBatcher[int],
                                                                                 list[int]]:
    """Calls ``first`` and holds its batch while ``rest`` arrive (one slot), then releases it.

    Returns the recorder, the batcher and every caller's result, ``first``'s first."""
    release = threading.Event()
    run = Recorder(release)
    batcher = MicroBatcher(run, max_batch=max_batch, slots=1)
    with ThreadPoolExecutor(len(rest) + 1) as pool:
        held = pool.submit(batcher, first)
        assert run.started.wait(30)  # the first batch is running (held)
        queued = [pool.submit(batcher, i) for i in rest]
        deadline = time.monotonic() + 30  # bounds a hang only: threads start slowly on a loaded machine
        while len(batcher._queue) < len(rest) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(batcher._queue) == len(rest)  # all of them wait behind the held batch
        release.set()
        return run, batcher, [f.result(30) for f in [held, *queued]]


def test_calls_that_arrive_while_a_batch_runs_share_the_next_one() -> None:
    run, batcher, results = behind_a_held_batch(8, 100, range(6))
    assert results == [1000, *(i * 10 for i in range(6))]  # each caller gets its own row
    assert run.batches[0] == [100]
    assert sorted(run.batches[1]) == list(range(6)) and len(run.batches) == 2
    assert batcher.stats.largest == 6 and batcher.stats.items == 7


def test_batches_are_capped_at_max_batch() -> None:
    run, _, results = behind_a_held_batch(3, -1, range(7))
    assert results == [-10, *(i * 10 for i in range(7))]
    assert max(len(b) for b in run.batches) == 3
    assert sorted(x for b in run.batches[1:] for x in b) == list(range(7))


def test_an_error_reaches_every_caller_of_its_batch_and_the_batcher_goes_on() -> None:
    calls = []

    def run(items: list[str]) -> list[str]:
        calls.append(items)
        if "bad" in items:
            raise ValueError("boom")
        return [s.upper() for s in items]

    batcher = MicroBatcher(run)
    with pytest.raises(ValueError, match="boom"):
        batcher("bad")
    assert batcher("good") == "GOOD"
    with pytest.raises(RuntimeError, match="gave 0 results"):
        MicroBatcher(lambda items: [])("x")
    with pytest.raises(ValueError):
        MicroBatcher(run, max_batch=0)


def test_many_threads_get_their_own_results_under_contention() -> None:
    batcher = MicroBatcher(lambda items: [x * x for x in items], max_batch=4, slots=2)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(batcher, range(500)))
    assert results == [x * x for x in range(500)]
    assert batcher.stats.items == 500 and batcher.stats.largest <= 4


def tiny_onnx(folder: Path, **options: Any) -> OnnxEmbedder:
    """The ONNX embedder on the tiny hand-made graph of tests/test_onnx.py (skips without ONNX Runtime)."""
    pytest.importorskip("onnxruntime")
    from rag import onnx_export
    from rag.embedding import OnnxEmbedder
    from tests.test_onnx import tiny_graph

    table = tiny_graph(folder / "tiny.onnx")
    embedder = OnnxEmbedder(folder / "tiny.onnx", onnx_export.model_dir(), **options)
    embedder.dim = table.shape[1]
    return embedder


def test_onnx_queries_batched_equal_queries_alone(tmp_path: Path) -> None:
    embedder = tiny_onnx(tmp_path, max_query_batch=8)
    texts = ["Who killed Lyushkov?", "a", "When did the Normans conquer England, and who led them?", "tea " * 40]
    alone = np.stack([embedder.embed_queries([t])[0] for t in texts])
    np.testing.assert_array_equal(embedder.embed_queries(texts), alone)
    with ThreadPoolExecutor(8) as pool:
        together = np.stack(list(pool.map(embedder.embed_query, texts * 25)))
    np.testing.assert_array_equal(together, np.tile(alone, (25, 1)))
    assert embedder.queries.stats.items == 100


@pytest.mark.parametrize("name", ["auto", "onnx"])
def test_query_batch_settings_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        name: str) -> None:
    """RAG_QUERY_BATCH / RAG_QUERY_SLOTS → Settings → rag.service.embedder_for → the ONNX query batcher."""
    pytest.importorskip("onnxruntime")
    from rag import onnx_export
    from rag.config import Settings, load_settings
    from rag.embedding import QUERY_BATCH, QUERY_SLOTS, query_batch_stats
    from rag.errors import ConfigError
    from rag.service import embedder_for
    from tests.test_onnx import tiny_graph

    defaults = Settings.model_fields
    assert (defaults["query_batch"].default, defaults["query_slots"].default) == (QUERY_BATCH, QUERY_SLOTS)
    tiny_graph(tmp_path / "tiny.onnx")
    report = {"onnx_query_ms": 1.0, "torch_query_ms": 2.0, "onnx_batch_per_s": 2.0, "torch_batch_per_s": 1.0}
    monkeypatch.setattr(onnx_export, "ensure", lambda *_a, **_k: (tmp_path / "tiny.onnx", report))  # no export
    monkeypatch.setenv("RAG_EMBEDDER", name)
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(tmp_path))  # this test's own shared embedders
    monkeypatch.setenv("RAG_QUERY_BATCH", "3")
    monkeypatch.setenv("RAG_QUERY_SLOTS", "2")

    def batcher(embedder: object) -> MicroBatcher[str]:
        embedder.embed_query("Who killed Lyushkov?")  # type: ignore[attr-defined]  # resolves ``auto``
        return getattr(embedder, "_query", embedder).queries

    embedder = embedder_for(load_settings())
    queries = batcher(embedder)
    assert (queries.max_batch, queries.slots) == (3, 2)
    assert query_batch_stats(embedder) is queries.stats and queries.stats.items == 1
    monkeypatch.setenv("RAG_QUERY_BATCH", "4")
    assert embedder_for(load_settings()) is not embedder  # one shared embedder per batching configuration
    monkeypatch.setenv("RAG_QUERY_BATCH", "3")
    assert embedder_for(load_settings()) is embedder
    fake = embedder_for(Settings(embedder="fake", query_batch=3))  # no batcher: one per process, not per setting
    assert embedder_for(Settings(embedder="fake", query_batch=4, model_cache_dir=tmp_path / "other")) is fake
    given = batcher(embedder_for(Settings(query_batch=5, query_slots=4)))  # from Settings, not the process
    assert (given.max_batch, given.slots) == (5, 4)
    for variable, value in (("RAG_QUERY_BATCH", "zero"), ("RAG_QUERY_SLOTS", "0")):
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigError, match=variable):
            load_settings()
        monkeypatch.setenv(variable, "2")


@pytest.mark.slow
def test_real_model_batched_queries_are_bit_identical() -> None:
    pytest.importorskip("onnxruntime")
    from rag import onnx_export
    from rag.embedding import OnnxEmbedder

    path, _ = onnx_export.ensure(onnx_export.default_cache_dir())
    embedder = OnnxEmbedder(path, onnx_export.model_dir())
    texts = ["Who killed Lyushkov?", "What is the capital of Normandy?", "a", "",
             "When did the Normans conquer England, and who led them?", "Ünïcödé: 東京, Zürich, naïve café",
             "How many people lived in the city in the 19th century according to the census?"]
    alone = np.stack([embedder.embed_queries([t])[0] for t in texts])
    np.testing.assert_array_equal(embedder.embed_queries(texts), alone)
    with ThreadPoolExecutor(8) as pool:
        together = np.stack(list(pool.map(embedder.embed_query, texts * 6)))
    np.testing.assert_array_equal(together, np.tile(alone, (6, 1)))


def test_no_empty_batches_when_items_are_taken_by_other_slots() -> None:
    sizes: list[int] = []

    def run(items: list[int]) -> list[int]:
        sizes.append(len(items))
        time.sleep(0.002)
        return items

    batcher = MicroBatcher(run, max_batch=3, slots=2)
    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(batcher, range(300))) == list(range(300))
    assert min(sizes) >= 1 and sum(sizes) == 300 == batcher.stats.items
    assert batcher.stats.batches == len(sizes)


def test_search_threads_setting_sizes_the_query_pool_and_the_queue(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from rag.api.errors import ApiError
    from rag.api.state import SEARCH_THREADS, ServiceState
    from rag.config import Settings

    monkeypatch.delenv("RAG_SEARCH_THREADS", raising=False)
    assert Settings(index_dir=tmp_path / "index").search_threads == SEARCH_THREADS  # type: ignore[call-arg]
    monkeypatch.setenv("RAG_SEARCH_THREADS", "3")
    # request_timeout and the wait below outlast the test: a query that timed out or returned early
    # would free its place, and the shed query would be admitted
    state = ServiceState(Settings(index_dir=tmp_path / "index", max_pending=1, request_timeout=60))  # type: ignore[call-arg]
    release, lock = threading.Event(), threading.Lock()
    running, most = 0, 0

    def query() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(60)
        with lock:
            running -= 1

    async def main() -> tuple[int, Any]:
        admitted = [asyncio.create_task(state.run(query)) for _ in range(4)]  # 3 threads + 1 waiting
        try:
            deadline = time.monotonic() + 30
            while running < 3:
                assert time.monotonic() < deadline, f"{running} of 3 search threads started"
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # time for a fourth thread to start, were there one
            with pytest.raises(ApiError) as shed:  # max_pending + search_threads queries at once, no more
                async with asyncio.timeout(10):  # refused at once, not after waiting for a thread
                    await state.run(query)
            return shed.value.status, shed.value.details
        finally:
            release.set()
            await asyncio.gather(*admitted)
            await state.stop()

    assert asyncio.run(main()) == (503, {"pending": 4})
    assert most == 3


def test_batch_counters() -> None:
    from rag.embedding import FakeEmbedder, query_batch_stats

    assert query_batch_stats(FakeEmbedder()) is None

    class Holder:  # like AutoEmbedder once resolved: the query backend is ``_query``
        def __init__(self, batcher: MicroBatcher[int]) -> None:
            self._query = type("Backend", (), {"queries": batcher})()

    batcher = MicroBatcher(lambda items: items)
    batcher(1)
    stats = query_batch_stats(Holder(batcher))
    assert stats is not None and (stats.batches, stats.items, stats.mean) == (1, 1, 1.0)


def test_length_groups_pad_only_where_a_call_costs_more() -> None:
    lengths = [9, 30, 8, 9, 31, 8]
    groups = length_groups(lengths, call_cost=32)
    assert sorted(i for g in groups for i in g.tolist()) == list(range(6))  # every row once
    assert [sorted(lengths[i] for i in g) for g in groups] == [[8, 8, 9, 9], [30, 31]]
    assert len(length_groups(lengths, call_cost=10_000)) == 1  # calls dear: one padded batch
    assert [len(g) for g in length_groups(lengths, call_cost=0)] == [2, 2, 1, 1]  # calls free: no padding at all
    assert length_groups([]) == [] and [g.tolist() for g in length_groups([7])] == [[0]]


def test_documents_sorted_by_token_length_in_windows_keep_their_order(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import embedding

    embedder = tiny_onnx(tmp_path, batch_size=2)
    texts = ["x " * 50, "short", "Zürich 1848 naïve", "", "a b c d e f", "tea " * 300, "one two"]
    alone = np.stack([embedder.embed_queries([t])[0] for t in texts])
    monkeypatch.setattr(embedding, "DOCUMENT_WINDOW", 3)
    np.testing.assert_array_equal(embedder.embed_documents(texts), alone)
