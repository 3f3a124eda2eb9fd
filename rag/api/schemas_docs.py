"""Pydantic models of document writes: the JSON body of POST/PUT /v1/documents and the record returned."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from rag.api.schemas import MAX_METADATA_PAIRS, DocumentSummary, MetaValue, no_surrogates
from rag.loading import DOC_ID_RE, MAX_URL_CHARS, URL_RE

Format = Literal["text", "markdown", "html"]
MAX_TITLE = 500
MAX_URL = MAX_URL_CHARS

# Constraints as patterns that read the same in JSON Schema (ECMA 262), Rust and Python regexes.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"  # a character that no regex dialect or str.strip() calls whitespace
_LINE_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
TITLE_LINE = rf"^{_LINE_CHAR}*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]{_LINE_CHAR}*$"  # one line, not blank
URL = URL_RE.pattern
Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE, pattern=TITLE_LINE)]
MetaKeyLine = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]{1,64}$")]
DOC_ID_PATTERN = DOC_ID_RE.pattern
DOC_ID_HELP = "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"


class DocumentUpdate(BaseModel):
    """A document's new version (PUT): ``text`` is stored exactly (HTML is reduced to its text first)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Kites", "text": "Kites fly on strings.", "format": "text", "url": "https://example.org/kites",
         "metadata": {"lang": "en", "year": 2024}},
    ]})

    title: Title
    text: str = Field(min_length=1, pattern=NOT_BLANK, description="the document; at most max_document_bytes "
                      "of UTF-8, not blank (HTML: with some text outside its markup)")
    format: Format = Field("text", description="text (wiki '== Heading ==' layout), markdown or html")
    url: str | None = Field(None, max_length=MAX_URL, pattern=URL,
                            description="an http(s) link to the source, returned in citations")
    metadata: dict[MetaKeyLine, MetaValue] = Field(default_factory=dict, max_length=MAX_METADATA_PAIRS,
                                                   json_schema_extra={"additionalProperties": False},
                                               description="custom fields, returned in passages and citations")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        return no_surrogates(data)



class DocumentIn(DocumentUpdate):
    """A document to add (POST); without ``doc_id``, one is derived from the title and a hash of the text."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"doc_id": "kites", "title": "Kites", "text": "Kites fly on strings.", "format": "text",
         "url": "https://example.org/kites", "metadata": {"lang": "en", "year": 2024}},
        {"title": "Tea notes", "text": "# Tea\n\nGreen tea needs cooler water.", "format": "markdown"},
    ]})

    doc_id: str | None = Field(None, pattern=DOC_ID_PATTERN,
                               description=f"{DOC_ID_HELP}; derived from the title when absent")


class DocumentRecord(DocumentSummary):
    """A document as stored after a write, and the index generation that contains it."""

    index_version: str = Field(description="the generation that holds this version of the document")


def upload_schema(create: bool = True) -> dict[str, Any]:
    """OpenAPI request body of POST (``create``) or PUT /v1/documents: JSON, or a file upload (multipart)."""
    document = (DocumentIn if create else DocumentUpdate).model_json_schema()
    form: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "a .txt, .md, .markdown, .html or .htm file in UTF-8"},
            "doc_id": {"type": "string", "pattern": DOC_ID_PATTERN, "description": "default: the file name"},
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE, "pattern": TITLE_LINE},
            "url": {"type": "string", "pattern": URL, "maxLength": MAX_URL},
            "metadata": {"type": "string", "description": "a JSON object of custom fields"},
        },
    }
    if not create:
        del form["properties"]["doc_id"]  # the path names the document
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": document},
                                                          "multipart/form-data": {"schema": form}}}}
