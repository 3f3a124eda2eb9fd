"""Answers, claim lookup and LLM context: offsets, abstention, matching, conflicts, budgets."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answering import answer_hits, ask, build_context, locate
from rag.calibration import analyse_question, fit_logistic
from rag.claims import normalize
from rag.config import Settings
from rag.cues import kind_present
from rag.documents import to_dict
from rag.errors import InvalidRequestError
from rag.numbers import compare, extract
from rag.retrieval import Retriever
from tests.conftest import WIKI_DOC


def _source(retriever: Retriever, doc_id: str) -> str:
    return retriever.index.documents[doc_id].text


# -- ask ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["When was Ada born?", "Who was Ada's father?", "How long is black tea steeped?",
                                      "What did she translate in 1843?", "Where was Ada buried?"])
def test_answers_are_exact_spans_with_a_probability(retriever: Retriever, question: str) -> None:
    result = ask(retriever, question, k=3)
    assert result.question == question and result.index_version == retriever.index.version
    assert 1 <= len(result.passages) <= 3 and result.took_ms >= 0
    assert result.answerable == (result.answer is not None)
    if result.answer is not None:
        a = result.answer
        assert _source(retriever, a.doc_id)[a.start:a.end] == a.text
        assert 0.0 <= a.confidence <= 1.0
        assert (a.citation.doc_id, a.citation.start, a.citation.end) == (a.doc_id, a.start, a.end)
    data = to_dict(result)
    assert set(data) == {"question", "answerable", "answer", "passages", "index_version", "took_ms", "min_confidence"}


def test_the_answer_sentence_features_the_confidence_reads(retriever: Retriever) -> None:
    """The confidence model reads the chosen sentence's soft coverage and whether it names what an identity
    question asks for (rag.calibration.answer_features)."""
    from rag.answering import gather_evidence
    from rag.calibration import ANSWER_FEATURES, CONFIDENCE, CONFIDENCE_FEATURES

    assert len(CONFIDENCE.coef) == len(CONFIDENCE_FEATURES) and CONFIDENCE_FEATURES[-len(ANSWER_FEATURES):] == ANSWER_FEATURES
    ev = gather_evidence(retriever, "Where was Ada born in 1815?")
    chosen = retriever.index.sentences[ev.sentence_ids[ev.best]].text
    assert chosen.startswith("Ada was born in London") and ev.answer == (1.0, 1.0, 0.0, 0.0, 0.0)  # every word is there
    named = gather_evidence(retriever, "What was the name of the poet who was Ada's father?")
    assert "Lord Byron" in retriever.index.sentences[named.sentence_ids[named.best]].text
    assert named.answer[2] == 0.0  # "the poet Lord Byron": named
    unnamed = gather_evidence(retriever, "What was the name of the cancer Ada died of?")
    assert "uterine cancer" in retriever.index.sentences[unnamed.sentence_ids[unnamed.best]].text
    assert unnamed.answer[2] == 1.0  # "died of uterine cancer on 27 November 1852": no name (a month is none)
    assert unnamed.answer[4] == 0.0  # but not "a cancer": the sentence does not introduce it as unknown


def test_answer_picks_the_sentence_that_answers(retriever: Retriever) -> None:
    result = ask(retriever, "In which year did she translate the article by Menabrea?")
    assert result.answer is not None
    assert "1843" in result.answer.text and "Menabrea" in result.answer.text


@pytest.mark.parametrize("question", ["zzyzx quux frobnicate?", "What is the airspeed velocity of a swallow?"])
def test_abstains_when_the_corpus_is_silent(retriever: Retriever, question: str) -> None:
    result = ask(retriever, question)
    assert not result.answerable and result.answer is None
    assert result.passages  # the closest passages are still shown


@pytest.mark.parametrize("call", [lambda r: ask(r, "   "), lambda r: ask(r, "ok?", k=0),
                                  lambda r: locate(r, "\n"), lambda r: locate(r, "x", k=0),
                                  lambda r: build_context(r, ""), lambda r: build_context(r, "tea", max_chars=0)])
def test_invalid_requests(retriever: Retriever, call) -> None:  # noqa: ANN001
    with pytest.raises(InvalidRequestError):
        call(retriever)


def test_answer_hits_definition() -> None:
    text = "0123456789" * 3
    assert answer_hits(10, 20, text, 12, 18)  # covers the evidence
    assert answer_hits(10, 16, text, 12, 18)  # overlaps 4 of 6
    assert not answer_hits(10, 14, text, 12, 18)  # overlaps 2 of 6
    assert answer_hits(14, 15, text, 12, 22, "4")  # inside, contains the answer
    assert not answer_hits(14, 15, text, 12, 22, "9")
    assert not answer_hits(0, 5, text, 12, 18, "1")  # outside the evidence
    assert not answer_hits(5, 5, text, 0, 10)


def test_question_kinds() -> None:
    assert analyse_question("When did he die?").kind == "date"
    assert analyse_question("In what year was it built?").kind == "date"
    assert analyse_question("How many troops did he command?").kind == "number"
    assert analyse_question("Who killed Lyushkov?").kind == "person"
    assert analyse_question("What did he write?").kind == ""
    words = analyse_question("Who killed Lyushkov?").words
    assert kind_present("person", "Lyushkov was shot by Yutaka Takeoka.", words)
    assert not kind_present("person", "Lyushkov was shot by his handler.", words)
    assert kind_present("date", "It happened in 1938.", words) and not kind_present("date", "It happened.", words)


@pytest.mark.parametrize(("question", "unit"), [
    ("On what date did Ada die?", "day"), ("What day was she born?", "day"), ("In what year did she die?", "year"),
    ("Which month was she born in?", "month"), ("In which century did she live?", "century"),
    ("When did Ada die?", ""), ("How many notes did she add?", ""), ("What did she translate?", ""),
    ("What day did she die, and in what year?", "day"), ("In what year and on what day did she die?", "year"),
    ("In what years did she live there?", "year")])
def test_the_date_unit_a_question_names(question: str, unit: str) -> None:
    assert analyse_question(question).date_unit == unit


@pytest.mark.parametrize("question", ["What dates did she visit?", "What was the date of her death?"])
def test_plural_and_predicative_date_questions_name_a_day(question: str) -> None:
    from rag.short_answers import asked_date_unit

    assert asked_date_unit(question) == "day"  # (the answer ranker reads no date kind in them: rag.cues)


@pytest.mark.parametrize(("unit", "text", "holds"), [
    ("day", "on 13 June 1938", True), ("day", "on June 13, 1938", True), ("day", "on 1945-08-19", True),
    ("day", "every Tuesday", True), ("day", "in June 1938", False), ("year", "in June", False),
    ("day", "on August 19th, 1945", True), ("day", "on 8/19/1945", True), ("day", "on 19.08.1945", True),
    ("day", "Linux 2.6.32", False), ("day", "on 13-06-1945", True),
    ("month", "He married in 1938.", False), ("month", "He may have decided in 1938.", False),
    ("month", "in Sept. 1938", True), ("month", "In June 1938 he fled.", True),
    ("month", "Theresa May resigned in 2019.", False), ("month", "Jan Smuts came.", False),
    ("month", "The Long March began.", False), ("century", "The centurion was executed.", False),
    ("year", "in 1938", True), ("month", "in 1938", False), ("century", "in the 17th century", True),
    ("", "nothing", True)])
def test_a_text_holds_a_date_of_the_unit(unit: str, text: str, holds: bool) -> None:
    from rag.short_answers import holds_date_unit

    assert holds_date_unit(unit, text) is holds


def test_a_date_question_that_names_its_unit_wants_a_sentence_with_that_unit(retriever: Retriever) -> None:
    """"On what date…" wants a day: a sentence with only a year holds no date of the kind asked for (the answer
    ranker's ``kind_present`` is 0 for it), while "In what year…" and "When…" take any sentence with a year."""
    from rag.calibration import SENTENCE_FEATURES, corpus_stats, sentence_features

    index = retriever.index
    stats = corpus_stats(index)
    texts = [s.text for s in index.sentences]
    day = texts.index("She died of uterine cancer on 27 November 1852, aged 36.")
    year = next(i for i, t in enumerate(texts) if t.startswith("In 1843 she translated"))
    column = SENTENCE_FEATURES.index("kind_present")
    weekday = retriever.prepare("What day of the week did Ada translate an article?")
    info = analyse_question(weekday.text)
    assert info.date_unit == "day"
    assert sentence_features(index, stats, info, weekday.vector, [day], [1], np.zeros(len(texts)))[0, column] == 1.0
    for question, expected in (("On what date did Ada translate an article?", (1.0, 0.0)),
                               ("In what year did Ada translate an article?", (1.0, 1.0)),
                               ("When did Ada translate an article?", (1.0, 1.0))):
        query = retriever.prepare(question)
        rows = sentence_features(index, stats, analyse_question(question), query.vector, [day, year], [1, 1],
                                 np.zeros(len(texts)))
        assert tuple(rows[:, column]) == expected, question


def test_fit_logistic_recovers_the_signal() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.5 + 2 * x[:, 0] - x[:, 1])))).astype(float)
    model = fit_logistic(x, y, l2=0.01)
    assert abs(model.intercept - 0.5) < 0.25 and abs(model.coef[0] - 2) < 0.4 and abs(model.coef[1] + 1) < 0.3


