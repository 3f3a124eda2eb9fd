"""The HTTP API (FastAPI): search, documents, span resolution, answers, health and metrics."""

from __future__ import annotations

from rag.api.app import create_app
from rag.api.server import serve

__all__ = ["create_app", "serve"]
