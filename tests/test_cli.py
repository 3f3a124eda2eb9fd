from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag.cli import main
from rag.config import Settings


def test_import_and_help_do_not_load_torch() -> None:
    code = (
        "import sys, rag, rag.cli\n"
        "try:\n    rag.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'bm25s') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def _args(settings: Settings) -> list[str]:
    return ["--index", str(settings.index_dir), "--embedder", "fake"]


def test_build_then_search_json(fake_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--corpus", str(fake_settings.corpus_dir), *_args(fake_settings), "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["built"] is True and built["documents"] == 2
    assert main(["build", "--corpus", str(fake_settings.corpus_dir), *_args(fake_settings), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["built"] is False and again["generation"] == built["generation"]  # the current one, not null
    assert main(["search", "Bernoulli numbers", "-k", "2", "--json", *_args(fake_settings)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "Bernoulli numbers" and data["mode"] == "hybrid" and data["index_version"]
    assert 1 <= len(data["results"]) <= 2
    first = data["results"][0]
    assert {"rank", "score", "chunk_id", "doc_id", "title", "section", "start", "end", "text",
            "highlights", "citation"} <= set(first)
    assert "Bernoulli" in first["text"]


def test_human_output_marks_the_highlight(built_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "Bernoulli numbers", "-k", "1", *_args(built_settings)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. [") and "«" in out and "»" in out and "Ada Lovelace § Work" in out


def test_missing_index_is_one_clear_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["search", "anything", "--index", str(tmp_path / "none"), "--embedder", "fake"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: no index") and "rag build" in err and "Traceback" not in err


def test_bad_arguments_exit_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", "x", "-k", "0"])
    assert exc.value.code == 2 and "not positive" in capsys.readouterr().err


def test_empty_corpus_is_an_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c").mkdir()
    code = main(["build", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"), "--embedder", "fake"])
    assert code == 2 and "no readable documents" in capsys.readouterr().err


def test_verify_a_text_written_from_a_context(built_settings: Settings, tmp_path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    assert main(["context", "Where was Ada born?", "--max-chars", "600", "--json", *_args(built_settings)]) == 0
    table = tmp_path / "context.json"
    table.write_text(capsys.readouterr().out, encoding="utf-8")
    n = next(c["n"] for c in json.loads(table.read_text())["citations"] if "born in London" in c["text"])
    text = f"Ada was born in London on 10 December 1815 [{n}]. Ada was born in Paris in 1816."
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["verify", "-", "--citations", str(table), "--json", *_args(built_settings)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["supported"], s["cited"]) for s in data["statements"]] == [(True, True), (False, None)]
    assert all(text[s["start"]:s["end"]] == s["text"] for s in data["statements"])
    assert main(["verify", text, *_args(built_settings)]) == 0
    out = capsys.readouterr().out
    assert "[supported]" in out and "[NOT SUPPORTED]" in out and "1 of 2 statements supported" in out


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    ('{"citations": [{"n": "one"}]}', "expected the output"),
    ('[{"n": Infinity, "doc_id": "tea", "start": 0, "end": 10}]', "expected the output"),
    ('[{"n": 1e400, "doc_id": "tea", "start": 0, "end": 10}]', "expected the output"),
    ('[{"n": 1, "doc_id": null, "start": 0, "end": 10}]', "expected the output"),
    ('[{"n": 1, "doc_id": "tea", "start": 10, "end": 0}]', "expected the output"),
    ('{"foo": 1}', "expected the output"),
    ("\xff", "cannot read"),
])
def test_verify_with_an_unreadable_citation_table(built_settings: Settings, tmp_path, content: str | None,
                                                  message: str, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "table.json"
    if content is not None:
        table.write_bytes(content.encode("latin-1") if content == "\xff" else content.encode())
    code = main(["verify", "Ada was born in London.", "--citations", str(table), *_args(built_settings)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_verify_refuses_standard_input_that_is_not_utf8(built_settings: Settings, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Ada was born \xff in London.")))
    code = main(["verify", "-", *_args(built_settings)])
    err = capsys.readouterr().err
    assert code == 2 and "not valid UTF-8" in err and "Traceback" not in err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Yes. No.")))
    assert main(["verify", "-", *_args(built_settings)]) == 0
    assert "nothing to check" in capsys.readouterr().out
