"""Bad command-line values are refused with a message on stderr and a non-zero exit."""
from __future__ import annotations

import pytest

from rag.cli import main
from rag.config import Settings


@pytest.mark.parametrize("value", ["1", "199"])
def test_context_budget_too_small_for_any_passage_is_refused(
        built_settings: Settings, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["context", "tea", "--max-chars", value, "--index", str(built_settings.index_dir), "--embedder", "fake"])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert "--max-chars" in captured.err and "at least 200" in captured.err and not captured.out


def test_context_budget_of_200_gives_a_context(built_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["context", "tea", "--max-chars", "200", "--index", str(built_settings.index_dir),
                 "--embedder", "fake"]) == 0
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("command", ["search", "ask", "locate", "context"])
def test_text_that_is_not_utf8_is_refused(
        built_settings: Settings, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")  # how Python hands non-UTF-8 argv bytes over
    with pytest.raises(SystemExit) as exc:
        main([command, text, "--index", str(built_settings.index_dir), "--embedder", "fake"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["build"], ["list"], ["search", "tea"]])
def test_index_path_that_is_a_file_is_one_clear_error(
        tmp_path, corpus_dir, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    not_a_folder = tmp_path / "index"
    not_a_folder.write_text("I am a file")
    code = main([*command, "--index", str(not_a_folder), "--embedder", "fake",
                 *(["--corpus", str(corpus_dir)] if command == ["build"] else [])])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(not_a_folder) in err and "Traceback" not in err
    assert not_a_folder.read_text() == "I am a file"


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("RAG_QUERY_BATCH", "zero", ["RAG_QUERY_BATCH"]),
    ("RAG_QUERY_SLOTS", "0", ["RAG_QUERY_SLOTS"]),
    ("RAG_MAX_UPLOAD_BYTES", "2048", ["RAG_MAX_UPLOAD_BYTES", "RAG_MAX_DOCUMENT_BYTES"]),  # two fields together
])
def test_a_bad_environment_variable_is_one_error_naming_it(
        built_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        variable: str, value: str, named: list[str]) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["list", "--index", str(built_settings.index_dir), "--embedder", "fake"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: invalid settings: ") and not captured.out
    assert all(name in captured.err for name in named), captured.err
    assert "Traceback" not in captured.err and "Value error" not in captured.err
