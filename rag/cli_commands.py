"""The ``rag`` subcommands: each imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.claims import Match


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


def _retriever(args: argparse.Namespace, engine: Any = None):  # noqa: ANN202 - rag.retrieval.Retriever
    """The engine's retriever, once the ``--doc`` ids (if any) are known to be indexed."""
    retriever = (engine or _engine(args)).retriever
    retriever.index.check_doc_ids(getattr(args, "doc_ids", None))
    return retriever


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

    retriever = _retriever(args)
    result = retriever.search(args.query, k=args.k, mode=args.mode, doc_ids=args.doc_ids)
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
    retriever = _retriever(args, engine)
    threshold = args.min_confidence if args.min_confidence is not None else engine.settings.min_confidence
    result = ask(retriever, args.question, k=args.k, min_confidence=threshold, doc_ids=args.doc_ids)
    if args.json:
        _print_json(with_metadata(to_dict(result), retriever.index.documents))
        return 0
    if result.answer is None:
        print(f"Not in the corpus: no passage supports an answer with confidence {result.min_confidence:g} or more "
              "(lower it with --min-confidence; `rag search` shows the closest passages).")
    else:
        a = result.answer
        if a.short is not None:
            print(f"{a.short.text}  ({a.doc_id} {a.short.start}:{a.short.end})")
        print(a.text)
        print(f"— {a.citation.label} ({a.doc_id} {a.start}:{a.end}), confidence {a.confidence:.2f}")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    from rag.documents import to_dict, with_metadata
    from rag.verify import locate_claim

    retriever = _retriever(args)
    result = locate_claim(retriever, args.claim, k=args.k, doc_ids=args.doc_ids)
    if args.json:
        _print_json(with_metadata(to_dict(result), retriever.index.documents))
        return 0
    print("supported" if result.supported else "not supported by the corpus")

    def show(matches: Sequence[Match], indent: str) -> None:
        for m in matches:
            conflicts = "".join(f" [conflict: claim {c.claim} vs source {c.source}]" for c in m.conflicts)
            conflicts += f" [not stated here: {', '.join(m.missing)}]" if m.missing else ""
            print(f"{indent}- {m.match} {m.score:.3f} {m.citation.label} ({m.doc_id} {m.start}:{m.end}){conflicts}")
            print(f"{indent}  {m.text}")

    if result.parts:  # a claim that joins facts: each clause with its matches, then the whole claim's
        print(f"checked in {len(result.parts)} parts:")
        for part in result.parts:
            print(f"  [{'supported' if part.supported else 'NOT SUPPORTED'}] {part.claim}  "
                  f"(claim {part.start}:{part.end})")
            show(part.matches, "    ")
        print("closest to the whole claim:")
    show(result.matches, "")
    return 0


def _citation_table(path: str | None) -> list[Any] | None:
    """The citation table of ``rag context --json`` (the whole response, or only its ``citations`` list)."""
    from rag.errors import InvalidRequestError
    from rag.verify import CitedSpan

    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequestError(f"--citations {path}: cannot read it as JSON ({exc})") from None
    rows = data.get("citations") if isinstance(data, dict) else data

    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and whole(r.get("n")) and whole(r.get("start")) and whole(r.get("end"))
            and isinstance(r.get("doc_id"), str) and r["start"] <= r["end"] for r in rows):
        raise InvalidRequestError(f"--citations {path}: expected the output of `rag context --json` (a citations "
                                  "list of {n, doc_id, start, end}, whole numbers with start <= end)")
    return [CitedSpan(r["n"], r["doc_id"], r["start"], r["end"]) for r in rows]


def _stdin_text() -> str:
    """Standard input as UTF-8 (whatever the locale says), or a clear error."""
    from rag.errors import InvalidRequestError

    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # replaced by a text stream
        return sys.stdin.read()
    try:
        return raw.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"standard input is not valid UTF-8 (byte {exc.start}): check its encoding") from None


def cmd_verify(args: argparse.Namespace) -> int:
    from rag.documents import to_dict, with_metadata
    from rag.verify import MAX_CLAUSES_CHECKED, MIN_WORDS, Part, Statement, verify

    text = _stdin_text() if args.text == "-" else args.text
    citations = _citation_table(args.citations)
    retriever = _retriever(args)
    result = verify(retriever, text, k=args.k, citations=citations, doc_ids=args.doc_ids)
    if args.json:
        _print_json(with_metadata(to_dict(result), retriever.index.documents))
        return 0
    def show(st: Statement | Part, indent: str, best: bool) -> None:  # ``best``: with its best match
        mark = "supported" if st.supported else "NOT SUPPORTED"
        cited = {True: ", in a cited passage", False: ", NOT in the passages it cites", None: ""}[st.cited]
        print(f"{indent}[{mark}{cited}] {st.claim}  (text {st.start}:{st.end})")
        if st.matches and best:
            m = st.matches[0]
            notes = "".join(f" [conflict: claim {c.claim} vs source {c.source}]" for c in m.conflicts)
            notes += f" [not stated here: {', '.join(m.missing)}]" if m.missing else ""
            print(f"{indent}  {m.match} {m.score:.3f} {m.citation.label} ({m.doc_id} {m.start}:{m.end}){notes}")
            print(f"{indent}  {m.text}")

    for st in result.statements:
        show(st, "", best=not st.parts)  # a sentence checked by its parts: each part's best match instead
        if st.parts:
            print(f"  checked in {len(st.parts)} parts:")
            for part in st.parts:
                show(part, "  ", best=True)
    if not result.statements:
        print(f"nothing to check: no sentence of {MIN_WORDS} or more words")
        return 0
    print(f"{result.supported} of {len(result.statements)} statements supported")
    if result.uncut:
        print(f"{result.uncut} sentences joining clauses were checked whole: at most {MAX_CLAUSES_CHECKED} clauses "
              "are checked on their own at once", file=sys.stderr)
    return 0


def cmd_context(args: argparse.Namespace) -> int:
    from rag.answering import build_context
    from rag.documents import to_dict

    retriever = _retriever(args)
    result = build_context(retriever, args.question, max_chars=args.max_chars, doc_ids=args.doc_ids)
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

