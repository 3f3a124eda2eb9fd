"""What a new user meets following the README: the commands' JSON, messages and exit statuses."""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.cli import main


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
