"""Which generation of an index folder is current: the CURRENT pointer, its atomic switch, garbage collection."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from rag.errors import IndexError_


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def set_current(index_dir: Path, name: str) -> None:
    """Point ``index_dir/CURRENT`` at generation ``name`` with an fsynced atomic rename."""
    tmp = index_dir / f".CURRENT.{os.getpid()}.tmp"
    with tmp.open("w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / "CURRENT")
    fsync_dir(index_dir)


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    if not name or "/" in name or name.startswith("."):
        raise IndexError_(f"{pointer} is corrupted: run `rag build --index {index_dir}`")
    return index_dir / "generations" / name


def collect_garbage(index_dir: Path, keep: int = 3, grace_seconds: float = 0.0) -> list[str]:
    """Remove all but the newest ``keep`` generations, never the current one, nor one replaced
    less than ``grace_seconds`` ago (so recent citations still resolve); return the names removed."""
    generations = index_dir / "generations"
    if not generations.is_dir():
        return []
    current = current_generation(index_dir)
    names = sorted((p for p in generations.iterdir() if p.is_dir() and p.name[:1].isdigit()), key=lambda p: p.name)
    now = time.time()
    removed = []
    for old, successor in zip(names[:-keep], names[1:], strict=False):
        if current is not None and old.name == current.name:
            continue
        try:
            replaced_at = (successor / "manifest.json").stat().st_mtime
        except OSError:
            replaced_at = now
        if now - replaced_at < grace_seconds:
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed
