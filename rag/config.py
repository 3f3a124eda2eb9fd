"""Settings shared by the CLI and the API (environment prefix ``RAG_``)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.errors import ConfigError

EmbedderName = Literal["auto", "onnx", "sentence-transformers", "fake"]
Keys = Annotated[tuple[SecretStr, ...], NoDecode]
Origins = Annotated[tuple[str, ...], NoDecode]

MIN_KEY_CHARS = 16
_KEY = re.compile(r"^[A-Za-z0-9._~+/=-]+$")
_ORIGIN = re.compile(r"(https?)://(?:([a-z0-9.-]+)|\[([0-9a-f:.]+)\])(?::(\d{1,5}))?")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|sec|s|minute|min|m|hour|h)\s*$", re.IGNORECASE)
_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


def normalise_origin(text: str) -> str:
    """``text`` as browsers send it in ``Origin`` (lower case, no default port, IPv6 in its shortest form), so
    that the CORS middleware's exact comparison matches; ``*`` stays. Raises ValueError for anything else."""
    origin = text.strip().rstrip("/").lower()
    if origin == "*":
        return origin
    m = _ORIGIN.fullmatch(origin)
    scheme, host, ipv6, port = m.groups() if m else ("", "", None, None)
    number = int(port) if port else None
    if m and ipv6 is not None:
        try:
            host = f"[{ipaddress.IPv6Address(ipv6).compressed}]"
        except ValueError:
            m = None
    if m and (number is None or 1 <= number <= 65535):
        return f"{scheme}://{host}" + ("" if number in (None, _DEFAULT_PORTS[scheme]) else f":{number}")
    raise ValueError(f"{origin[:100]!r} is not an origin: use scheme://host[:port] without a path (e.g. "
                     "https://chat.example.org, http://[::1]:8080, a port 1-65535), or * for any")


def parse_rate(text: str) -> tuple[int, float]:
    """``"20/second"`` → (20, 1.0); ``"600/minute"`` → (600, 60.0). Raises ValueError otherwise."""
    m = _RATE.match(text)
    if not m or not 1 <= int(m.group(1)) <= 1_000_000:
        raise ValueError(f"{text!r} is not a rate: use N/second, N/minute or N/hour with 1 <= N <= 1000000")
    return int(m.group(1)), _PERIODS[m.group(2).lower()]


