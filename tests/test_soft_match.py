"""Soft coverage (rag/soft_match.py): a question's words matched in meaning by token vectors, or lexically."""

from __future__ import annotations

import numpy as np
import pytest

from rag.calibration import CorpusStats, analyse_question
from rag.embedder_base import FakeEmbedder
from rag.lexical import tokenize
from rag.soft_match import soft_coverage, token_vectors

SENTENCE = "On 13 June 1938, Lyushkov defected from the Soviet Union by crossing the border."


def stats_for(*sentences: str) -> CorpusStats:
    tokens = tuple(frozenset(tokenize(s)) for s in sentences)
    df: dict[str, int] = {}
    for toks in tokens:
        for t in toks:
            df[t] = df.get(t, 0) + 1
    return CorpusStats(tokens, df, len(tokens), tuple(frozenset() for _ in sentences))


def test_every_word_present_is_full_coverage() -> None:
    stats = stats_for(SENTENCE, "Tea is a drink.")
    question = "When did Lyushkov defect from the Soviet Union?"
    info = analyse_question(question)
    vectors = token_vectors(FakeEmbedder(), [question, SENTENCE])
    assert vectors is not None
    assert soft_coverage(question, info, stats, stats.sentence_tokens[0], (vectors[0], vectors[1])) == (1.0, 1.0)


def test_a_missing_word_counts_by_its_best_match_and_sets_the_minimum() -> None:
    """The fake embedder gives words of the same first five letters one vector: "defectors" (not the stem of
    "defected") is missing as written but matched by its vector, scoring ~1; "hotel" matches nothing; without
    vectors a missing word counts 0."""
    stats = stats_for(SENTENCE, "Tea is a drink.", "The hotel was in Tokyo.")
    sentence_tokens = stats.sentence_tokens[0]
    for question, matched in (("Lyushkov defectors?", True), ("Which hotel did Lyushkov use?", False)):
        info = analyse_question(question)
        (q, s) = token_vectors(FakeEmbedder(), [question, SENTENCE]) or []
        soft, lowest = soft_coverage(question, info, stats, sentence_tokens, (q, s))
        lexical, lexical_lowest = soft_coverage(question, info, stats, sentence_tokens, None)
        assert lexical_lowest == 0.0 and lexical < 1.0
        assert lexical <= soft <= 1.0 and lowest <= 1.0
        assert (lowest > 0.99) == matched


def test_no_content_words_and_no_vectors() -> None:
    stats = stats_for(SENTENCE)
    info = analyse_question("Who?")
    assert soft_coverage("Who?", info, stats, stats.sentence_tokens[0], None) == (0.0, 1.0)
    assert token_vectors(object(), ["a"]) is None  # an embedder without token vectors: the lexical values


@pytest.mark.parametrize("text", ["", "   ", "Lyushkov", "Люшков убил", "a\u0301b", "x" * 3000])
def test_fake_token_vectors_slice_their_words(text: str) -> None:
    ((offsets, vectors),) = FakeEmbedder().token_vectors([text])
    assert len(offsets) == len(vectors)
    for (a, b), v in zip(offsets, vectors, strict=True):
        assert text[a:b].strip() == text[a:b] != ""
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


@pytest.mark.parametrize("question", ["Where did the chief run-away to?", "Where did Lyushkov fle\u0301e to?"])
def test_every_word_of_a_hyphenated_or_decomposed_word_gets_its_pieces(question: str) -> None:
    """Question tokens come from ``tokenize`` over the whole text; each must find the word pieces of the word
    it comes from, or it would count as matching nothing (a review's find)."""
    from rag.soft_match import _word_pieces

    info = analyse_question(question)
    ((offsets, _),) = FakeEmbedder().token_vectors([question])
    assert set(_word_pieces(question, info, offsets)) == set(info.tokens)


@pytest.mark.parametrize(("question", "expected"), [
    ("Who was the first director of the CIA?", ("CIA",)),
    ("Who won the 1938 FIFA World Cup?", ("FIFA", "World", "Cup")),
    ("When did Lyushkov defect to the Soviet Union?", ()),  # names the index uses
    ("What did Lyushkov plan to publish in America?", ()),  # "American" starts the same way
    ("What did the Lyushkov do?", ()),
    ("who was the first director of the cia?", ()),  # typed in lower case: no name to read
    ("", ()),
])
def test_names_the_index_never_uses(question: str, expected: tuple[str, ...]) -> None:
    from rag.calibration import unknown_names

    stats = stats_for(SENTENCE, "An American publisher met him in 1938.", "He won the game.")
    stats = CorpusStats(stats.sentence_tokens, stats.df, stats.n, stats.label_tokens,
                        prefixes=frozenset(t[:5] for t in stats.df if len(t) >= 5))
    assert unknown_names(question, stats.knows) == expected
