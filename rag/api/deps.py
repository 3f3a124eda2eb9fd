"""Request dependencies: the service state, the current retriever, JSON-only bodies, error docs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from rag.api.errors import ApiError
from rag.api.schemas import ErrorBody
from rag.api.state import ServiceState
from rag.retrieval import Retriever


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.rag
    return state


# The dependencies are ``async def`` although they never await: FastAPI runs a plain ``def``
# dependency on its thread pool, a hand-off that cost more than the whole dependency on every request.
async def get_state(request: Request) -> ServiceState:
    return _state(request)


async def current_retriever(request: Request, response: Response) -> Retriever:
    """The loaded retriever, captured once per request; 503 until the index is ready.

    The response names the generation it used in the ``X-Index-Version`` header (and, where the
    body has one, in ``index_version``).
    """
    retriever = _state(request).retriever()
    response.headers["X-Index-Version"] = retriever.index.version
    return retriever


async def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, "unsupported_media_type",
                       "send the body as JSON with the header 'content-type: application/json'",
                       {"content_type": declared or None})


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route can give."""
    text = {404: "Unknown document", 408: "Body not received in time", 413: "Body over the size limit",
            415: "Body is not JSON", 422: "Invalid body or parameters", 503: "Index not loaded (yet), or unusable"}
    return {s: {"model": ErrorBody, "description": text.get(s, "Error")} for s in statuses}


StateDep = Annotated[ServiceState, Depends(get_state)]
RetrieverDep = Annotated[Retriever, Depends(current_retriever)]
