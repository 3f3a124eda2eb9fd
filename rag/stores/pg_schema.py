"""The PostgreSQL schema, as numbered migrations applied in order and recorded in ``rag_schema``.

Shared tables hold the generations, their documents and blobs; each generation's chunks and
sentences (with their pgvector embeddings and HNSW indexes) get their own pair of tables,
created in the transaction that publishes the generation and dropped when it is collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.errors import IncompatibleIndexError

if TYPE_CHECKING:
    import psycopg

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE rag_generations (
    number      integer PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    manifest    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    replaced_at timestamptz
);
CREATE TABLE rag_current (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    number      integer NOT NULL REFERENCES rag_generations (number)
);
-- document texts are content-addressed, so generations sharing a document store it once
CREATE TABLE rag_texts (
    sha256      text PRIMARY KEY,
    text        text NOT NULL
);
CREATE TABLE rag_documents (
    generation  integer NOT NULL REFERENCES rag_generations (number) ON DELETE CASCADE,
    doc_id      text NOT NULL,
    text_sha256 text NOT NULL REFERENCES rag_texts (sha256),
    record      jsonb NOT NULL,
    PRIMARY KEY (generation, doc_id)
);
CREATE INDEX rag_documents_text ON rag_documents (text_sha256);
-- the BM25 arrays (bm25s .npy/.json files, never pickled), checksummed like the local files
CREATE TABLE rag_blobs (
    generation  integer NOT NULL REFERENCES rag_generations (number) ON DELETE CASCADE,
    name        text NOT NULL,
    sha256      text NOT NULL,
    data        bytea NOT NULL,
    PRIMARY KEY (generation, name)
);
"""),
)
LATEST = MIGRATIONS[-1][0]
LOCK_KEY = 0x7261675F6D6967  # advisory lock held while migrating ("rag_mig")


def migrate(conn: psycopg.Connection) -> int:
    """Bring the schema up to ``LATEST``; refuse a database migrated by a newer version of rag.

    A read-only server (a streaming replica) is only checked: its primary migrates it.
    """
    if _scalar(conn, "SELECT pg_is_in_recovery()"):
        try:
            current = schema_version(conn)
        finally:
            conn.rollback()
        if current != LATEST:
            raise IncompatibleIndexError(f"the replica's schema is version {current}, this version of rag needs "
                                         f"{LATEST}: connect rag to the primary once to migrate it")
        return current
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS rag_schema (version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        row = conn.execute("SELECT coalesce(max(version), 0) FROM rag_schema").fetchone()
        current = int(row[0]) if row else 0
        if current > LATEST:
            raise IncompatibleIndexError(
                f"the database schema is version {current}, newer than this version of rag supports ({LATEST}): "
                "upgrade rag")
        for version, statements in MIGRATIONS:
            if version > current:
                conn.execute(statements)
                conn.execute("INSERT INTO rag_schema (version) VALUES (%s)", (version,))
    return LATEST


def schema_version(conn: psycopg.Connection) -> int:
    if _scalar(conn, "SELECT to_regclass('rag_schema')") is None:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM rag_schema").fetchone()
    return int(row[0]) if row else 0


def _scalar(conn: psycopg.Connection, query: str, params: tuple[object, ...] = ()) -> object:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None
