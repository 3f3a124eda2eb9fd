"""Access control at the edge: API keys (read / admin) and per-client rate limiting, as ASGI middleware.

Rules (SECURITY.md): everything under ``/v1/`` needs a read key when read keys are configured
(an admin key also reads); writes (POST/PUT/DELETE/PATCH under ``/v1/documents``) always need an
admin key and are refused when none is configured. Keys are compared as SHA-256 digests with
``hmac.compare_digest`` against every configured key, so timing reveals neither which key nor
how much of it matched; keys are never logged (the access log has no headers). Requests under
``/v1/`` are rate limited per key, or per client address for requests without a valid key;
health, readiness, metrics, the docs and the web page are exempt.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.api.errors import error_response

Role = Literal["read", "admin"]
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
MAX_CLIENTS = 10_000  # rate-limit buckets kept; the least recently seen are forgotten first


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


class KeyRing:
    """The configured keys (as digests) and what each may do."""

    def __init__(self, read_keys: Sequence[str], admin_keys: Sequence[str]) -> None:
        self._read = [_digest(k) for k in read_keys]
        self._admin = [_digest(k) for k in admin_keys]

    @property
    def reads_open(self) -> bool:
        return not self._read

    @property
    def writes_enabled(self) -> bool:
        return bool(self._admin)

    def role(self, token: str) -> tuple[Role | None, str]:
        """The token's role (None when it matches no key) and a log-safe id of it."""
        digest = _digest(token)
        admin = read = False
        for known in self._admin:  # no early exit: every key is compared every time
            admin |= hmac.compare_digest(digest, known)
        for known in self._read:
            read |= hmac.compare_digest(digest, known)
        role: Role | None = "admin" if admin else "read" if read else None
        return role, "key:" + digest.hex()[:12]


def app_path(scope: Scope) -> str:
    """The request path as the router matches it: without the ``root_path`` prefix that a server run with
    ``--root-path`` (behind a proxy serving the API under a sub-path) puts in front of every ``path``."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root):]
    return path


def required_role(method: str, path: str) -> Role | None:
    """What a request needs: nothing outside /v1/, admin for document writes, else read."""
    if not path.startswith("/v1/"):
        return None
    if method in WRITE_METHODS and (path == "/v1/documents" or path.startswith("/v1/documents/")):
        return "admin"
    return "read"


def bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class RateLimiter:
    """A token bucket per client: ``requests`` per ``period`` seconds, bursts up to ``requests``."""

    def __init__(self, requests: int, period: float, max_clients: int = MAX_CLIENTS) -> None:
        self.capacity = float(requests)
        self.rate = requests / period  # tokens per second
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, at)

    def acquire(self, client: str, now: float | None = None) -> float:
        """0 when the request may proceed, else the seconds until it may (nothing is taken then)."""
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)  # most recently seen last
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


class AccessMiddleware:
    """Rate limit, then authenticate: 429 / 401 / 403 with the standard error body."""

    def __init__(self, app: ASGIApp, keys: KeyRing, limiter: RateLimiter | None) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        needed = required_role(str(scope.get("method", "")), app_path(scope))
        if needed is None:
            await self.app(scope, receive, send)
            return
        token = bearer_token(Headers(scope=scope))
        role, key_id = self.keys.role(token) if token is not None else (None, "")
        if self.limiter is not None:
            client = key_id if role is not None else "addr:" + str((scope.get("client") or ("-",))[0])
            wait = self.limiter.acquire(client)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                response = error_response(429, "rate_limited", f"too many requests: retry in {retry}s",
                                          {"retry_after_s": retry}, {"Retry-After": str(retry)})
                await response(scope, receive, send)
                return
        problem = self._check(needed, token, role)
        if problem is not None:
            await problem(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, needed: Role, token: str | None, role: Role | None):  # noqa: ANN202 - a Response or None
        if needed == "read" and self.keys.reads_open:
            return None
        if needed == "admin" and not self.keys.writes_enabled:
            return error_response(403, "writes_disabled", "document writes are disabled on this server: the operator "
                                  "enables them by setting RAG_ADMIN_KEYS")
        if token is None:
            what = "an admin key" if needed == "admin" else "an API key"
            return error_response(401, "unauthorized", f"this needs {what}: send the header "
                                  "'Authorization: Bearer <key>'", None, {"WWW-Authenticate": "Bearer"})
        if role is None or (needed == "admin" and role != "admin"):
            what = "an admin key" if needed == "admin" else "a valid key"
            return error_response(403, "forbidden", f"this key is not accepted here: it needs {what}")
        return None
