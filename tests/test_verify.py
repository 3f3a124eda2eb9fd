"""verify: a text checked sentence by sentence, offsets into the text as submitted, citation markers."""

from __future__ import annotations

import pytest

from rag.answering import build_context, locate
from rag.errors import InvalidRequestError
from rag.retrieval import Retriever
from rag.verify import (
    MAX_CLAUSES_CHECKED,
    MAX_STATEMENTS,
    MAX_VERIFY_CHARS,
    CitedSpan,
    locate_claim,
    statements,
    verify,
)

BIRTH = "Ada was born in London on 10 December 1815."
FATHER = "Her father was the poet Lord Byron, who left England when she was an infant."


@pytest.mark.parametrize(("text", "expected"), [
    # markers are read off the sentence they follow, before or after its full stop, with or without a space
    ("Ada was born in London [1]. Her father was Byron.[2][3] She wrote notes. [4] More words follow here.",
     [("Ada was born in London [1].", "Ada was born in London.", (1,)),
      ("Her father was Byron.[2][3]", "Her father was Byron.", (2, 3)),
      ("She wrote notes.", "She wrote notes.", (4,)),
      ("More words follow here.", "More words follow here.", ())]),
    # lists and ranges of numbers; a bullet or a list number is not part of the statement
    ("- Born in London in 1815 [1, 3-5]\n2. She died in 1852 [2]",
     [("Born in London in 1815 [1, 3-5]", "Born in London in 1815", (1, 3, 4, 5)),
      ("She died in 1852 [2]", "She died in 1852", (2,))]),
    # a list item holding two sentences is two statements; a heading is none
    ("## Her life\n\n- Ada was born in 1815 [1]. She died in 1852 [2].",
     [("Ada was born in 1815 [1].", "Ada was born in 1815.", (1,)), ("She died in 1852 [2].", "She died in 1852.", (2,))]),
    # markers after a closing quote; an abbreviation before a marker does not end the sentence
    ('"Ada was born in 1815."[1] The U.S.[2] archive says so.',
     [('"Ada was born in 1815."[1]', '"Ada was born in 1815."', (1,)),
      ("The U.S.[2] archive says so.", "The U.S. archive says so.", (2,))]),
    # a bracketed year is no marker; removing a marker leaves the words apart
    ("Ada was born in [1815]. Ada [1]was born in London.",
     [("Ada was born in [1815].", "Ada was born in [1815].", ()), ("Ada [1]was born in London.",
                                                                  "Ada was born in London.", (1,))]),
    # markers after a sentence too short to check are dropped, not given to the one before it
    ("Ada was born in London. Yes indeed. [2] She died in 1852.",
     [("Ada was born in London.", "Ada was born in London.", ()), ("She died in 1852.", "She died in 1852.", ())]),
    # fewer than three words: nothing to check; markers opening a paragraph are its first sentence's
    ("Sure!\n\n[2] Ada was born in London.", [("[2] Ada was born in London.", "Ada was born in London.", (2,))]),
    ("", []),
    ("[1] [2]", []),
])
def test_statements_keep_offsets_into_the_text(text: str, expected: list[tuple[str, str, tuple[int, ...]]]) -> None:
    found = statements(text)
    assert [(text[s:e], claim, markers) for s, e, claim, markers in found] == expected


def test_every_sentence_is_looked_up_as_locate_would(retriever: Retriever) -> None:
    text = f"Here is what I found.\n\n{BIRTH} {FATHER}  Ada was born in Paris in 1816."
    result = verify(retriever, text, k=2)
    assert [s.text for s in result.statements] == ["Here is what I found.", BIRTH, FATHER,
                                                   "Ada was born in Paris in 1816."]
    for s in result.statements:
        assert text[s.start:s.end] == s.text
        alone = locate(retriever, s.claim, k=2)
        assert s.supported == alone.supported
        assert [(m.doc_id, m.start, m.end, m.match) for m in s.matches] == \
               [(m.doc_id, m.start, m.end, m.match) for m in alone.matches]
        for m in s.matches:
            assert retriever.index.documents[m.doc_id].text[m.start:m.end] == m.text
    birth, father, wrong = result.statements[1:]
    assert birth.supported and birth.matches[0].match == "exact"
    assert father.supported
    assert not wrong.supported and wrong.matches[0].conflicts
    assert (result.supported, result.unsupported) == (sum(s.supported for s in result.statements),
                                                       sum(not s.supported for s in result.statements))
    assert result.index_version == retriever.index.version


