"""Several server processes sharing one index on disk (``uvicorn --factory rag.workers:app --workers N``).

Every worker loads the current generation itself; the dense vectors and FAISS files are
memory-mapped, so the workers share one copy of them in the page cache, and each worker has its
own query embedder. Build the index first (``rag build``): workers only load it. Configure them
with the usual ``RAG_`` environment variables, e.g.::

    rag build --corpus corpus --index index
    RAG_INDEX_DIR=index uvicorn --factory rag.workers:app --workers 2 --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def app() -> FastAPI:
    """The API for one worker, configured from the environment (``RAG_INDEX_DIR``, ...)."""
    from rag.api.app import create_app
    from rag.api.server import configure_logging
    from rag.config import load_settings

    configure_logging()
    return create_app(load_settings())
