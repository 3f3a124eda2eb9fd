"""The ``rag`` command: build, search, ask, locate, context, eval, serve.

Each subcommand imports what it needs only when it runs, so ``rag --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag import __version__
from rag.errors import RagError

MIN_CONTEXT_CHARS = 200  # the smallest context budget, as in the API (POST /v1/context max_chars)

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace):  # noqa: ANN202 - rag.config.Settings
    from rag.config import load_settings

    overrides: dict[str, Any] = {}
    for name in ("corpus_dir", "index_dir", "host", "port", "embedder", "chunk_chars", "chunk_overlap", "store"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return load_settings(**overrides)


def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    if getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    return lambda msg: print(f"… {msg}", file=sys.stderr, flush=True)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _engine(args: argparse.Namespace, *, ensure: bool = False):  # noqa: ANN202 - rag.service.Engine
    from rag.service import Engine, build

    settings = _settings(args)
    if ensure:
        build(settings, progress=_progress(args))
    return Engine(settings)


# -- commands ----------------------------------------------------------------------------------
def cmd_build(args: argparse.Namespace) -> int:
    from rag.service import build

    report = build(_settings(args), force=args.force, progress=_progress(args))
    for problem in report.problems:
        print(f"warning: skipped {problem}", file=sys.stderr)
    if args.json:
        _print_json({"built": report.built, "generation": report.name,
                     "documents": report.documents, "skipped": report.problems})
    elif report.built:
        print(f"built {report.describe()}")
    else:
        print("index is up to date")
    return 0


def _mark(text: str, start: int, spans: Sequence[tuple[int, int]]) -> str:
    """Wrap highlighted spans (absolute offsets) of a passage text in « »."""
    out, pos = [], 0
    for s, e in sorted(spans):
        s, e = max(s - start, pos), e - start
        if s >= e:
            continue
        out += [text[pos:s], "«", text[s:e], "»"]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def cmd_search(args: argparse.Namespace) -> int:
    from rag.documents import to_dict, with_metadata

    retriever = _engine(args).retriever
    result = retriever.search(args.query, k=args.k, mode=args.mode)
    if args.json:  # as POST /v1/search answers, with each document's url and metadata
        passages = with_metadata(to_dict(result.passages), retriever.index.documents)
        _print_json({"query": args.query, "mode": args.mode, "index_version": retriever.index.version,
                     "took_ms": round(result.took_ms, 3), "results": passages})
        return 0
    if not result.passages:
        print("no results")
    for p in result.passages:
        print(f"{p.rank}. [{p.score:.3f}] {p.citation.label}  ({p.doc_id} {p.start}:{p.end})")
        marked = _mark(p.text, p.start, [(h.start, h.end) for h in p.highlights[:1]])
        print("   " + marked.replace("\n", "\n   "))
        print()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answering import ask
    from rag.documents import to_dict, with_metadata

    engine = _engine(args)
    retriever = engine.retriever
    threshold = args.min_confidence if args.min_confidence is not None else engine.settings.min_confidence
    result = ask(retriever, args.question, k=args.k, min_confidence=threshold)
    if args.json:
        _print_json(with_metadata(to_dict(result), retriever.index.documents))
        return 0
    if result.answer is None:
        print(f"Not in the corpus: no passage supports an answer with confidence {result.min_confidence:g} or more "
              "(lower it with --min-confidence; `rag search` shows the closest passages).")
    else:
        a = result.answer
        print(a.text)
        print(f"— {a.citation.label} ({a.doc_id} {a.start}:{a.end}), confidence {a.confidence:.2f}")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    from rag.answering import locate
    from rag.documents import to_dict, with_metadata

    retriever = _engine(args).retriever
    result = locate(retriever, args.claim, k=args.k)
    if args.json:
        _print_json(with_metadata(to_dict(result), retriever.index.documents))
        return 0
    print("supported" if result.supported else "not supported by the corpus")
    for m in result.matches:
        conflicts = "".join(f" [conflict: claim {c.claim} vs source {c.source}]" for c in m.conflicts)
        print(f"- {m.match} {m.score:.3f} {m.citation.label} ({m.doc_id} {m.start}:{m.end}){conflicts}")
        print(f"  {m.text}")
    return 0


def cmd_context(args: argparse.Namespace) -> int:
    from rag.answering import build_context
    from rag.documents import to_dict

    retriever = _engine(args).retriever
    result = build_context(retriever, args.question, max_chars=args.max_chars)
    if args.json:
        _print_json(to_dict(result))
    else:
        print(result.context)
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from rag.service import build

    report = build(_settings(args), progress=_progress(args))
    if report.built:
        print(f"built {report.describe()}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from rag.ingest import add_paths, load_paths
    from rag.service import change_documents, write_lock

    settings = _settings(args)
    if settings.store != "local":  # the database's current generation is the corpus of record
        docs = load_paths(args.paths)
        report = change_documents(settings, add=docs, progress=_progress(args))
        print(f"added {len(docs)} document(s): {', '.join(sorted(d.doc_id for d in docs))}")
        print(f"built {report.describe()}" if report.built else "index is up to date")
        return 0
    with write_lock(settings.index_dir):  # the corpus change and its build, as one writer
        added = add_paths(settings.corpus_dir, args.paths)
        print(f"added {len(added)} document(s): {', '.join(added)}")
        return _rebuild(args)


def cmd_remove(args: argparse.Namespace) -> int:
    from rag.ingest import remove_documents
    from rag.service import change_documents, write_lock

    settings = _settings(args)
    if settings.store != "local":
        report = change_documents(settings, remove=args.doc_ids, progress=_progress(args))
        print(f"removed {len(args.doc_ids)} document(s): {', '.join(sorted(args.doc_ids))}")
        print(f"built {report.describe()}" if report.built else "index is up to date")
        return 0
    with write_lock(settings.index_dir):
        removed = remove_documents(settings.corpus_dir, args.doc_ids, keep_one=True)  # as DELETE /v1/documents
        print(f"removed {len(removed)} document(s): {', '.join(removed)}")
        return _rebuild(args)


def cmd_list(args: argparse.Namespace) -> int:
    from rag.stores import open_store

    settings = _settings(args)
    index = open_store(settings).load(verify=False)
    counts: dict[str, int] = {}
    for chunk in index.chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    rows = [{"doc_id": d.doc_id, "title": d.title, "chars": len(d.text), "chunks": counts.get(d.doc_id, 0),
             "source": d.source, "sha256": d.sha256} for d in index.documents.values()]
    if args.json:
        _print_json({"index_version": index.version, "documents": rows})
        return 0
    for row in rows:
        print(f"{row['doc_id']}\t{row['chunks']} chunks\t{row['chars']} chars\t{row['title']}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluation import run_cli

    return run_cli(args, _settings(args), progress=_progress(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.api import serve

    settings = _settings(args)
    return serve(settings, progress=_progress(args) or (lambda m: print(f"… {m}", file=sys.stderr, flush=True)),
                 workers=args.workers)


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
    _common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with a cited span, or say it is not in the corpus")
    p.add_argument("question", type=_text)
    p.add_argument("-k", type=_positive, default=5, help="evidence passages returned with the answer (default 5)")
    p.add_argument("--min-confidence", type=_probability, metavar="P",
                   help="withhold answers below this confidence, 0 to 1 (default: RAG_MIN_CONFIDENCE, else the "
                        "calibrated threshold)")
    p.add_argument("--json", action="store_true", help="print the API's JSON response")
    _common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("locate", help="find where the corpus states a claim (or that it does not)")
    p.add_argument("claim", type=_text)
    p.add_argument("-k", type=_positive, default=3, help="most matches (default 3)")
    p.add_argument("--json", action="store_true", help="print the API's JSON response")
    _common(p)
    p.set_defaults(func=cmd_locate)

    p = sub.add_parser("context", help="numbered, cited context for prompting an LLM")
    p.add_argument("question", type=_text)
    p.add_argument("--max-chars", type=_context_chars, default=4000,
                   help=f"size budget in characters (default 4000, at least {MIN_CONTEXT_CHARS})")
    p.add_argument("--json", action="store_true")
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
