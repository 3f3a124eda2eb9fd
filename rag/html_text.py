"""HTML → plain text with Markdown-style headings, using the standard library's parser.

Scripts, styles and other non-content elements are dropped; block elements become paragraphs,
``<h1>``–``<h6>`` become ``#`` headings and list items ``- `` lines, so the extracted text can be
split into sections like any Markdown document. Offsets refer to this extracted text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "head"})
_BLOCK = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote", "pre",
     "table", "tr", "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "form", "fieldset", "address",
     "details", "summary", "hr", "body", "html"}
)
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_SPACE = re.compile(r"\s+")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.skip_depth = 0
        self.title_parts: list[str] = []
        self.in_title = False

    def _flush(self) -> None:
        text = _SPACE.sub(" ", "".join(self.current)).strip()
        if text:
            self.blocks.append(self.prefix + text)
        self.current = []
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            self._flush()
            self.prefix = "#" * _HEADINGS[tag] + " "
        elif tag == "li":
            self._flush()
            self.prefix = "- "
        elif tag in _BLOCK or tag in ("br", "td", "th"):
            if tag in ("td", "th"):
                self.current.append(" ")
            else:
                self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS or tag == "li" or tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
        if not self.skip_depth:
            self.current.append(data)


def html_to_text(html: str) -> tuple[str, str | None]:
    """The readable text of an HTML page (paragraphs separated by blank lines) and its <title>."""
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    parser._flush()
    title = _SPACE.sub(" ", "".join(parser.title_parts)).strip() or None
    return "\n\n".join(parser.blocks) + ("\n" if parser.blocks else ""), title
