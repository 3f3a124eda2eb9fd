"""Operational routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from rag.api.deps import StateDep, errors
from rag.api.metrics import CONTENT_TYPE
from rag.api.schemas import Health, Ready

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz(state: StateDep) -> Any:
    """Liveness: 200 whenever the process runs, even while the index loads."""
    return {"status": "ok", "uptime_s": round(time.time() - state.started_at, 3)}


@router.get("/readyz", response_model=Ready, responses=errors(503))
async def readyz(state: StateDep) -> Any:
    """Readiness: 200 once the index and model are loaded and verified; 503 with the reason otherwise."""
    index = state.retriever().index
    return {"status": "ready", "index_version": index.version, "model": index.model_id,
            "documents": len(index.documents), "chunks": len(index.chunks), "sentences": len(index.sentences),
            "load_seconds": round(state.load_seconds or 0.0, 3), "warning": state.warning}


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}})
async def metrics(state: StateDep) -> PlainTextResponse:
    """Requests and latency histograms by route and status; documents and chunks in the index."""
    return PlainTextResponse(state.metrics.render(state.gauges()), media_type=CONTENT_TYPE)
