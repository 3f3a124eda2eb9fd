"""What a new user meets following the README: the commands' JSON, messages and exit statuses."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import Settings

ROW = {"doc_id": "kites", "title": "Kites", "text": "Kites fly on strings. The Gribble kite is 42 metres long.",
       "url": "https://example.org/kites", "metadata": {"lang": "en", "year": 2024}}


@pytest.fixture
def jsonl_index(tmp_path: Path) -> list[str]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rows.jsonl").write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    args = ["--index", str(tmp_path / "index"), "--embedder", "fake"]
    assert main(["build", "--corpus", str(corpus), *args]) == 0
    return args


@pytest.mark.parametrize(("command", "text"), [("search", "Gribble kite"), ("ask", "How long is the Gribble kite?"),
                                               ("locate", "The Gribble kite is 42 metres long.")])
def test_json_output_carries_url_and_metadata_like_the_api(
        jsonl_index: list[str], command: str, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([command, text, "--json", *jsonl_index]) == 0
    data = json.loads(capsys.readouterr().out)
    found: list[dict] = []
    stack: list = [data]
    while stack:  # every citation and passage in the response
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(v for v in item.values() if isinstance(v, (list, dict)))
            if "chunk_id" in item or "label" in item and "section" in item:
                found.append(item)
    assert found, data
    for item in found:
        assert item["url"] == ROW["url"] and item["metadata"] == ROW["metadata"], item


def test_locate_says_what_the_closest_sentence_does_not_state(jsonl_index: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["locate", "The Zorbo kite is 42 metres long", *jsonl_index]) == 0
    out = capsys.readouterr().out
    assert out.startswith("not supported by the corpus")
    assert "[not stated here: Zorbo]" in out.splitlines()[1] and "The Gribble kite is 42 metres long." in out


@pytest.mark.parametrize(("name", "content"), [
    ("notes.txt", b"Plain prose, not JSON Lines.\n"),
    ("latin1.jsonl", b'{"id": "q1", "question": "caf\xe9?"}\n'),
    ("rows.jsonl", b'[1, 2]\n'),
    ("missing.jsonl", b'{"id": "q1", "question": "Who?", "answerable": true}\n'),  # no evidence offsets
    ("broken.jsonl.gz", b"not gzip"),
])
def test_eval_on_a_file_that_is_not_a_question_file_is_one_clear_error(
        tmp_path: Path, name: str, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["eval", str(path), "--embedder", "fake"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {path}") and captured.err.count("\n") == 1, captured.err
    assert "docs/evaluation.md" in captured.err and not captured.out


def test_eval_on_a_missing_path_says_what_to_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path / "lyushkov_qa.jsonl"), "--embedder", "fake"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and ".jsonl question file or a SQuAD folder" in err


def test_remove_refuses_to_empty_the_corpus_and_changes_nothing(
        built_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, index = built_settings.corpus_dir, built_settings.index_dir
    before = sorted(p.name for p in corpus.iterdir())
    current = (index / "CURRENT").read_text()
    args = ["--corpus", str(corpus), "--index", str(index), "--embedder", "fake"]
    assert main(["remove", "ada_lovelace", "tea", *args]) == 2  # every document: as DELETE of the last one (409)
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "at least one" in captured.err and not captured.out
    assert sorted(p.name for p in corpus.iterdir()) == before and (index / "CURRENT").read_text() == current
    assert main(["remove", "tea", *args]) == 0  # one of two is fine
    assert "removed 1 document(s): tea" in capsys.readouterr().out


@pytest.mark.parametrize(("option", "named"), [(["--chunk-chars", "5"], "RAG_CHUNK_CHARS"),
                                               (["--chunk-overlap", "-3"], "RAG_CHUNK_OVERLAP"),
                                               (["--store", "sqlite://x"], "RAG_STORE")])
def test_eval_options_are_checked_like_the_settings(
        tmp_path: Path, option: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "The Zorblat river flows through Quenton. It is 300 km long.\n"
    (corpus / "zorb.txt").write_text(text, encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Where does the Zorblat flow?", "answerable": True,
                                     "answer": "Quenton", "evidence_start": 0, "evidence_end": 40, "doc": "zorb"})
                         + "\n", encoding="utf-8")
    args = ["eval", str(questions), "--corpus", str(corpus), "--embedder", "fake", "--no-answers"]
    assert main(args) == 0  # the file and corpus are fine
    capsys.readouterr()
    assert main([*args, *option]) == 2  # as RAG_CHUNK_CHARS=5 is refused by every command
    captured = capsys.readouterr()
    assert captured.err.startswith("error: invalid settings: ") and named in captured.err and not captured.out


@pytest.mark.parametrize("damage", ["chunks.jsonl", "dense.faiss"])
def test_the_command_a_damaged_index_names_repairs_it(built_settings: Settings, damage: str,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_CHUNK_CHARS", str(built_settings.chunk_chars))  # the settings it was built with
    index = built_settings.index_dir
    generation = index / "generations" / (index / "CURRENT").read_text().strip()
    with (generation / damage).open("ab") as fh:
        fh.write(b"\ngarbage\n")
    search = ["search", "tea", "--index", str(index), "--embedder", "fake"]
    assert main(search) == 2
    err = capsys.readouterr().err
    command = err.split("run `", 1)[1].split("`", 1)[0].split()  # the command the message tells the user to run
    assert command[:2] == ["rag", "build"] and str(index) in command, err
    assert main([*command[1:], "--corpus", str(built_settings.corpus_dir), "--embedder", "fake"]) == 0
    capsys.readouterr()
    assert main(search) == 0 and "tea" in capsys.readouterr().out.lower()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_port_in_use_is_one_error_with_exit_2(
        built_settings: Settings, tmp_path: Path, workers: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "rag", "serve", "--embedder", "fake", "--corpus", str(built_settings.corpus_dir),
             "--index", str(built_settings.index_dir), "--port", str(port), "--workers", workers],
            cwd=Path(__file__).resolve().parents[1], env={**os.environ, "RAG_CHUNK_CHARS": "300"},
            capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr  # was uvicorn's 3 (README: errors exit with 2)
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot serve on 127.0.0.1:{port}") and "--port" in last, proc.stderr
    assert "Traceback" not in proc.stderr and not proc.stdout


@pytest.mark.parametrize(("name", "content", "advice"), [
    ("My Notes (v2).txt", b"Otters hold hands while they sleep.\n", "rename the file"),
    ("latin1.txt", b"Caf\xe9 au lait.\n", "save it as UTF-8"),
])
def test_add_says_how_to_fix_a_file_it_refuses(built_settings: Settings, tmp_path: Path, name: str, content: bytes,
                                               advice: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    args = ["--corpus", str(built_settings.corpus_dir), "--index", str(built_settings.index_dir), "--embedder", "fake"]
    assert main(["add", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing was added: ") and advice in err, err


@pytest.mark.parametrize("command", ["search", "ask", "locate", "context"])
def test_an_empty_query_is_one_error_saying_what_to_pass(
        built_settings: Settings, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "  ", "--index", str(built_settings.index_dir), "--embedder", "fake"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "is empty: " in captured.err, captured.err  # then what to do
    assert captured.err.count("\n") == 1 and not captured.out
