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
    """The API for one worker, configured from the environment (``RAG_INDEX_DIR``, ...).

    Settings that cannot work are logged in one line and end the worker with uvicorn's own
    startup-failure status (as uvicorn does for a factory it cannot call): the process exits
    non-zero, and with ``--workers N`` the supervisor stops instead of restarting the worker forever.
    """
    import logging

    from uvicorn.config import STARTUP_FAILURE

    from rag.api.app import create_app
    from rag.api.server import configure_logging
    from rag.config import load_settings
    from rag.errors import RagError

    configure_logging()
    try:
        return create_app(load_settings())
    except RagError as exc:
        logging.getLogger("rag.workers").error("%s", exc)
        raise SystemExit(STARTUP_FAILURE) from None
