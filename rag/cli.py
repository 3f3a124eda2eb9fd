"""The ``rag`` command: build, search, ask, locate, verify, context, eval, serve.

Each subcommand imports what it needs only when it runs, so ``rag --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rag import __version__
from rag.cli_commands import (
    cmd_add,
    cmd_ask,
    cmd_build,
    cmd_context,
    cmd_eval,
    cmd_list,
    cmd_locate,
    cmd_remove,
    cmd_search,
    cmd_serve,
    cmd_verify,
)
from rag.errors import RagError

# The subcommands live in rag.cli_commands; they stay importable from here.
__all__ = [
    "MIN_CONTEXT_CHARS", "Handler", "cmd_add", "cmd_ask", "cmd_build", "cmd_context", "cmd_eval", "cmd_list",
    "cmd_locate", "cmd_remove", "cmd_search", "cmd_serve", "cmd_verify", "main", "parser",
]

MIN_CONTEXT_CHARS = 200  # the smallest context budget, as in the API (POST /v1/context max_chars)

Handler = Callable[[argparse.Namespace], int]


# -- parser --------------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, corpus: bool = False) -> None:
    if corpus:
        p.add_argument("--corpus", dest="corpus_dir", type=Path, help="folder of source documents (default: corpus/)")
    p.add_argument("--index", dest="index_dir", type=Path, help="index folder (default: index/)")
    p.add_argument("--embedder", choices=["sentence-transformers", "fake"], help=argparse.SUPPRESS)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _text(text: str) -> str:
    try:  # bytes that are not UTF-8 reach argv as lone surrogates, which no model or index can take
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("not valid UTF-8 text: check the terminal's encoding") from None
    return text


def _context_chars(text: str) -> int:
    value = _positive(text)
    if value < MIN_CONTEXT_CHARS:  # smaller budgets hold no passage: the context would be empty
        raise argparse.ArgumentTypeError(f"{value} is too small: use at least {MIN_CONTEXT_CHARS}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rag", description="Citation-first retrieval over a corpus of documents.")
    top.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="build (or refresh) the index from the corpus folder")
    _common(p, corpus=True)
    p.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="find the passages that bear on a query")
    p.add_argument("query", type=_text)
    p.add_argument("-k", type=_positive, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print the API's JSON response")
    _doc_filter(p)
    _common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with a cited span, or say it is not in the corpus")
    p.add_argument("question", type=_text)
    p.add_argument("-k", type=_positive, default=5, help="evidence passages returned with the answer (default 5)")
    p.add_argument("--min-confidence", type=_probability, metavar="P",
                   help="withhold answers below this confidence, 0 to 1 (default: RAG_MIN_CONFIDENCE, else the "
                        "calibrated threshold)")
    p.add_argument("--json", action="store_true", help="print the API's JSON response")
    _doc_filter(p)
    _common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("locate", help="find where the corpus states a claim (or that it does not)")
    p.add_argument("claim", type=_text)
    p.add_argument("-k", type=_positive, default=3, help="most matches (default 3)")
    p.add_argument("--json", action="store_true", help="print the API's JSON response")
    _doc_filter(p)
    _common(p)
    p.set_defaults(func=cmd_locate)

    p = sub.add_parser("verify", help="check a text (an LLM's answer) sentence by sentence against the corpus")
    p.add_argument("text", type=_text, help="the text to check, or - to read it from standard input")
    p.add_argument("-k", type=_positive, default=1, help="matches per sentence (default 1)")
    p.add_argument("--citations", metavar="FILE",
                   help="the JSON of `rag context --json` the text was written from: each sentence's [n] markers "
                        "are checked against the passages they stand for")
    p.add_argument("--json", action="store_true", help="print the API's JSON response")
    _doc_filter(p)
    _common(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("context", help="numbered, cited context for prompting an LLM")
    p.add_argument("question", type=_text)
    p.add_argument("--max-chars", type=_context_chars, default=4000,
                   help=f"size budget in characters (default 4000, at least {MIN_CONTEXT_CHARS})")
    p.add_argument("--json", action="store_true")
    _doc_filter(p)
    _common(p)
    p.set_defaults(func=cmd_context)

    p = sub.add_parser("add", help="add files or folders (.txt, .md, .html, .jsonl) to the corpus and rebuild")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _common(p, corpus=True)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="remove documents from the corpus by id and rebuild")
    p.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    _common(p, corpus=True)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("list", help="list the indexed documents")
    p.add_argument("--json", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("eval", help="evaluate retrieval and answers on question files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="a Lyushkov-style .jsonl file, or a SQuAD folder / questions file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=_positive, help="evaluate at most this many questions per set")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--fusion", choices=["weighted", "rrf"], default="weighted")
    p.add_argument("--chunk-chars", type=_positive)
    p.add_argument("--chunk-overlap", type=int)
    p.add_argument("--no-answers", action="store_true", help="skip the answer metrics (retrieval only)")
    p.add_argument("--details", type=Path, metavar="FILE", help="append per-question results and answers to FILE")
    p.add_argument("--store", metavar="URL", help="evaluate on this PostgreSQL store instead of a temporary local "
                   "index (its current generation is replaced by the set's documents: use a scratch database)")
    _common(p, corpus=True)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve the HTTP API (builds the index first when missing or stale)")
    _common(p, corpus=True)
    p.add_argument("--host", help="address to listen on (default: 127.0.0.1, or RAG_HOST)")
    p.add_argument("--port", type=int, help="port (default: 8000, or RAG_PORT)")
    p.add_argument("--workers", type=_positive, default=1,
                   help="server processes sharing the port and the index (2 on 2 cores: docs/benchmarks.md)")
    p.set_defaults(func=cmd_serve)
    return top


def _doc_filter(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", dest="doc_ids", action="append", metavar="DOC_ID",
                   help="use only this document (repeat for several; `rag list` shows the ids)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. --index or --corpus names a file, not a folder; no permission; disk full
        where = f": {exc.filename}" if exc.filename else ""
        hint = "; a folder was expected there" if isinstance(exc, (FileExistsError, NotADirectoryError)) else ""
        print(f"error: {exc.strerror or exc}{where}{hint}", file=sys.stderr)
        return 2
