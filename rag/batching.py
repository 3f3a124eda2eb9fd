"""Dynamic micro-batching: single-text calls from concurrent threads coalesced into one batched call.

The first caller to find a free slot becomes the *leader*: it takes every text queued so far (up to
``max_batch``), runs them as one batch outside the lock, and hands each caller its own row. Callers
that arrive while all slots are busy wait, and are taken together by the next leader. Nothing ever
waits for a window to fill: a lone request runs at once, as a batch of one, so latency at
concurrency 1 is unchanged, and batches form exactly when requests would have queued anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")
CALL_COST_TOKENS = 32  # one more model call costs about as much as this many padded tokens (measured, 2 cores)


@dataclass
class _Pending(Generic[T]):
    item: T
    done: bool = False
    result: Any = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """How many batches ran, how many items they held, and the largest batch."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches had it

    @property
    def mean(self) -> float:
        return self.items / self.batches if self.batches else 0.0


class MicroBatcher(Generic[T]):
    """Calls ``run(items) -> rows`` with the items of concurrent ``__call__``s; each gets ``rows[i]``.

    ``slots`` batches may run at once (e.g. one per core, each on one thread). Thread-safe; an
    exception raised by ``run`` is raised in every caller whose item was in that batch.
    """

    def __init__(self, run: Callable[[list[T]], Any], max_batch: int = 16, slots: int = 1) -> None:
        if max_batch < 1 or slots < 1:
            raise ValueError("max_batch and slots must be at least 1")
        self._run = run
        self.max_batch = max_batch
        self.slots = slots
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Pending[T]] = []
        self._running = 0
        self.stats = BatchStats()

    def __call__(self, item: T) -> Any:
        pending: _Pending[T] = _Pending(item)
        cond = self._cond
        with cond:
            self._queue.append(pending)
            while not pending.done:
                if self._running >= self.slots or not self._queue:  # no slot, or our item is in a running batch
                    cond.wait()
                    continue
                batch = self._queue[: self.max_batch]
                del self._queue[: len(batch)]
                self._running += 1
                cond.release()
                try:
                    self._execute(batch)
                finally:
                    cond.acquire()
                    self._running -= 1
                    self._count(len(batch))
                    cond.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _execute(self, batch: list[_Pending[T]]) -> None:
        """Run one batch (lock not held) and mark its callers done."""
        try:
            rows = self._run([p.item for p in batch])
            if len(rows) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} items gave {len(rows)} results")
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            for p in batch:
                p.error, p.done = exc, True
        else:
            for p, row in zip(batch, rows, strict=True):
                p.result, p.done = row, True

    def _count(self, size: int) -> None:
        stats = self.stats
        stats.batches += 1
        stats.items += size
        stats.largest = max(stats.largest, size)
        stats.sizes[size] = stats.sizes.get(size, 0) + 1


def length_groups(lengths: Sequence[int] | np.ndarray, call_cost: float = CALL_COST_TOKENS) -> list[np.ndarray]:
    """Split a batch into runs of similar length, each to be padded only to its own longest item.

    Minimises ``sum(call_cost + size * longest)`` over the groups of the length-sorted items (exact,
    by dynamic programming; batches are small): a group of short questions is not padded to the
    longest question unless one call fewer is worth it. Returns arrays of row indices.
    """
    lengths = np.asarray(lengths)
    order = np.argsort(lengths, kind="stable")
    ordered = lengths[order].tolist()
    n = len(ordered)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        longest = ordered[end - 1]
        for start in range(end):
            cost = best[start] + call_cost + (end - start) * longest
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups = []
    end = n
    while end > 0:
        groups.append(order[cut[end]:end])
        end = cut[end]
    return groups[::-1]
