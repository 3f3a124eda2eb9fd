"""PostgreSQL + pgvector store: generations in tables, published in one transaction, read from replicas.

Each generation has its own ``rag_chunks_<n>`` and ``rag_sentences_<n>`` tables (offsets, section,
sentence ids and a ``vector`` column with an HNSW cosine index); documents, manifest and the BM25
arrays go to shared tables (rag.stores.pg_schema). Publishing writes all of it and moves
``rag_current`` in a single transaction, so a reader (on the primary or a streaming replica, which
replays whole transactions) sees the old generation or the new one, never a mix.

Lexical scoring stays BM25 computed in the application (bm25s arrays stored as blobs): PostgreSQL's
``ts_rank`` has no inverse document frequency, and the retriever's features (BM25, query-word
coverage, adjacent pairs) need the same tokens as the local store to rank identically.
Dense candidates come from the HNSW index; the retriever rescores them exactly in the application.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from rag import store as files
from rag.documents import Chunk, Document, Sentence
from rag.errors import IndexUnavailableError
from rag.lexical import LexicalIndex
from rag.stores import pg_schema

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import psycopg
    from psycopg_pool import ConnectionPool

    from rag.embedding import Embedder
    from rag.store import Generation, Index

HNSW = {"m": 16, "ef_construction": 64}
EF_SEARCH = 100  # at least the number of candidates asked for; measured in docs/benchmarks.md
WRITE_LOCK_KEY = 0x7261675F777269  # advisory lock of the one writer ("rag_wri")
_held = threading.local()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _tables(number: int) -> tuple[str, str]:
    return f"rag_chunks_{number}", f"rag_sentences_{number}"


def _unavailable(what: str, exc: Exception) -> IndexUnavailableError:
    return IndexUnavailableError(f"{what} failed ({type(exc).__name__}: {str(exc).strip()[:200]}): check that the "
                                 "database is up, or run `rag build`")


class PgVectorSearcher:
    """FAISS-like ``search(queries, n) -> (scores, ids)`` answered by a generation table's HNSW index."""

    def __init__(self, store: PostgresStore, pool: ConnectionPool, table: str, ntotal: int) -> None:
        self.store, self.pool, self.table, self.ntotal = store, pool, table, ntotal

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        from psycopg import Error, OperationalError, sql

        scores = np.full((len(queries), n), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), n), -1, dtype=np.int64)
        query = sql.SQL("SELECT pos, embedding <=> %s AS d FROM {} ORDER BY embedding <=> %s LIMIT %s").format(
            sql.Identifier(self.table))
        pools = [self.pool, *[p for p in self.store.read_pools() if p is not self.pool]]
        for attempt, pool in enumerate(pools):
            try:
                with pool.connection() as conn, conn.transaction():
                    if n > EF_SEARCH:  # every pooled session has EF_SEARCH already (configure): no round trip
                        conn.execute(f"SET LOCAL hnsw.ef_search = {min(n, 1000)}")
                    for qi, vector in enumerate(queries):
                        v = np.asarray(vector, dtype=np.float32)
                        rows = conn.execute(query, (v, v, n)).fetchall()
                        for j, (pos, distance) in enumerate(rows):
                            ids[qi, j], scores[qi, j] = pos, 1.0 - float(distance)
                return scores, ids
            except OperationalError as exc:  # a replica went away: the next one (the primary last)
                if attempt == len(pools) - 1:
                    raise _unavailable("vector search", exc) from exc
            except Error as exc:  # e.g. the generation was collected while this process still served it
                raise _unavailable(f"vector search in {self.table}", exc) from exc
        return scores, ids


