"""Pydantic models of document writes: the JSON body of POST/PUT /v1/documents and the record returned."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from rag.api.schemas import MAX_METADATA_PAIRS, DocumentSummary, MetaKey, MetaValue, no_surrogates
from rag.loading import DOC_ID_RE

Format = Literal["text", "markdown", "html"]
MAX_TITLE = 500
MAX_URL = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
DOC_ID_PATTERN = DOC_ID_RE.pattern
DOC_ID_HELP = "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"


class DocumentIn(BaseModel):
    """A document to add or replace; ``text`` is stored exactly (HTML is reduced to its text first)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"doc_id": "kites", "title": "Kites", "text": "Kites fly on strings.", "format": "text",
         "url": "https://example.org/kites", "metadata": {"lang": "en", "year": 2024}},
        {"title": "Tea notes", "text": "# Tea\n\nGreen tea needs cooler water.", "format": "markdown"},
    ]})

    doc_id: str | None = Field(None, pattern=DOC_ID_PATTERN,
                               description=f"{DOC_ID_HELP}; derived from the title when absent")
    title: Title
    text: str = Field(min_length=1, description="the document; at most max_document_bytes of UTF-8")
    format: Format = Field("text", description="text (wiki '== Heading ==' layout), markdown or html")
    url: str | None = Field(None, max_length=MAX_URL, pattern=r"^https?://[^\s]+$",
                            description="an http(s) link to the source, returned in citations")
    metadata: dict[MetaKey, MetaValue] = Field(default_factory=dict, max_length=MAX_METADATA_PAIRS,
                                               description="custom fields, returned in passages and citations")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        return no_surrogates(data)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError("the title must be one line without control characters")
        return value

    @field_validator("metadata")
    @classmethod
    def _printable_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        if any(_CONTROL.search(k) for k in value):
            raise ValueError("metadata keys must not contain control characters")
        return value


class DocumentRecord(DocumentSummary):
    """A document as stored after a write, and the index generation that contains it."""

    index_version: str = Field(description="the generation that holds this version of the document")


def upload_schema() -> dict[str, Any]:
    """OpenAPI request body of POST/PUT /v1/documents: JSON, or a file upload (multipart/form-data)."""
    document = DocumentIn.model_json_schema()
    form = {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "a .txt, .md, .markdown, .html or .htm file in UTF-8"},
            "doc_id": {"type": "string", "pattern": DOC_ID_PATTERN, "description": "default: the file name"},
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
            "url": {"type": "string", "pattern": r"^https?://[^\s]+$", "maxLength": MAX_URL},
            "metadata": {"type": "string", "description": "a JSON object of custom fields"},
        },
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": document},
                                                          "multipart/form-data": {"schema": form}}}}
