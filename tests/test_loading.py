from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import CorpusError, DocumentError
from rag.loading import corpus_files, load_corpus, load_file, load_path, make_document
from tests.conftest import MD_DOC, WIKI_DOC, write_corpus


def test_wiki_layout_title_sections_and_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "ada_lovelace.txt"
    path.write_text(WIKI_DOC, encoding="utf-8")
    doc = load_file(path)
    assert doc.doc_id == "ada_lovelace"
    assert doc.title == "Ada Lovelace"
    assert doc.text == WIKI_DOC
    assert [s.path for s in doc.sections] == [(), ("Early life",), ("Work",), ("Death",)]
    # sections partition the text, and each heading section starts at its heading line
    assert doc.sections[0].start == 0 and doc.sections[-1].end == len(doc.text)
    for a, b in zip(doc.sections, doc.sections[1:], strict=False):
        assert a.end == b.start
    assert doc.text[doc.sections[2].start:].startswith("== Work ==")
    assert doc.section_at(doc.text.index("Bernoulli")).path == ("Work",)


def test_markdown_title_and_nested_headings() -> None:
    text = MD_DOC + "\n### Iced\n\nServed cold.\n\n```\n# not a heading\n```\n"
    doc = make_document("tea", text, fmt="markdown")
    assert doc.title == "Tea"
    paths = [s.path for s in doc.sections]
    assert ("History",) in paths and ("Preparation", "Iced") in paths
    assert all(p != ("not a heading",) for p in paths)


def test_crlf_and_bom_are_kept_exactly(tmp_path: Path) -> None:
    raw = "\ufeff= T =\r\n\r\nLine one.\r\n==S==\r\nMore text.\r\n"
    path = tmp_path / "crlf.txt"
    path.write_bytes(raw.encode("utf-8"))
    doc = load_file(path)
    assert doc.text == raw
    assert [s.path for s in doc.sections][-1] == ("S",)


def test_bad_files_are_reported_by_name_and_skipped(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "c")
    (folder / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (folder / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (folder / "bad name.txt").write_text("text", encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF")
    sub = folder / "sub"
    sub.mkdir()
    (sub / "tea.txt").write_text("A duplicate id.", encoding="utf-8")
    docs, problems = load_corpus(folder)
    assert sorted(d.doc_id for d in docs) == ["ada_lovelace", "tea"]
    joined = "\n".join(problems)
    assert "latin1.txt" in joined and "UTF-8" in joined
    assert "empty.txt" in joined and "bad name.txt" in joined
    assert "already used" in joined
    assert "notes.pdf" not in joined  # unsupported types are simply not corpus files


def test_missing_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


@pytest.mark.parametrize("doc_id", ["../etc", "/abs", "", "a b", ".hidden"])
def test_invalid_doc_ids_are_refused(doc_id: str) -> None:
    with pytest.raises(DocumentError):
        make_document(doc_id, "Some text.")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/x", "https://exa mple.org", "https://x\n",
                                 "https://example.org/" + "a" * 2000])
def test_a_document_url_must_be_a_plain_http_address(url: str) -> None:
    with pytest.raises(DocumentError, match="url must be an http"):
        make_document("d", "Some text.", url=url)


def test_a_jsonl_row_with_a_script_url_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"doc_id": "a", "title": "A", "text": "Some text.", "url": "javascript:alert(1)"}\n',
                    encoding="utf-8")
    with pytest.raises(DocumentError, match="url must be an http"):
        load_path(path)
    assert make_document("d", "Some text.", url="https://example.org/a?b=c#d").url == "https://example.org/a?b=c#d"


def test_a_corpus_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="is a file, not a folder"):
        corpus_files(tmp_path / "file.txt")


def test_a_doc_id_with_a_trailing_newline_is_refused() -> None:
    # re's "$" also matches before a final newline: ids are checked with fullmatch
    with pytest.raises(DocumentError, match="invalid doc_id"):
        make_document("abc\n", "Some text.")