# -- locate ------------------------------------------------------------------------------------------
def test_locate_exact_quote(retriever: Retriever) -> None:
    quote = "She is known for her work on Charles Babbage's Analytical Engine."
    result = locate(retriever, quote)
    assert result.supported
    m = result.matches[0]
    assert m.match == "exact" and m.score == 1.0 and not m.conflicts
    assert (m.start, m.end) == (WIKI_DOC.index(quote), WIKI_DOC.index(quote) + len(quote))
    assert _source(retriever, m.doc_id)[m.start:m.end] == m.text == quote


def test_locate_normalized_quote_reports_original_offsets(retriever: Retriever) -> None:
    original = "She is known for her work on Charles Babbage's Analytical Engine."
    altered = "she IS known  for her\nwork on Charles Babbage’s Analytical Engine"
    result = locate(retriever, altered)
    assert result.supported
    m = result.matches[0]
    assert m.match == "normalized"
    start = WIKI_DOC.index(original)
    assert m.start == start and m.end in (start + len(original), start + len(original) - 1)
    assert _source(retriever, m.doc_id)[m.start:m.end] == m.text


def test_locate_claim_across_sentences(retriever: Retriever) -> None:
    claim = "Her father was the poet Lord Byron, who left England when she was an infant.\n\nHer mother, Lady Byron"
    m = locate(retriever, claim).matches[0]
    assert m.match == "exact" and m.text == claim


