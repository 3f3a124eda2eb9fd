"""locate's normalized matches across Unicode forms: composed/decomposed accents, ligatures, invisible
format characters and full-width letters compare equal, and the match keeps exact source offsets."""

from __future__ import annotations

import unicodedata

import pytest

from rag.claims import locate, normalize
from rag.config import Settings
from rag.retrieval import Retriever
from rag.service import Engine, build
from tests.conftest import write_corpus

CAFE = "The café opened its doors in 1921 and served émigré writers."
FINAL = "The ﬁnal report was signed by the committee in June."  # U+FB01 ligature, as PDFs give it
HYPHEN = "A lighthouse keeper lived on the is\u00adland for forty years."  # soft hyphen in the source
DECOMPOSED = unicodedata.normalize("NFD", "Zoë met the naïve painter in Zürich.")


@pytest.fixture(scope="module")
def unicode_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    root = tmp_path_factory.mktemp("unicode")
    text = "= Notes =\n\n" + " ".join([CAFE, FINAL, HYPHEN, DECOMPOSED]) + "\n"
    corpus = write_corpus(root / "corpus", {"notes.txt": text})
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=root / "index", chunk_chars=300)
    build(settings)
    return Engine(settings).retriever


@pytest.mark.parametrize(("claim", "source"), [
    (unicodedata.normalize("NFD", CAFE), CAFE),  # decomposed claim, composed source
    (unicodedata.normalize("NFC", DECOMPOSED), DECOMPOSED),  # composed claim, decomposed source
    (FINAL.replace("ﬁ", "fi"), FINAL),  # the source's ligature
    (HYPHEN.replace("\u00ad", ""), HYPHEN),  # the source's soft hyphen
    (CAFE.replace("doors", "do\u200bors"), CAFE),  # a zero-width space in the claim
    (CAFE.replace("The café", "Ｔｈｅ café"), CAFE),  # full-width letters
])
def test_unicode_variants_are_normalized_matches_at_exact_offsets(unicode_retriever: Retriever, claim: str,
                                                                  source: str) -> None:
    result = locate(unicode_retriever, claim)
    m = result.matches[0]
    text = unicode_retriever.index.documents["notes"].text
    assert result.supported and m.match == "normalized"
    assert (m.start, m.end) == (text.index(source), text.index(source) + len(source))
    assert text[m.start:m.end] == m.text == source


def test_a_missing_accent_is_not_a_normalized_match(unicode_retriever: Retriever) -> None:
    result = locate(unicode_retriever, "The cafe opened its doors in 1921")
    assert result.matches and all(m.match == "paraphrase" for m in result.matches)


def test_normalize_maps_every_folded_character_to_its_source() -> None:
    text = "Ｚoë\u00ad ﬁ  “x”"
    folded, offsets = normalize(text)
    assert folded == unicodedata.normalize("NFKD", "zoë") + " fi \"x\""
    assert len(offsets) == len(folded) and list(offsets) == sorted(offsets)
    assert all(0 <= o < len(text) for o in offsets)


def test_normalize_handles_a_large_document() -> None:
    text = "Zoë ﬁnal\u00ad café " * 20000
    folded, offsets = normalize(text)
    assert len(offsets) == len(folded) > len(text) // 2
