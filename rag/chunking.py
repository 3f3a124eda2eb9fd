"""Document → sentences and chunks with exact offsets (pure functions).

Sentences never cross a line that starts a list item or heading, nor a blank line. Chunks are
made of whole sentences of one section: paragraphs are packed together up to ``target_chars``;
a paragraph longer than that is cut into windows of whole sentences that overlap by
``overlap`` sentences. A heading line travels with the text that follows it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.documents import Chunk, Document, Sentence

MAX_SENTENCE_CHARS = 2000

_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "eg", "ie", "cf", "al",
        "gen", "col", "lt", "capt", "sgt", "maj", "cmdr", "adm", "gov", "pres", "rev", "hon",
        "vol", "vols", "pp", "fig", "figs", "approx", "ca", "inc", "ltd", "co", "corp", "dept", "univ", "est",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
        "e.g", "i.e", "a.m", "p.m"
    }
)
# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by whitespace and a
# character that can start a sentence. The run of marks is matched only from its start and
# possessively, so a long run of dots cannot make the search quadratic.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s+[\"'“‘«(\[]?[A-Z0-9\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF])")  # noqa: E501
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+\S")
_HEADING = re.compile(r"^\ufeff?[ \t]*(?:#{1,6}[ \t]+\S|=+[^=\n]*=+[ \t\r]*$)")  # \r: CRLF line ends
_WORD_CHAR = re.compile(r"[\w.]")
_WORD_WINDOW = 32  # longer than any abbreviation


# Bump when the same text and settings are cut into different sentences, sections or chunks: it is part
# of every index's build configuration, so an existing index is rebuilt (not reused) after the change.
# 2: headings on CRLF lines and after a byte order mark are headings (they were glued to the next sentence).
CHUNKER_VERSION = 2


@dataclass(frozen=True)
class ChunkerConfig:
    target_chars: int = 700
    overlap: int = 1


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the '.' at ``dot`` ends an abbreviation or an initial rather than a sentence."""
    start = dot  # walk back over the word (bounded, so a long run cannot make splitting quadratic)
    while start > 0 and dot - start <= _WORD_WINDOW and _WORD_CHAR.match(text, start - 1):
        start -= 1
    if start == dot or dot - start > _WORD_WINDOW:
        return False
    word = text[start:dot].lower().strip(".")
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Edgar Hoover"
    return word in _ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):  # and a file's byte order mark
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cap(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut a pathological run-on 'sentence' at whitespace so no piece exceeds MAX_SENTENCE_CHARS."""
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = max(text.rfind(" ", start + 1, limit), text.rfind("\n", start + 1, limit))
        cut = cut if cut > start else limit
        yield _trim(text, start, cut)
        start, _ = _trim(text, cut, end)
    if end > start:
        yield start, end


def split_prose(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentence spans of one prose segment ``text[start:end]`` (whitespace trimmed)."""
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        last = m.group(0)
        dot = m.start() + len(last.rstrip("\"'”’»)]")) - 1
        if text[dot] == "." and len(last.rstrip("\"'”’»)]")) == 1 and _is_abbreviation(text, dot):
            continue
        s, e = _trim(text, pos, m.end())
        if e > s:
            yield from _cap(text, s, e)
        pos = m.end()
    s, e = _trim(text, pos, end)
    if e > s:
        yield from _cap(text, s, e)


def _line_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl + 1
        yield pos, stop
        pos = stop


def split_blocks(text: str, start: int, end: int) -> list[list[Sentence]]:
    """Paragraph blocks of ``text[start:end]``, each a list of sentences (doc_id left empty)."""
    blocks: list[list[Sentence]] = []
    current: list[Sentence] = []
    prose_start: int | None = None

    def flush_prose(stop: int) -> None:
        nonlocal prose_start
        if prose_start is not None:
            for s, e in split_prose(text, prose_start, stop):
                current.append(Sentence("", s, e, text[s:e], "text"))
            prose_start = None

    for ls, le in _line_spans(text, start, end):
        line = text[ls:le]
        if not line.strip():
            flush_prose(ls)
            if current:
                blocks.append(current)
                current = []
            continue
        heading = bool(_HEADING.match(line))
        if heading or _LIST_ITEM.match(line):
            flush_prose(ls)
            if heading and current:
                blocks.append(current)
                current = []
            kind = "heading" if heading else "item"
            for s, e in _cap(text, *_trim(text, ls, le)):
                current.append(Sentence("", s, e, text[s:e], kind))
            if heading:
                blocks.append(current)
                current = []
        elif prose_start is None:
            prose_start = ls
    flush_prose(end)
    if current:
        blocks.append(current)
    return blocks


def chunk_id(doc: Document, start: int, end: int) -> str:
    """Content-addressed id: the same document text and span always give the same id."""
    digest = hashlib.sha256(f"{doc.doc_id}\x00{doc.sha256}\x00{start}\x00{end}".encode()).hexdigest()
    return digest[:20]


def _windows(block: list[int], sentences: list[Sentence], target: int, overlap: int) -> Iterator[list[int]]:
    """Whole-sentence windows of at most ``target`` chars (a longer sentence stands alone)."""
    i = 0
    while i < len(block):
        j = i + 1
        while j < len(block) and sentences[block[j]].end - sentences[block[i]].start <= target:
            j += 1
        yield block[i:j]
        if j >= len(block):
            return
        i = max(j - overlap, i + 1)


def chunk_document(doc: Document, config: ChunkerConfig | None = None) -> tuple[list[Sentence], list[Chunk]]:
    """Split a document into sentences and chunks; chunk ``sentence_ids`` index the returned list."""
    config = config or ChunkerConfig()
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    text = doc.text
    for section in doc.sections:
        # Paragraph blocks as lists of sentence indices; a heading block joins the next block.
        blocks: list[list[int]] = []
        pending: list[int] = []
        for block in split_blocks(text, section.start, section.end):
            ids = []
            for s in block:
                ids.append(len(sentences))
                sentences.append(Sentence(doc.doc_id, s.start, s.end, s.text, s.kind))
            if all(sentences[i].kind == "heading" for i in ids):
                pending.extend(ids)
                continue
            blocks.append(pending + ids)
            pending = []
        if pending:
            blocks.append(pending)

        # Pack whole paragraphs up to the target; split the ones that are too long.
        groups: list[list[int]] = []
        current: list[int] = []
        for ids in blocks:
            span = sentences[ids[-1]].end - sentences[ids[0]].start
            if span > config.target_chars:
                if current:
                    groups.append(current)
                    current = []
                groups.extend(_windows(ids, sentences, config.target_chars, config.overlap))
                continue
            if current and sentences[ids[-1]].end - sentences[current[0]].start > config.target_chars:
                groups.append(current)
                current = []
            current = current + ids
        if current:
            groups.append(current)

        for ids in groups:
            start, end = sentences[ids[0]].start, sentences[ids[-1]].end
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc, start, end),
                    doc_id=doc.doc_id,
                    start=start,
                    end=end,
                    text=text[start:end],
                    section=section.path,
                    sentence_ids=tuple(ids),
                )
            )
    return sentences, chunks
