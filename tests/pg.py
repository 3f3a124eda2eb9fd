"""A real PostgreSQL + pgvector for tests, from the ``pgserver`` wheel (server binaries bundled).

``start`` returns None with a reason when the server cannot run here, so tests skip saying why.
``replica`` makes a streaming replica of a running server with ``pg_basebackup -R``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Server:
    handle: Any
    pgdata: Path
    extra: list[Any] = field(default_factory=list)
    workdir: Path | None = None  # removed on stop (a primary's folder, holding its replicas too)

    def url(self, database: str = "postgres") -> str:
        return str(self.handle.get_uri(database))

    def new_database(self) -> str:
        """A fresh, empty database on this server; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.handle.cleanup()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _workdir() -> Path:
    # the server may run as an unprivileged user (pgserver does so under root): the folder must be reachable
    path = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    path.chmod(0o755)
    return path


def start() -> tuple[Server | None, str]:
    """Start a server in a fresh folder: (server, "") or (None, why it could not start)."""
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return None, f"PostgreSQL test server unavailable: {exc.name} is not installed (pip install -e '.[dev]')"
    root = _workdir()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            handle = pgserver.get_server(root / "primary", cleanup_mode="stop")
    except Exception as exc:  # noqa: BLE001 - any failure to start means "skip, and say why"
        shutil.rmtree(root, ignore_errors=True)
        return None, f"PostgreSQL test server could not start: {type(exc).__name__}: {exc}"
    return Server(handle, root / "primary", workdir=root), ""


def replica(primary: Server, timeout: float = 30.0) -> Server:
    """A hot-standby streaming replica of ``primary`` (``pg_basebackup -R``), started and caught up."""
    import psycopg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver._commands import POSTGRES_BIN_PATH

    pgdata = primary.pgdata.parent / f"replica-{uuid.uuid4().hex[:6]}"
    pgdata.mkdir(mode=0o700)
    user = getattr(primary.handle, "system_user", None)
    if user:
        shutil.chown(pgdata, user)
    socket_dir = primary.url().rpartition("host=")[2]
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_basebackup"), "-D", str(pgdata), "-R", "-c", "fast", "-X", "stream",
                    "-h", socket_dir, "-U", "postgres"], check=True, capture_output=True, timeout=timeout,
                   **({"user": user} if user and os.geteuid() == 0 else {}))
    for name in (".s.PGSQL.5432.lock", "log", ".handle_pids.json", "postmaster.pid"):  # copied from the primary
        (pgdata / name).unlink(missing_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handle = pgserver.get_server(pgdata, cleanup_mode="stop")
    server = Server(handle, pgdata)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error), psycopg.connect(server.url(), autocommit=True) as conn:
            if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                return server
        time.sleep(0.1)
    raise RuntimeError("the replica did not come up")


def wait_replayed(primary_url: str, replica_url: str, timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    import psycopg

    with psycopg.connect(primary_url, autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
                return
            time.sleep(0.05)
    raise TimeoutError("the replica did not catch up")