def test_locate_flags_a_different_year(retriever: Retriever) -> None:
    result = locate(retriever, "Ada was born in London on 10 December 1816.")
    assert not result.supported
    assert result.matches and result.matches[0].match == "paraphrase"
    assert [(c.claim, c.source) for c in result.matches[0].conflicts] == [("1816", "1815")]
    for m in result.matches:
        assert _source(retriever, m.doc_id)[m.start:m.end] == m.text


def test_locate_does_not_match_inside_words(retriever: Retriever) -> None:
    result = locate(retriever, "ea is an aromatic beverage")
    assert all(m.match == "paraphrase" for m in result.matches)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aB ß\n\t’“”—-.İ'x")), max_size=40))
def test_normalize_keeps_an_offset_map(text: str) -> None:
    norm, offsets = normalize(text)
    assert len(norm) == len(offsets)
    assert list(offsets) == sorted(offsets)
    assert "  " not in norm and norm == norm.casefold()
    for i, ch in enumerate(norm):
        original = text[offsets[i]]
        assert ch == " " if original.isspace() else ch in (normalize(original)[0])


def test_numbers_and_conflicts() -> None:
    values = extract("On 13 June 1938 he led 20,000-30,000 troops of the 14th Army; died 1945-08-19.")
    assert [(d.day, d.month, d.year) for d in values.dates] == [(13, 6, 1938), (19, 8, 1945)]
    assert [(n.low, n.high) for n in values.numbers] == [(20000, 30000), (14, 14)]
    assert compare("He defected on 13 June 1939", "On 13 June 1938, he defected").conflicts == (("1939", "1938"),)
    assert compare("He fled in June 1938", "On 13 June 1938, he defected").conflicts == ()
    assert compare("He led 25,000 troops", "he led 20,000-30,000 troops").conflicts == ()
    assert compare("He had 3 siblings", "He had siblings").unattested == ("3",)
    assert compare("2.5 million people", "2,500,000 people").conflicts == ()