def test_markers_are_checked_against_the_passages_they_stand_for(retriever: Retriever) -> None:
    doc = retriever.index.documents["ada_lovelace"].text
    at = doc.index(BIRTH)
    table = [CitedSpan(1, "ada_lovelace", at, at + len(BIRTH)), CitedSpan(2, "tea", 0, 50),
             CitedSpan(2, "ada_lovelace", at + len(BIRTH), at)]  # an inverted span cites nothing
    text = f"{BIRTH} [1] {BIRTH.replace('Ada', 'Lovelace')} [2] {FATHER} Ada was born in Paris in 1816 [1]."
    result = verify(retriever, text, citations=table)
    right, elsewhere, unmarked, wrong = result.statements
    assert right.markers == (1,) and right.supported and right.cited is True
    assert elsewhere.markers == (2,) and elsewhere.cited is False  # true, but not what [2] says
    assert unmarked.markers == () and unmarked.cited is None
    assert wrong.markers == (1,) and not wrong.supported and wrong.cited is False
    # without a table the markers are still read, but nothing is said about them
    assert all(s.cited is None for s in verify(retriever, text).statements)


def test_a_context_and_a_text_written_from_it(retriever: Retriever) -> None:
    context = build_context(retriever, "Where was Ada born?", max_chars=600)
    table = [CitedSpan(c.n, c.doc_id, c.start, c.end) for c in context.citations]
    cited = next(c for c in context.citations if BIRTH in c.text)
    result = verify(retriever, f"{BIRTH} [{cited.n}]", citations=table)
    assert [s.cited for s in result.statements] == [True]


@pytest.mark.parametrize(("text", "k", "message"), [
    ("   \n", 1, "empty"),
    ("Ada was born in London.", 0, "k must be"),
    ("x" * (MAX_VERIFY_CHARS + 1), 1, "at most"),
    ("Ada was born. " * (MAX_STATEMENTS + 1), 1, "sentences"),
    ("Ada was born \udcff in London.", 1, "not valid UTF-8"),  # undecodable bytes read with surrogateescape
])
def test_bad_input_is_refused_with_a_reason(retriever: Retriever, text: str, k: int, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        verify(retriever, text, k=k)


def test_unknown_documents_are_refused(retriever: Retriever) -> None:
    from rag.errors import NotFoundError

    with pytest.raises(NotFoundError):
        verify(retriever, BIRTH, doc_ids=["no_such_doc"])


def test_a_sentence_citing_the_other_place_a_fact_is_stated_is_cited(tmp_path) -> None:  # noqa: ANN001
    """An article often states a fact twice (its lead and its body): citing either place is right."""
    from rag.config import Settings
    from rag.service import Engine, build

    fact = "The bridge over the river opened to traffic in 1932."
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bridge.md").write_text(f"# Bridge\n\n{fact} It is made of steel.\n\n## History\n\nWork began in "
                                      f"1929 after a long debate. {fact}\n", encoding="utf-8")
    (corpus / "other.md").write_text("# Other\n\nA river runs through the valley.\n", encoding="utf-8")
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", chunk_chars=300)
    build(settings)
    retriever = Engine(settings).retriever
    doc = retriever.index.documents["bridge"].text
    second = doc.rindex(fact)
    table = [CitedSpan(1, "bridge", second - 30, second + len(fact)), CitedSpan(2, "other", 0, 20)]
    first, elsewhere = verify(retriever, f"{fact} [1] {fact} [2]", citations=table).statements
    assert first.matches[0].start == doc.index(fact) != second  # the best match is the first place...
    assert first.supported and first.cited is True  # ...and the cited second place states it too
    assert elsewhere.supported and elsewhere.cited is False


def test_a_sentence_joining_two_stated_facts_is_checked_clause_by_clause(retriever: Retriever) -> None:
    """No one source sentence states "born … ; died …", but each clause is stated: supported by its parts,
    each with its own offsets into the text, lookup and matches, as locate gives them."""
    text = "In short: Ada was born in London on 10 December 1815; she died of uterine cancer on 27 November 1852 [1]."
    st = verify(retriever, text).statements[0]
    assert [(p.text, p.claim, p.markers) for p in st.parts] == [
        ("In short: Ada was born in London on 10 December 1815", "In short: Ada was born in London on 10 December 1815",
         (1,)),
        ("she died of uterine cancer on 27 November 1852 [1].", "Ada died of uterine cancer on 27 November 1852.", (1,))]
    for p in st.parts:
        assert text[p.start:p.end] == p.text
        alone = locate(retriever, p.claim, k=1)
        assert p.supported == alone.supported
        assert [(m.doc_id, m.start, m.end) for m in p.matches] == [(m.doc_id, m.start, m.end) for m in alone.matches]
    assert all(p.supported for p in st.parts) and st.supported
    wrong = verify(retriever, text.replace("1852", "1853")).statements[0]
    assert [p.supported for p in wrong.parts] == [True, False] and not wrong.supported
    assert ("1853", "1852") in [(c.claim, c.source) for c in wrong.parts[1].matches[0].conflicts]


