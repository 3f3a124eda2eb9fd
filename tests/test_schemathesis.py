"""Property-based fuzzing of the API against its own OpenAPI schema (schemathesis, in process, fake embedder):
every operation, all checks, a bounded number of examples; no 5xx and every response matching the schema."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency: pip install -e .[dev]")
# Imported now, at collection: `from_asgi` would import it lazily, and pytest's assertion rewriting of
# this plugin module then runs ast.parse while other tests' background threads may be parsing too,
# which CPython 3.11 can fail with "AST constructor recursion depth mismatch".
importlib.import_module("schemathesis.specs.openapi.schemas")
from hypothesis import HealthCheck, Phase  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

from rag.api import create_app  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.service import build  # noqa: E402
from tests.conftest import MD_DOC, WIKI_DOC, write_corpus  # noqa: E402

ADMIN = "admin-key-0123456789abcdef"
MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    corpus = write_corpus(tmp / "corpus", {"ada_lovelace.txt": WIKI_DOC, "tea.md": MD_DOC})
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp / "index", chunk_chars=300,
                        admin_keys=ADMIN, reload_interval=0, gc_grace_seconds=0, keep_generations=2,
                        max_document_bytes=64 * 1024, max_upload_bytes=256 * 1024)
    build(settings)
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app (lifespan) in process
    assert app.state.rag.wait(30), "the index did not load"
    yield schema


def excluded(case: Any) -> list[Any]:
    """Checks that cannot apply: an upload's file type and HTML that is all markup are refused (422) by rules
    JSON Schema cannot state; every other request the schema calls valid must be accepted."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    body = case.body if isinstance(case.body, dict) else {}
    upload = case.media_type == "multipart/form-data" or body.get("format") == "html"
    return [positive_data_acceptance] if case.method.upper() in ("POST", "PUT") and upload else []


def test_api_conforms_to_its_schema(api_schema: object) -> None:
    """Every operation: generated valid and invalid requests, all checks; failures are collected, not hidden."""
    from hypothesis import given

    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[attr-defined]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, excluded_checks=excluded(case))

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - reported below with the operation
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