# -- context -----------------------------------------------------------------------------------------
_BLOCK = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)


def _check_context(retriever: Retriever, question: str, max_chars: int) -> None:
    result = build_context(retriever, question, max_chars=max_chars)
    assert len(result.context) <= max_chars
    numbers = [int(n) for n, _ in _BLOCK.findall(result.context)]
    assert numbers == [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    expected = "\n\n".join(f"[{c.n}] {c.label}\n{c.text}" for c in result.citations)
    assert result.context == expected
    for c in result.citations:
        assert _source(retriever, c.doc_id)[c.start:c.end] == c.text
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for c in result.citations:
        by_doc.setdefault(c.doc_id, []).append((c.start, c.end))
    docs_in_order = list(dict.fromkeys(c.doc_id for c in result.citations))
    assert [c.doc_id for c in result.citations] == sorted((c.doc_id for c in result.citations), key=docs_in_order.index)
    for spans in by_doc.values():
        assert spans == sorted(spans)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


@settings(max_examples=40, deadline=None)
@given(max_chars=st.integers(min_value=1, max_value=3000))
def test_context_fits_any_budget(retriever: Retriever, max_chars: int) -> None:
    _check_context(retriever, "When was Ada born and who was her father?", max_chars)


def test_context_with_room_holds_the_best_passages(retriever: Retriever) -> None:
    result = build_context(retriever, "How is black tea prepared?", max_chars=4000)
    assert "three to five minutes" in result.context
    _check_context(retriever, "How is black tea prepared?", 4000)
    assert build_context(retriever, "How is black tea prepared?", max_chars=5).citations == ()


# -- the real model on the bundled corpus (slow) -------------------------------------------------------
@pytest.fixture(scope="module")
def lyushkov(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Retriever:  # noqa: ANN001
    from rag.service import build
    from rag.store import load_index
    from tests.conftest import REPO

    index_dir = tmp_path_factory.mktemp("lyushkov") / "index"
    build(Settings(corpus_dir=REPO / "corpus", index_dir=index_dir), embedder=real_embedder)
    return Retriever(load_index(index_dir, real_embedder), real_embedder)


DEFECTION = "On 13 June 1938, Lyushkov defected from the Soviet Union by crossing the border at Posyet into Manchukuo"


@pytest.mark.slow
def test_locate_altered_copy_of_a_sentence(lyushkov: Retriever) -> None:
    original = ('He "categorically denied Moscow\'s allegation that he was an imposter" but some news agencies, '
                "such as the New York Times wondered if he was telling the truth.")
    text = _source(lyushkov, "genrikh_lyushkov")
    altered = original.replace('"', "“", 1).replace('"', "”", 1).replace("'", "’").replace(" ", "  ", 3)
    m = locate(lyushkov, altered).matches[0]
    assert m.match == "normalized" and (m.start, m.end) == (text.index(original), text.index(original) + len(original))


@pytest.mark.slow
@pytest.mark.parametrize("claim", ["Lyushkov fled across the border into Manchukuo in June 1938",
                                   "In June 1938 Lyushkov escaped to Manchukuo, crossing the frontier at Posyet"])
def test_locate_paraphrase(lyushkov: Retriever, claim: str) -> None:
    result = locate(lyushkov, claim)
    assert result.supported
    assert result.matches[0].match == "paraphrase" and result.matches[0].text.startswith(DEFECTION)


@pytest.mark.slow
@pytest.mark.parametrize("claim", ["Lyushkov was a famous violinist", "Lyushkov won the Nobel Prize in Physics",
                                   "Lyushkov was born in Kiev",
                                   "The Eiffel Tower is in Paris"])
def test_locate_unsupported(lyushkov: Retriever, claim: str) -> None:
    assert not locate(lyushkov, claim).supported


@pytest.mark.slow
def test_locate_flags_the_wrong_year(lyushkov: Retriever) -> None:
    result = locate(lyushkov, "Lyushkov defected on 13 June 1939")
    assert not result.supported
    top = result.matches[0]
    assert top.text.startswith(DEFECTION) and [(c.claim, c.source) for c in top.conflicts] == [("1939", "1938")]


@pytest.mark.slow
def test_locate_flags_a_negated_claim(lyushkov: Retriever) -> None:
    assert locate(lyushkov, "At the end of the war Lyushkov was killed by the Japanese").supported
    result = locate(lyushkov, "At the end of the war Lyushkov was not killed by the Japanese")
    assert not result.supported
    assert ("not killed", "killed") in [(c.claim, c.source) for c in result.matches[0].conflicts]


@pytest.mark.slow
def test_locate_flags_names_in_each_others_places(lyushkov: Retriever) -> None:
    assert locate(lyushkov, "Takeoka executed Lyushkov").supported
    result = locate(lyushkov, "Lyushkov executed Takeoka")
    assert not result.supported
    assert ("executed Takeoka", "executed Lyushkov") in [(c.claim, c.source) for c in result.matches[0].conflicts]
    result = locate(lyushkov, "Lyushkov was arrested on evidence gathered by Deribas")
    assert not result.supported and result.matches[0].text.startswith("Deribas' arrest")


@pytest.mark.slow
def test_ask_answers_and_abstains(lyushkov: Retriever) -> None:
    answer = ask(lyushkov, "Where did he cross the border when he fled?").answer
    assert answer is not None and answer.text.startswith(DEFECTION)
    assert ask(lyushkov, "What is the capital of Australia?").answer is None


@pytest.mark.slow
def test_context_for_a_real_question(lyushkov: Retriever) -> None:
    for budget in (300, 1500, 4000):
        _check_context(lyushkov, "Why did Lyushkov defect to Japan?", budget)
    assert DEFECTION in build_context(lyushkov, "How did Lyushkov defect?").context


@pytest.mark.slow
def test_lyushkov_development_targets(lyushkov: Retriever, shared_eval) -> None:  # noqa: ANN001
    import json

    rows = [json.loads(line) for line in (shared_eval / "lyushkov_qa.jsonl").read_text().splitlines() if line]
    text = _source(lyushkov, "genrikh_lyushkov")
    hits = abstained = answered_unanswerable = 0
    answerable = [r for r in rows if r["answerable"]]
    for row in rows:
        a = ask(lyushkov, row["question"]).answer
        if not row["answerable"]:
            answered_unanswerable += a is not None
        elif a is None:
            abstained += 1
        else:
            hits += answer_hits(a.start, a.end, text, row["evidence_start"], row["evidence_end"], row["answer"])
    # Measured 0.81 accuracy (below the 0.9 target, see docs/answers.md): guard against regressions.
    assert hits / len(answerable) >= 0.75
    assert answered_unanswerable <= 1
    assert abstained / len(answerable) <= 0.10


def test_a_claims_first_word_is_a_name_when_the_corpus_never_writes_it_in_lower_case(retriever: Retriever) -> None:
    from rag.attestation import attested, claim_names
    from rag.calibration import corpus_stats

    usage = corpus_stats(retriever.index).usage
    assert {"mathematician", "father", "born"} <= usage.lowercase and "babbage" not in usage.lowercase
    assert claim_names("Babbage was born in London", usage) == ["Babbage", "London"]
    assert claim_names("Babbage was born in London") == ["London"]  # without the corpus: after the first word only
    for claim in ("The poet left England", "Her father was a poet", "Father of Ada", "'Mathematician' is a word"):
        assert claim_names(claim, usage) == [w for w in ("England", "Ada") if w in claim]
    source = "Ada was born in London on 10 December 1815."
    tokens = frozenset(["ada", "born", "london", "decemb", "1815"])
    assert attested("Ada was born in London", source, tokens, usage)
    assert not attested("Babbage was born in London", source, tokens, usage)
    assert attested("Babbage was born in London", source, tokens)  # the old rule missed it
    # an opening participle or adverb is not a name, though the corpus never writes it: "Fearing his arrest…"
    for claim in ("Fearing her father, Ada left London", "Born in London, Ada left", "Secretly, Ada left London"):
        assert claim_names(claim, usage) == sorted((w for w in ("Ada", "London") if w in claim), key=claim.index)
    assert claim_names("Fielding was born in London", usage) == ["Fielding", "London"]  # a name, not an opener


def test_a_sentence_about_someone_else_does_not_back_the_articles_subject(retriever: Retriever) -> None:
    """The article's title attests its subject's name for every sentence ("he" means the subject), but a
    sentence that opens with another name and its verb is about that one: "Babbage designed the engine"
    does not back "Ada designed the engine", even though "Ada" is in the title."""
    from rag.attestation import attested, conflict_pairs
    from rag.calibration import corpus_stats

    usage = corpus_stats(retriever.index).usage
    source = "Babbage designed the Analytical Engine in 1837."
    tokens = frozenset(["babbag", "design", "analyt", "engin", "1837", "ada", "lovelac"])  # with the title's words
    assert attested("Babbage designed the Analytical Engine", source, tokens, usage)
    assert not attested("Ada designed the Analytical Engine", source, tokens, usage)
    assert ("Ada designed", "Babbage designed") in conflict_pairs("Ada designed the Analytical Engine", source, usage)
    # "he" or "she" is unread: the title may well mean the subject
    assert attested("Ada designed the Analytical Engine", "She designed the Analytical Engine in 1837.", tokens, usage)
    # a sentence opening with a word the corpus writes in lower case too is not opened by a name
    assert attested("Ada designed the Analytical Engine", "Mathematicians designed the Analytical Engine.",
                    tokens | {"mathematician"}, usage)


def test_names_typed_in_lower_case_are_names_by_the_corpus_usage(retriever: Retriever) -> None:
    """Users type claims in lower case; a word the corpus only ever capitalises is still a name."""
    from rag.attestation import claim_names
    from rag.calibration import corpus_stats

    usage = corpus_stats(retriever.index).usage
    assert usage.is_name("Babbage") and usage.is_name("london") and not usage.is_name("born")
    assert not usage.is_name("babbages")  # compared as written: a stem match is not the same name
    assert claim_names("babbage was born in london", usage) == ["babbage", "london"]
    assert claim_names("she was born in a london hospital", usage) == ["london"]
    assert claim_names("an english mathematician", usage) == ["english"]
    assert claim_names("she died of cancer", usage) == []  # words the corpus writes in lower case, or not at all
    assert claim_names("She was born in a london hospital", usage) == []  # a cased claim is taken as typed
    assert not locate(retriever, "babbage was born in london in december 1815").supported
    assert locate(retriever, "ada was born in london in december 1815").supported


def test_locate_does_not_lend_a_sentence_to_another_subject(retriever: Retriever) -> None:
    """A claim about someone else (its subject, first, swapped for another name of the corpus) is not
    supported by the sentence about the original subject."""
    assert locate(retriever, "Ada was born in London in December 1815").supported
    result = locate(retriever, "Babbage was born in London in December 1815")
    assert result.matches and result.matches[0].text.startswith("Ada was born in London")
    assert not result.supported
    assert result.matches[0].missing == ("Babbage",)
    # and the sentence opens with another name in the claim's name's place: it is about Ada
    assert [(c.claim, c.source) for c in result.matches[0].conflicts] == [("Babbage was born", "Ada was born")]
    assert locate(retriever, "Ada was born in London in December 1815").matches[0].missing == ()


def test_locate_refuses_a_claim_with_names_in_each_others_places(retriever: Retriever) -> None:
    """The sentence's own words with two names swapped are not supported by it, and the match says where."""
    assert locate(retriever, "Lady Byron promoted Ada's interest in mathematics").supported
    result = locate(retriever, "Ada promoted Lady Byron's interest in mathematics")
    assert result.matches and result.matches[0].text.startswith("Her mother, Lady Byron, promoted Ada's interest")
    assert not result.supported
    assert ("Lady Byron's interest", "Ada's interest") in [(c.claim, c.source) for c in result.matches[0].conflicts]


def test_numbers_written_as_words() -> None:
    values = extract("his eleven-year-old daughter, twenty-one men, three hundred horses and one of the guards")
    assert [(n.text, n.low) for n in values.numbers] == [("eleven", 11), ("twenty-one", 21), ("three hundred", 300)]
    daughter = "he arranged for his wife to leave with his eleven-year-old daughter"
    assert compare("He fled with his nine-year-old daughter", daughter).conflicts == (("nine", "eleven"),)
    assert compare("He fled with his eleven-year-old daughter", daughter).conflicts == ()
    assert compare("He had 11 children", "he had eleven children") == compare("He had eleven children",
                                                                            "he had 11 children")
    assert compare("He had nine children", "he had 11 children").conflicts == (("nine", "11"),)
    assert compare("He commanded 3 divisions", "he commanded two divisions").conflicts == (("3", "two"),)
    # each source number keeps the word after it, even when the same figure occurs twice
    repeated = "In 11 years he had 11 children"
    assert compare("He had nine children", repeated).conflicts == (("nine", "11"),)
    assert compare("He had nine cats", repeated).conflicts == ()
    # a number word counting something else is no evidence either way ("the two teams" for "both teams")
    assert compare("The two teams played Super Bowl 50", "Super Bowl 50 was played by both teams") == compare("", "")


@pytest.mark.slow
def test_verify_an_answer_about_lyushkov(lyushkov: Retriever) -> None:
    from rag.verify import verify

    text = ("Lyushkov fled across the border into Manchukuo in June 1938 [1]. He defected on 13 June 1939.\n"
            "- Lyushkov was a famous violinist [2]")
    result = verify(lyushkov, text)
    fled, wrong_year, violinist = result.statements
    assert all(text[s.start:s.end] == s.text for s in result.statements)
    assert fled.supported and fled.markers == (1,) and fled.matches[0].text.startswith(DEFECTION)
    assert not wrong_year.supported and ("1939", "1938") in [(c.claim, c.source) for c in wrong_year.matches[0].conflicts]
    assert not violinist.supported and violinist.claim == "Lyushkov was a famous violinist"


@pytest.mark.slow
def test_verify_sentences_that_join_facts_about_lyushkov(lyushkov: Retriever) -> None:
    """tests/data/lyushkov_compound.jsonl: sentences written the way a language model answers, each joining two
    facts (12 true; 8 with one clause false), written after the clause rule and not tuned on. Measured when
    written: 12 of 12 true ones supported (6 as one sentence), 1 of 8 false ones (3 as one sentence)."""
    import json

    from rag.verify import verify
    from tests.conftest import REPO

    rows = [json.loads(line) for line in (REPO / "tests" / "data" / "lyushkov_compound.jsonl").open(encoding="utf-8")]
    supported = {True: 0, False: 0}
    for row in rows:
        (st,) = verify(lyushkov, row["text"]).statements
        supported[row["true"]] += st.supported
        if st.parts:
            assert st.supported == all(p.supported for p in st.parts)
    assert supported[True] >= 10, supported  # of 12
    assert supported[False] <= 2, supported  # of 8


@pytest.mark.slow
def test_locate_claims_with_an_appositive_about_lyushkov(lyushkov: Retriever) -> None:
    """tests/data/lyushkov_appositions.jsonl: 30 sentences a language model might write, each giving its subject a
    description or a "who" clause before the main verb ("Lyushkov, who had headed the NKVD in the Far East,
    defected…"; 17 true, 13 with one part false), written by someone who had not run the system. Measured
    through /v1/locate's code: as one claim 6 of 17 true ones and 1 of 13 false ones were supported; with the
    appositive rule as first written 10 and 0; after widening it from what that run showed (an opening clause,
    "Lyushkov's wife", quotes inside the clause) 13 and 0."""
    import json

    from rag.verify import locate_claim
    from tests.conftest import REPO

    path = REPO / "tests" / "data" / "lyushkov_appositions.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    supported = {True: 0, False: 0}
    cut = 0
    for row in rows:
        result = locate_claim(lyushkov, row["text"])
        supported[row["true"]] += result.supported
        cut += bool(result.parts)
        for part in result.parts:
            assert row["text"][part.start:part.end] == part.text
    assert cut >= 24, cut  # of 30
    assert supported[True] >= 11, supported  # of 17
    assert supported[False] <= 1, supported  # of 13


@pytest.mark.slow
@pytest.mark.parametrize(("claim", "kind"), [("He was captured by the Red Army.", "normalized"),
                                             ("Lyushkov was captured by the Red Army", "paraphrase")])
def test_locate_refuses_what_the_article_gives_only_as_a_theory(lyushkov: Retriever, claim: str, kind: str) -> None:
    result = locate(lyushkov, claim)
    top = result.matches[0]
    assert not result.supported and top.match == kind and "captured by the Red Army" in top.text
    assert [(c.claim, c.source) for c in top.conflicts] == [("captured", "theories held that … captured")]


def test_close_candidates_are_re_ranked_with_their_soft_coverage(retriever: Retriever,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """When the ranker's two best are within RERANK_MARGIN, the re-ranker chooses among its RERANK_TOP best."""
    import numpy as np

    from rag import answering
    from rag import calibration as cal

    question = "What did Ada translate in 1843?"
    plain = answering.gather_evidence(retriever, question, reranker=None)
    assert not plain.reranked and plain.top == int(np.argmax(plain.ranker))
    # a re-ranker that wants the least similar sentence, always asked: it must choose from the shortlist
    contrary = cal.Logistic(0.0, tuple(-10.0 if n == "dense" else 0.0 for n in cal.RERANK_FEATURES))
    monkeypatch.setattr(cal, "RERANK_MARGIN", 1e9)
    ev = answering.gather_evidence(retriever, question, reranker=contrary)
    shortlist = [int(j) for j in np.argsort(-ev.ranker, kind="stable")[:cal.RERANK_TOP]]
    dense = ev.features[:, cal.SENTENCE_FEATURES.index("dense")]
    assert ev.reranked and ev.top == min(shortlist, key=lambda j: dense[j])
    assert ev.top != plain.top  # the least similar of five is not the ranker's best
    # its confidence reads the chosen sentence, with a margin below zero (the ranker preferred another)
    x = cal.confidence_features(ev.ranker, ev.features, ev.unknown, ev.answer, ev.top)
    assert x[1] < 0 and x[2] == dense[ev.top]


def test_shortlist_soft_coverage_agrees_with_the_answer_sentences(retriever: Retriever) -> None:
    from rag import answering
    from rag import calibration as cal

    question = "Which engine did Ada write her notes about?"
    ev = answering.gather_evidence(retriever, question, reranker=None)
    stats = cal.corpus_stats(retriever.index)
    ids = list(ev.sentence_ids[:4])
    rows = answering.shortlist_soft(retriever, question, ev.question, stats, ids)
    assert rows is not None and rows.shape == (4, 2)
    for sid, row in zip(ids, rows, strict=True):
        alone = answering.answer_soft_coverage(retriever, question, ev.question, stats, sid)
        assert row == pytest.approx(alone, abs=1e-4)  # batched with others or alone: the same values
        assert 0.0 <= row[0] <= 1.0 and row[1] <= 1.0
