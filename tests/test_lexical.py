from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from rag.lexical import LexicalIndex, fold, tokenize

TEXTS = [
    "Lyushkov was born in Odessa in 1900.",
    "He defected to Japan in June 1938 and was debriefed in Tokyo.",
    "Yutaka Takeoka said he executed Lyushkov on 19 August 1945.",
    "Bees make honey in hives; a colony has one queen.",
    "",
]

_BUILD = """
import sys
from pathlib import Path
from rag.lexical import LexicalIndex
from tests.test_lexical import TEXTS
LexicalIndex.build(TEXTS).save(Path(sys.argv[1]))
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_saved_index_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """An unchanged corpus gives identical BM25 files in every process (str hashing is randomised)."""
    repo = Path(__file__).resolve().parents[1]
    saved = []
    for seed in ("1", "2", "3"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", _BUILD, str(out)], cwd=repo, env=env, check=True)
        saved.append(_files(out))
    assert saved[0] and saved[0] == saved[1] == saved[2]


def test_scores_are_those_of_bm25s_own_vocabulary() -> None:
    import bm25s

    ours = LexicalIndex.build(TEXTS)
    theirs = bm25s.BM25()
    theirs.index([tokenize(t) or [""] for t in TEXTS], show_progress=False)
    for query in ("Lyushkov born", "Japan Tokyo 1938", "honey queen", "executed August 1945 Lyushkov"):
        tokens = [t for t in dict.fromkeys(tokenize(query)) if t in theirs.vocab_dict]
        assert np.array_equal(ours.scores(tokenize(query)), np.asarray(theirs.get_scores(tokens), dtype=np.float32))


def test_tokens_fold_accents_on_latin_letters_and_compatibility_forms() -> None:
    assert fold("Zürich ÉMIGRÉ ﬁnal Ｔｅａ") == "zurich emigre final tea"
    assert tokenize("White émigré women") == tokenize("white emigre women")
    assert tokenize("naïve café") == tokenize("naive cafe")
    assert fold("Самойлович") == "самойлович"  # "й" is its own letter, not "и" with an accent
    assert fold("straße Ærø") == "straße ærø"  # letters without a decomposition stay
    assert fold("plain ascii") == "plain ascii"


def test_a_query_without_accents_scores_the_accented_text() -> None:
    texts = ["The café opened in Zürich in 1921.", "Tea is grown in Assam."]
    index = LexicalIndex.build(texts)
    scores = index.scores(tokenize("cafe zurich"))
    assert scores[0] > 0 and scores[1] == 0
