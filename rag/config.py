"""Settings shared by the CLI and the API (environment prefix ``RAG_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["auto", "onnx", "sentence-transformers", "fake"]


class Settings(BaseSettings):
    """Everything configurable, with safe defaults; e.g. ``RAG_INDEX_DIR=/srv/index``."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")

    # auto: ONNX Runtime when its local export matches torch and is faster, else torch (rag/embedding.py)
    embedder: EmbedderName = "auto"
    model_cache_dir: Path | None = Field(None, description="ONNX export cache (default ~/.cache/rag/onnx)")
    batch_size: int = Field(32, ge=1, le=1024)

    # Chunking (the default target was chosen by evaluation: docs/evaluation.md).
    chunk_chars: int = Field(700, ge=50, le=20_000)
    chunk_overlap: int = Field(1, ge=0, le=10, description="overlap between split chunks, in sentences")

    # Retrieval
    candidates: int = Field(100, ge=1, le=10_000, description="candidates per retriever before fusion")
    max_k: int = Field(50, ge=1, le=1000)
    max_query_chars: int = Field(1000, ge=1, le=100_000)

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    keep_generations: int = Field(3, ge=1, le=100)

    @field_validator("corpus_dir", "index_dir")
    @classmethod
    def _not_empty(cls, value: Path) -> Path:
        if not str(value).strip():
            raise ValueError("must not be empty")
        return value