class PostgresStore:
    """Writes to the primary; reads (loading, vector search) from the replicas when there are any."""

    kind = "postgresql"

    def __init__(self, url: str, replicas: tuple[str, ...] | list[str] = (), *, pool_size: int = 4,
                 connect_timeout: float = 10.0) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self.replica_urls = tuple(replicas)
        try:
            with psycopg.connect(url, connect_timeout=int(connect_timeout)) as conn:
                pg_schema.migrate(conn)
        except psycopg.Error as exc:
            raise _unavailable(f"connecting to {redact(url)}", exc) from exc

        def configure(conn: psycopg.Connection) -> None:
            from pgvector.psycopg import register_vector

            register_vector(conn)
            conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")  # for the session, so searches need no SET
            conn.commit()

        def pool(conninfo: str) -> ConnectionPool:
            return ConnectionPool(conninfo, min_size=1, max_size=pool_size, configure=configure, open=True,
                                  timeout=connect_timeout, kwargs={"connect_timeout": int(connect_timeout)},
                                  name=redact(conninfo))

        self.primary = pool(url)
        self.replicas = [pool(r) for r in self.replica_urls]
        self._next = itertools.count()

    # -- connections -------------------------------------------------------------------------
    def read_pools(self) -> list[ConnectionPool]:
        return [*self.replicas, self.primary]

    def _read_pool(self) -> ConnectionPool:
        if not self.replicas:
            return self.primary
        return self.replicas[next(self._next) % len(self.replicas)]

    def close(self) -> None:
        for pool in [self.primary, *self.replicas]:
            pool.close()

    def describe(self) -> str:
        text = redact(self.url)
        return text + (f" (+{len(self.replicas)} read replicas)" if self.replicas else "")

    # -- reading -----------------------------------------------------------------------------
    def _current(self, conn: psycopg.Connection) -> tuple[int, str, dict[str, Any]] | None:
        row = conn.execute("SELECT g.number, g.name, g.manifest FROM rag_current c "
                           "JOIN rag_generations g ON g.number = c.number").fetchone()
        return (int(row[0]), str(row[1]), dict(row[2])) if row else None

    def _read_current(self) -> tuple[int, str, dict[str, Any]] | None:
        import psycopg

        try:
            with self._read_pool().connection() as conn:
                return self._current(conn)
        except psycopg.Error as exc:
            raise _unavailable("reading the current generation", exc) from exc

    def current_name(self) -> str | None:
        found = self._read_current()
        return found[1] if found else None

    def read_manifest(self) -> dict[str, Any] | None:
        found = self._read_current()
        return found[2] if found else None

    def has_generation(self, name: str) -> bool:
        with self._read_pool().connection() as conn:
            return conn.execute("SELECT 1 FROM rag_generations WHERE name = %s", (name,)).fetchone() is not None

    def _documents(self, conn: psycopg.Connection, number: int, verify: bool) -> dict[str, Document]:
        rows = conn.execute("SELECT d.record, t.text, t.sha256 FROM rag_documents d JOIN rag_texts t "
                            "ON t.sha256 = d.text_sha256 WHERE d.generation = %s ORDER BY d.doc_id",
                            (number,)).fetchall()
        documents = {}
        for record, text, sha in rows:
            if verify and hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != sha:
                raise IndexUnavailableError(f"document {record['doc_id']} of generation {number} fails its "
                                            "checksum: run `rag build --force`")
            documents[record["doc_id"]] = files._document_from_row({**record, "text": text})
        return documents

    def load_documents(self, name: str) -> dict[str, Document]:
        with self._read_pool().connection() as conn, conn.transaction():
            row = conn.execute("SELECT number FROM rag_generations WHERE name = %s", (name,)).fetchone()
            if row is None:
                raise IndexUnavailableError(f"no generation {name!r} in {self.describe()}: it never existed or "
                                            "was collected")
            return self._documents(conn, int(row[0]), verify=True)

    def load(self, embedder: Embedder | None = None, *, verify: bool = True, fallback: bool = False) -> Index:
        import psycopg

        pool = self._read_pool()
        try:
            with pool.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot
                current = self._current(conn)
                if current is None:
                    raise IndexUnavailableError(f"no index in {self.describe()}: run `rag build`")
                try:
                    return self._load(conn, pool, *current, embedder, verify)
                except IndexUnavailableError as exc:
                    if not fallback:
                        raise
                    first_error = exc
                older = conn.execute("SELECT number, name, manifest FROM rag_generations WHERE number < %s "
                                     "ORDER BY number DESC", (current[0],)).fetchall()
                for number, name, manifest in older:
                    try:
                        index = self._load(conn, pool, int(number), str(name), dict(manifest), embedder, verify)
                    except IndexUnavailableError:
                        continue
                    index.warnings.append(f"generation {current[1]} was refused ({first_error}); serving {name}")
                    return index
                raise first_error
        except psycopg.Error as exc:
            raise _unavailable(f"loading the index from {self.describe()}", exc) from exc

    def _load(self, conn: psycopg.Connection, pool: ConnectionPool, number: int, name: str,
              manifest: dict[str, Any], embedder: Embedder | None, verify: bool) -> Index:
        from psycopg import sql

        if embedder is not None:
            files.check_compatible(manifest, embedder, Path(self.describe()))
        documents = self._documents(conn, number, verify)
        chunk_table, sentence_table = _tables(number)
        sentences = [Sentence(doc_id, start, end, documents[doc_id].text[start:end], kind)
                     for doc_id, start, end, kind in conn.execute(sql.SQL(
                         'SELECT doc_id, start, "end", kind FROM {} ORDER BY pos').format(
                         sql.Identifier(sentence_table)))]
        chunks = [Chunk(chunk_id, doc_id, start, end, documents[doc_id].text[start:end], tuple(section),
                        tuple(sentence_ids))
                  for chunk_id, doc_id, start, end, section, sentence_ids in conn.execute(sql.SQL(
                      'SELECT chunk_id, doc_id, start, "end", section, sentence_ids FROM {} ORDER BY pos').format(
                      sql.Identifier(chunk_table)))]
        dim = int((manifest.get("model") or {}).get("dim") or 0)
        chunk_vectors = _vectors(conn, chunk_table, len(chunks), dim)
        sentence_vectors = _vectors(conn, sentence_table, len(sentences), dim)
        counts = manifest.get("counts") or {}
        if len(chunks) != counts.get("chunks") or len(sentences) != counts.get("sentences"):
            raise IndexUnavailableError(f"generation {name} is inconsistent with its manifest: run `rag build --force`")
        lexical = self._lexical(conn, number, name, manifest, verify)
        return files.Index(
            path=Path("postgresql") / name,
            manifest=manifest,
            documents=documents,
            chunks=chunks,
            sentences=sentences,
            chunk_vectors=chunk_vectors,
            sentence_vectors=sentence_vectors,
            chunk_faiss=PgVectorSearcher(self, pool, chunk_table, len(chunks)),
            sentence_faiss=PgVectorSearcher(self, pool, sentence_table, len(sentences)),
            chunk_bm25=lexical["chunks"],
            sentence_bm25=lexical["sentences"],
        )

    def _lexical(self, conn: psycopg.Connection, number: int, name: str, manifest: dict[str, Any],
                 verify: bool) -> dict[str, LexicalIndex]:
        expected = manifest.get("files") or {}
        with tempfile.TemporaryDirectory(prefix="rag-bm25-") as tmp:
            for blob, sha, data in conn.execute("SELECT name, sha256, data FROM rag_blobs WHERE generation = %s",
                                                (number,)):
                data = bytes(data)
                if verify and (hashlib.sha256(data).hexdigest() != sha or expected.get(blob) != sha):
                    raise IndexUnavailableError(f"{blob} of generation {name} fails its checksum: "
                                                "run `rag build --force`")
                path = Path(tmp) / blob
                if not path.resolve().is_relative_to(Path(tmp).resolve()):
                    raise IndexUnavailableError(f"generation {name} has a bad blob name: run `rag build --force`")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            try:
                return {part: LexicalIndex.load(Path(tmp) / "bm25" / part) for part in ("chunks", "sentences")}
            except (OSError, ValueError, KeyError) as exc:
                raise IndexUnavailableError(f"the BM25 index of generation {name} cannot be read ({exc}): "
                                            "run `rag build --force`") from exc

    # -- writing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def write_lock(self, timeout: float | None = None) -> Iterator[None]:
        """A session advisory lock on the primary: one writer across all machines (re-entrant per thread)."""
        held: set[int] = getattr(_held, "stores", set())
        _held.stores = held
        if id(self) in held:
            yield
            return
        with self.primary.connection() as conn:
            conn.autocommit = True
            deadline = None if timeout is None else time.monotonic() + timeout
            while not pg_schema._scalar(conn, "SELECT pg_try_advisory_lock(%s)", (WRITE_LOCK_KEY,)):
                if deadline is not None and time.monotonic() >= deadline:
                    raise IndexUnavailableError("another writer holds the database's write lock: try again when it "
                                                "has finished")
                time.sleep(0.05)
            held.add(id(self))
            try:
                yield
            finally:
                held.discard(id(self))
                conn.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK_KEY,))
                conn.autocommit = False

    def publish(self, generation: Generation, *, progress: Callable[[str], None] | None = None,
                keep: int = 3, grace_seconds: float = 0.0) -> str:
        import psycopg

        say = progress or (lambda _msg: None)
        dim = int(generation.config["model"]["dim"])
        blobs = _lexical_blobs(generation)
        try:
            with self.primary.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY + 1,))  # numbers are unique
                number = int(str(pg_schema._scalar(conn, "SELECT coalesce(max(number), 0) + 1 FROM rag_generations")))
                name = generation.name(number)
                say(f"writing generation {name} to {self.describe()}")
                dense = {part: {"type": "hnsw", "metric": "cosine", **HNSW, "ef_search": EF_SEARCH}
                         for part in ("chunks", "sentences")}
                manifest = generation.manifest(name, dense=dense, store="postgresql")
                manifest["files"] = {blob: sha for blob, (sha, _) in sorted(blobs.items())}
                conn.execute("INSERT INTO rag_generations (number, name, manifest) VALUES (%s, %s, %s)",
                             (number, name, json.dumps(manifest)))
                self._write_documents(conn, number, generation)
                self._write_rows(conn, number, dim, generation, say)
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO rag_blobs (generation, name, sha256, data) VALUES (%s, %s, %s, %s)",
                                    [(number, blob, sha, data) for blob, (sha, data) in sorted(blobs.items())])
                conn.execute("UPDATE rag_generations SET replaced_at = now() WHERE number = "
                             "(SELECT number FROM rag_current)")
                conn.execute("INSERT INTO rag_current (singleton, number) VALUES (true, %s) "
                             "ON CONFLICT (singleton) DO UPDATE SET number = excluded.number", (number,))
        except psycopg.Error as exc:
            raise _unavailable(f"publishing to {self.describe()}", exc) from exc
        self.collect_garbage(keep, grace_seconds)
        say(f"built generation {name}: {len(generation.documents)} documents, {len(generation.chunks)} chunks, "
            f"{len(generation.sentences)} sentences")
        return name

    def _write_documents(self, conn: psycopg.Connection, number: int, generation: Generation) -> None:
        texts, rows = {}, []
        for doc in generation.documents:
            sha = hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).hexdigest()
            texts[sha] = doc.text
            record = files._document_row(doc)
            del record["text"]
            rows.append((number, doc.doc_id, sha, json.dumps(record, ensure_ascii=False)))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO rag_texts (sha256, text) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                            list(texts.items()))
            cur.executemany("INSERT INTO rag_documents (generation, doc_id, text_sha256, record) "
                            "VALUES (%s, %s, %s, %s)", rows)

    def _write_rows(self, conn: psycopg.Connection, number: int, dim: int, generation: Generation,
                    say: Callable[[str], None]) -> None:
        from psycopg import sql

        chunk_table, sentence_table = (sql.Identifier(t) for t in _tables(number))
        conn.execute(sql.SQL('CREATE TABLE {} (pos integer PRIMARY KEY, chunk_id text NOT NULL, doc_id text NOT NULL, '
                             'start integer NOT NULL, "end" integer NOT NULL, section text[] NOT NULL, '
                             'sentence_ids integer[] NOT NULL, embedding vector({}) NOT NULL)').format(
                             chunk_table, sql.Literal(dim)))
        conn.execute(sql.SQL('CREATE TABLE {} (pos integer PRIMARY KEY, doc_id text NOT NULL, start integer NOT NULL, '
                             '"end" integer NOT NULL, kind text NOT NULL, embedding vector({}) NOT NULL)').format(
                             sentence_table, sql.Literal(dim)))
        with conn.cursor() as cur:
            with cur.copy(sql.SQL('COPY {} (pos, chunk_id, doc_id, start, "end", section, sentence_ids, embedding) '
                                  "FROM STDIN WITH (FORMAT BINARY)").format(chunk_table)) as copy:
                copy.set_types(["integer", "text", "text", "integer", "integer", "text[]", "integer[]", "vector"])
                for pos, (c, v) in enumerate(zip(generation.chunks, generation.chunk_vectors, strict=True)):
                    copy.write_row((pos, c.chunk_id, c.doc_id, c.start, c.end, list(c.section),
                                    list(c.sentence_ids), np.asarray(v, dtype=np.float32)))
            with cur.copy(sql.SQL('COPY {} (pos, doc_id, start, "end", kind, embedding) '
                                  "FROM STDIN WITH (FORMAT BINARY)").format(sentence_table)) as copy:
                copy.set_types(["integer", "text", "integer", "integer", "text", "vector"])
                for pos, (s, v) in enumerate(zip(generation.sentences, generation.sentence_vectors, strict=True)):
                    copy.write_row((pos, s.doc_id, s.start, s.end, s.kind, np.asarray(v, dtype=np.float32)))
        say(f"building HNSW indexes over {len(generation.chunks)} chunks and {len(generation.sentences)} sentences")
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for table in (chunk_table, sentence_table):
            conn.execute(sql.SQL("CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops) "
                                 "WITH (m = {}, ef_construction = {})").format(
                                 table, sql.Literal(HNSW["m"]), sql.Literal(HNSW["ef_construction"])))

    def collect_garbage(self, keep: int = 3, grace_seconds: float = 0.0) -> list[str]:
        """Drop all but the newest ``keep`` generations, never the current one nor one replaced less than
        ``grace_seconds`` ago; then the texts no generation uses."""
        from psycopg import sql

        removed = []
        with self.primary.connection() as conn, conn.transaction():
            rows = conn.execute(
                "SELECT number, name FROM rag_generations WHERE number <> coalesce((SELECT number FROM rag_current), 0)"
                " AND number NOT IN (SELECT number FROM rag_generations ORDER BY number DESC LIMIT %s)"
                " AND replaced_at IS NOT NULL AND replaced_at <= now() - make_interval(secs => %s)"
                " ORDER BY number", (keep, grace_seconds)).fetchall()
            for number, name in rows:
                for table in _tables(int(number)):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
                conn.execute("DELETE FROM rag_generations WHERE number = %s", (number,))
                removed.append(str(name))
            if removed:
                conn.execute("DELETE FROM rag_texts t WHERE NOT EXISTS "
                             "(SELECT 1 FROM rag_documents d WHERE d.text_sha256 = t.sha256)")
        return removed


