"""BM25 over chunks or sentences (bm25s, saved as .npy + JSON, never pickled)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

_TOKEN = re.compile(r"\w+", re.UNICODE)
TOKENIZER_ID = "word-lower-fold-en-stop-q-snowball-v3"
# Function words and question words on top of bm25s's short English list: in a question such as
# "When did Lyushkov defect?" only "Lyushkov" and "defect" carry evidence.
_EXTRA = (
    """what when where which who whom whose why how did do does doing done was were been being has have
    had having am i me my we our you your he him his she her hers its them they their theirs us from
    can could would should shall may might must about also than too very so s t d ll re ve what's
    after before during while over under again further once here all any both each few more most other
    some own same only just up down out off until against between through above below those because"""
)
EXTRA_STOPWORDS = frozenset(_EXTRA.split())


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | EXTRA_STOPWORDS


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - PyStemmer is a declared dependency
        return None
    return Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower case without accents on Latin letters or compatibility forms: "Zürich" → "zurich", "ﬁnal" →
    "final", "Ｔｅａ" → "tea", so a query typed without accents finds the accented word (and the reverse)."""
    text = text.lower()
    if text.isascii():
        return text
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue  # an accent on a Latin letter; "й" stays "й" (other scripts' marks make other letters)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def tokenize(text: str) -> list[str]:
    """Folded (``fold``) word tokens without English stop words, Snowball-stemmed."""
    stop = _stopwords()
    words = [w for w in _TOKEN.findall(fold(text)) if w not in stop]
    stemmer = _stemmer()
    return stemmer.stemWords(words) if stemmer is not None and words else words


@lru_cache(maxsize=4096)
def stem_word(word: str) -> str | None:
    """The single index token of one word ("killed" → "kill"); None for a stop word or a word that splits."""
    tokens = tokenize(word)
    return tokens[0] if len(tokens) == 1 else None


class LexicalIndex:
    """A BM25 index over a fixed list of texts; ``scores`` gives every text's score for a query."""

    def __init__(self, retriever, size: int) -> None:  # noqa: ANN001
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        tokens = [tokenize(t) or [""] for t in texts]
        retriever = bm25s.BM25()
        if texts:
            # Token ids in order of first occurrence: bm25s numbers a set of tokens, whose order changes
            # with the hash seed, so an unchanged corpus would give different files in each process.
            vocab: dict[str, int] = {}
            ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
            retriever.index((ids, vocab), show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder), show_progress=False, allow_pickle=False)
        (folder / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> LexicalIndex:
        import bm25s

        size = int((folder / "size.txt").read_text())
        if size == 0:
            return cls(bm25s.BM25(), 0)
        retriever = bm25s.BM25.load(str(folder), mmap=mmap, allow_pickle=False, show_progress=False)
        return cls(retriever, size)

    def known(self, query_tokens: Sequence[str]) -> list[str]:
        """The distinct query tokens that occur in the index, in query order."""
        if not self.size:
            return []
        return [t for t in dict.fromkeys(query_tokens) if t and t in self._retriever.vocab_dict]

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every indexed text (zeros when no query token is in the vocabulary)."""
        known = self.known(query_tokens)
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def scores_and_coverage(self, query_tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """BM25 scores, the IDF-weighted share of the query's known tokens each text contains, and
        how many distinct query tokens each text contains.

        Tokens unknown to the index count in none (so a query of unknown words covers nothing).
        """
        known = self.known(query_tokens)
        total = np.zeros(self.size, dtype=np.float32)
        covered = np.zeros(self.size, dtype=np.float32)
        matches = np.zeros(self.size, dtype=np.int32)
        if not known:
            return total, covered, matches
        idf_sum = 0.0
        for token in known:
            per = np.asarray(self._retriever.get_scores([token]), dtype=np.float32)
            present = per > 0
            df = int(present.sum())
            idf = float(np.log(1.0 + (self.size - df + 0.5) / (df + 0.5)))
            total += per
            covered += idf * present
            matches += present
            idf_sum += idf
        return total, (covered / idf_sum if idf_sum > 0 else covered), matches