def test_locate_claim_looks_up_a_joined_claim_clause_by_clause(retriever: Retriever) -> None:
    """/v1/locate judges a claim that joins facts as verify judges such a sentence: by its clauses, with offsets
    into the claim as given; a claim of one fact, or one a source states verbatim, is locate's own result."""
    claim = "  Ada was born in London on 10 December 1815; she died of uterine cancer on 27 November 1852"
    found = locate_claim(retriever, claim, k=2)
    whole = locate(retriever, claim, k=2)
    assert found.claim == claim and found.matches == whole.matches
    assert [(p.text, p.claim) for p in found.parts] == [
        ("Ada was born in London on 10 December 1815", "Ada was born in London on 10 December 1815"),
        ("she died of uterine cancer on 27 November 1852", "Ada died of uterine cancer on 27 November 1852")]
    for p in found.parts:
        assert claim[p.start:p.end] == p.text
        alone = locate(retriever, p.claim, k=2)
        assert p.supported == alone.supported and p.matches == alone.matches
    assert found.supported and all(p.supported for p in found.parts)
    wrong = locate_claim(retriever, claim.replace("1852", "1853"))
    assert [p.supported for p in wrong.parts] == [True, False] and not wrong.supported
    for single in (BIRTH, "Ada was born in Paris in 1816."):  # nothing to cut, or stated verbatim
        alone, cut = locate(retriever, single), locate_claim(retriever, single)
        assert cut.parts == () and (cut.supported, cut.matches) == (alone.supported, alone.matches)


def test_clauses_take_the_subject_and_their_own_markers(tmp_path) -> None:  # noqa: ANN001
    """A clause without a subject is looked up with the sentence's, so it cannot be backed by a sentence about
    someone else; each clause is checked against the passages its own markers cite; a sentence the corpus
    states verbatim is not cut."""
    from rag.config import Settings
    from rag.service import Engine, build

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ivanov.md").write_text(
        "# Ivanov\n\nIvanov was born in Kiev and moved to Odessa in 1905. He was later arrested in Moscow.\n\n"
        "## Others\n\nPetrov committed suicide while imprisoned.\n", encoding="utf-8")
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", chunk_chars=300)
    build(settings)
    retriever = Engine(settings).retriever
    doc = retriever.index.documents["ivanov"].text
    stated = "Ivanov was born in Kiev and moved to Odessa in 1905."
    assert verify(retriever, stated).statements[0].parts == ()  # verbatim: the source's own words
    st = verify(retriever, "Ivanov was arrested in Moscow and committed suicide while imprisoned.").statements[0]
    assert [p.claim for p in st.parts] == ["Ivanov was arrested in Moscow",
                                           "Ivanov committed suicide while imprisoned."]
    assert not st.parts[1].supported and not st.supported  # Petrov did, and the sentence says so
    at = {s: doc.index(s) for s in ("Ivanov was born in Kiev", "He was later arrested")}
    table = [CitedSpan(1, "ivanov", at["Ivanov was born in Kiev"], at["Ivanov was born in Kiev"] + 52),
             CitedSpan(2, "ivanov", at["He was later arrested"], at["He was later arrested"] + 36)]
    text = "Ivanov was born in Kiev [1] and was later arrested in Moscow [2]."
    st = verify(retriever, text, citations=table).statements[0]
    assert st.markers == (1, 2) and [p.markers for p in st.parts] == [(1,), (2,)]
    assert [p.cited for p in st.parts] == [True, True] and st.cited is True and st.supported
    swapped = verify(retriever, text.replace("[1]", "[9]").replace("[2]", "[1]"), citations=table).statements[0]
    assert swapped.supported and [p.cited for p in swapped.parts] == [False, False] and swapped.cited is False


def test_one_request_checks_a_bounded_number_of_clauses(retriever: Retriever) -> None:
    """Each clause is a lookup: past MAX_CLAUSES_CHECKED, sentences are checked whole, and the response says how
    many."""
    sentence = "Ada was born in London; she died of uterine cancer in 1852."
    n = MAX_CLAUSES_CHECKED // 2 + 3
    result = verify(retriever, " ".join([sentence] * n))
    cut = [st for st in result.statements if st.parts]
    assert len(cut) == MAX_CLAUSES_CHECKED // 2 and all(len(st.parts) == 2 for st in cut)
    assert result.uncut == n - len(cut)
    assert all(not st.parts for st in result.statements[len(cut):])
    assert verify(retriever, sentence).uncut == 0