def _vectors(conn: psycopg.Connection, table: str, count: int, dim: int) -> np.ndarray:
    """All vectors of a generation table in ``pos`` order, read as one binary COPY and decoded by numpy
    (a Python object per row would make loading 100k rows take a minute)."""
    from psycopg import sql

    buffer = bytearray()
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY (SELECT embedding FROM {} ORDER BY pos) TO STDOUT "
                                                "(FORMAT BINARY)").format(sql.Identifier(table))) as copy:
        for block in copy:
            buffer += block
    # COPY BINARY: 19-byte header, then per row: int16 field count, int32 length, pgvector's
    # int16 dim, int16 unused, dim float32 (all big-endian); a 2-byte trailer
    row = np.dtype([("fields", ">i2"), ("length", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("v", ">f4", (dim,))])
    body = memoryview(buffer)[19:19 + count * row.itemsize]
    if len(body) != count * row.itemsize:
        raise IndexUnavailableError(f"{table} holds fewer vectors than its generation's records: run `rag build`")
    rows = np.frombuffer(body, dtype=row, count=count)
    if count and ((rows["dim"] != dim).any() or (rows["fields"] != 1).any()):
        raise IndexUnavailableError(f"{table} holds vectors of another dimension: run `rag build --force`")
    return np.ascontiguousarray(rows["v"], dtype=np.float32).reshape(count, dim)


def _lexical_blobs(generation: Generation) -> dict[str, tuple[str, bytes]]:
    """The BM25 files of ``generation`` by relative name: (sha256, bytes)."""
    chunk_bm25, sentence_bm25 = generation.lexical()
    out = {}
    with tempfile.TemporaryDirectory(prefix="rag-bm25-") as tmp:
        chunk_bm25.save(Path(tmp) / "bm25" / "chunks")
        sentence_bm25.save(Path(tmp) / "bm25" / "sentences")
        for path in sorted(p for p in Path(tmp).rglob("*") if p.is_file()):
            data = path.read_bytes()
            out[str(path.relative_to(tmp))] = (hashlib.sha256(data).hexdigest(), data)
    return out