class Settings(BaseSettings):
    """Everything configurable, with safe defaults; e.g. ``RAG_INDEX_DIR=/srv/index``."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", hide_input_in_errors=True)  # keys stay secret

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")

    # Where generations are stored: "local" (index_dir: FAISS + BM25 files) or a postgresql:// URL
    # (pgvector; docs/scaling.md). Replicas (comma-separated URLs) serve reads; writes go to the primary.
    store: str = Field("local", description="local, or postgresql://user:password@host:port/database")
    store_replicas: Annotated[tuple[str, ...], NoDecode] = Field((), description="read replica URLs")
    store_pool_size: int = Field(4, ge=1, le=256, description="connections per PostgreSQL pool")

    # auto: ONNX Runtime when its local export matches torch and is faster, else torch (rag/embedding.py)
    embedder: EmbedderName = "auto"
    model_cache_dir: Path | None = Field(None, description="ONNX export cache (default ~/.cache/rag/onnx)")
    batch_size: int = Field(32, ge=1, le=1024)

    # Chunking (the default target was chosen by evaluation: docs/evaluation.md).
    chunk_chars: int = Field(900, ge=50, le=20_000)
    chunk_overlap: int = Field(1, ge=0, le=10, description="overlap between split chunks, in sentences")

    # Retrieval
    candidates: int = Field(100, ge=1, le=10_000, description="candidates per retriever before fusion")
    max_k: int = Field(50, ge=1, le=1000, description="largest k (results) a request may ask for")
    min_confidence: float | None = Field(None, ge=0, le=1, description="answers below this confidence are "
                                         "withheld (default: the calibrated threshold, docs/answers.md)")
    max_query_chars: int = Field(1000, ge=1, le=100_000, description="longest query, question or claim")

    # Serving (query batching and threads: docs/benchmarks.md measured 16 / 1 / 8 best on 2 cores)
    query_batch: int = Field(16, ge=1, le=256, description="most concurrent queries embedded in one call")
    query_slots: int = Field(1, ge=1, le=64, description="query-embedding batches running at once")
    search_threads: int = Field(8, ge=1, le=256, description="queries served at once per process")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024**2, description="body limit of query routes")
    keep_generations: int = Field(3, ge=1, le=100)
    gc_grace_seconds: float = Field(300.0, ge=0, le=7 * 86400,
                                    description="an old generation is deleted only this long after it was replaced")

    # Hardening (SECURITY.md): keys, rate limit and limits. Keys are comma-separated in the environment.
    read_keys: Keys = Field((), description="when set, /v1 reads need one of these (or an admin key)")
    admin_keys: Keys = Field((), description="keys allowed to write documents; writes are off without one")
    rate_limit: str | None = Field(None, description="per key (or client address): N/second, N/minute or N/hour")
    request_timeout: float = Field(10.0, gt=0, le=600, description="a query taking longer gives 503/504")
    write_timeout: float = Field(300.0, gt=0, le=86_400, description="longest wait for a document write")
    max_pending: int = Field(64, ge=1, le=10_000, description="queries waiting for a worker before 503")
    max_context_chars: int = Field(20_000, ge=200, le=1_000_000, description="largest /v1/context budget")
    max_documents_per_request: int = Field(100, ge=1, le=10_000, description="doc_ids in a filter or an upload")
    max_document_bytes: int = Field(10 * 1024**2, ge=1024, le=1024**3, description="largest document (UTF-8)")
    max_upload_bytes: int = Field(16 * 1024**2, ge=1024, le=2 * 1024**3, description="body limit of writes")
    cors_origins: Origins = Field((), description="web origins (scheme://host[:port], or *) whose pages may call "
                                  "the API from a browser; none by default")
    reload_interval: float = Field(1.0, ge=0, le=3600, description="seconds between checks for a new generation "
                                   "(0: never)")

    @field_validator("corpus_dir", "index_dir")
    @classmethod
    def _not_empty(cls, value: Path) -> Path:
        if not str(value).strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        from rag.stores import is_postgres

        value = value.strip()
        if value != "local" and not is_postgres(value):
            raise ValueError("must be 'local' or a postgresql:// URL")
        return value

    @field_validator("store_replicas", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        from rag.stores import is_postgres

        for url in value:
            if not is_postgres(str(url)):
                raise ValueError("every replica must be a postgresql:// URL")
        return value

    @field_validator("read_keys", "admin_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("read_keys", "admin_keys")
    @classmethod
    def _strong_keys(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for key in keys:  # never echo the key itself in the error
            secret = key.get_secret_value()
            if len(secret) < MIN_KEY_CHARS or not _KEY.fullmatch(secret):
                raise ValueError(f"every key needs at least {MIN_KEY_CHARS} characters from A-Z a-z 0-9 . _ ~ + / = -"
                                 " (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return keys

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(dict.fromkeys(normalise_origin(str(o)) for o in value if str(o).strip()))  # as browsers send

    @field_validator("rate_limit")
    @classmethod
    def _valid_rate(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip().lower() in {"off", "none"}:
            return None
        parse_rate(value)
        return value.strip()

    @model_validator(mode="after")
    def _consistent_limits(self) -> Settings:
        if self.max_upload_bytes < self.max_document_bytes:
            raise ValueError("max_upload_bytes (RAG_MAX_UPLOAD_BYTES) must be at least max_document_bytes "
                             "(RAG_MAX_DOCUMENT_BYTES)")
        return self

    @property
    def rate(self) -> tuple[int, float] | None:
        """The rate limit as (requests, per seconds), or None when off."""
        return parse_rate(self.rate_limit) if self.rate_limit else None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``overrides``; invalid values raise one ConfigError naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_problem(error["loc"], error["msg"]) for error in exc.errors())
        raise ConfigError(f"invalid settings: {problems} (fix or unset the RAG_ environment variable, or the "
                          "matching command-line option)") from exc


def _problem(loc: tuple[int | str, ...], msg: str) -> str:
    msg = msg.removeprefix("Value error, ")  # pydantic's prefix for a validator's ValueError
    if not loc:  # a model validator: several fields together (its message names their variables)
        return msg
    return f"{'.'.join(map(str, loc))} (RAG_{str(loc[0]).upper()}): {msg}"
