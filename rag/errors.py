"""The error hierarchy; every message says what to do next.

    RagError                      base of everything this package raises on purpose
    ├── ConfigError               settings that cannot work (bad value, unknown mode)
    ├── CorpusError               no usable documents in a corpus folder
    ├── DocumentError             one document cannot be read or parsed (skipped, reported by name)
    ├── IndexUnavailableError     (alias IndexError_) no index, a stale or incompatible one, or a corrupted file
    │   └── IncompatibleIndexError  built by another model / dimension / format
    ├── NotFoundError             unknown document id
    └── InvalidRequestError       a request that cannot be served (bad span, empty query)
"""

from __future__ import annotations


class RagError(Exception):
    """Base class for expected, user-facing errors."""

    code = "rag_error"


class ConfigError(RagError):
    code = "invalid_config"


class CorpusError(RagError):
    code = "corpus_error"


class DocumentError(RagError):
    code = "document_error"


class IndexUnavailableError(RagError):
    code = "index_unavailable"


class IncompatibleIndexError(IndexUnavailableError):
    code = "index_incompatible"


class NotFoundError(RagError):
    code = "not_found"


class InvalidRequestError(RagError):
    code = "invalid_request"


IndexError_ = IndexUnavailableError  # short alias used across the package

__all__ = [
    "ConfigError",
    "CorpusError",
    "DocumentError",
    "IncompatibleIndexError",
    "IndexError_",
    "IndexUnavailableError",
    "InvalidRequestError",
    "NotFoundError",
    "RagError",
]
