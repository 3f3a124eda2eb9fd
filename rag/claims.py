"""Claim lookup: where the corpus states a claim (verbatim, normalised or paraphrased), and number conflicts.

Verbatim and normalised matches are searched over whole document texts, so a claim that spans
sentences still matches. Normalisation (casefold, one kind of quote mark and dash, collapsed
whitespace) keeps a map to original offsets, so every match reports exact source offsets.
Otherwise candidate sentences (FAISS + BM25) are scored by a fitted logistic model of "this
sentence states the claim" (``SUPPORT``, fitted by scripts/calibrate_claims.py). A match whose
dates or numbers differ from the claim's, or that negates what the claim states (rag.negation),
carries ``conflicts``, and a claim whose best match conflicts, or leaves a date, number or name
(capitalised word) of the claim unattested, is not supported: a citation must back every fact of
the claim.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from rag.attestation import conflict_pairs, unattested_facts
from rag.calibration import CorpusStats, Logistic, WordUsage, corpus_stats
from rag.chunking import split_prose
from rag.documents import Citation, Document, citation_label
from rag.errors import InvalidRequestError
from rag.fusion import max_normalize, top_k
from rag.hedges import hedge_conflicts
from rag.retrieval import Retriever
from rag.store import Index

if TYPE_CHECKING:
    from rag.verify import ClaimPart

MatchKind = Literal["exact", "normalized", "paraphrase"]
_FOLD = {**dict.fromkeys("‘’‚‛′`´", "'"), **dict.fromkeys("“”„‟″«»", '"'),
         **dict.fromkeys("‐‑‒–—―−", "-"), "…": "..."}
PARAPHRASE_CANDIDATES = 30
DENSE_BLOCK = 65536  # sentences scored at once when locate is restricted to some documents
CLAIM_FEATURES = ("dense", "coverage", "context_coverage", "reverse_coverage", "unknown")
# Fitted by `scripts/calibrate_claims.py -n 200` on fold A of the SQuAD development worlds (synthetic
# supported and unsupported claims, see docs/answers.md), validated on fold B. The threshold is the
# one that maximises supported-claim success minus twice the false-support rate on fold A.
SUPPORT = Logistic(-8.8580, (6.3406, 3.2369, 1.4531, 3.0947, -0.8166))
SUPPORTED_FROM = 0.15


@dataclass(frozen=True)
class Conflict:
    claim: str
    source: str


@dataclass(frozen=True)
class Match:
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    match: MatchKind
    conflicts: tuple[Conflict, ...]
    citation: Citation
    missing: tuple[str, ...] = ()  # dates, numbers and names of the claim this sentence does not state


@dataclass(frozen=True)
class LocateResult:
    claim: str
    supported: bool
    matches: tuple[Match, ...]
    index_version: str
    took_ms: float
    parts: tuple[ClaimPart, ...] = ()  # the claim's clauses, each looked up on its own (rag.verify.locate_claim)


def normalize(text: str) -> tuple[str, np.ndarray]:
    """Folded text and each of its characters' original offset.

    Casefolded and compatibility-decomposed character by character (NFKD: "é" and "e" + combining
    accent compare equal, "ﬁ" is "fi"), one kind of quote mark and dash, invisible format characters
    dropped (soft hyphen, zero-width space, direction marks), whitespace runs as one space.
    """
    out: list[str] = []
    offsets: list[int] = []
    space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                offsets.append(i)
            space = True
            continue
        folded = _FOLD.get(ch)
        if folded is None:
            if ch.isascii():
                folded = ch.lower()
            elif unicodedata.category(ch) == "Cf":
                continue
            else:
                folded = unicodedata.normalize("NFKD", ch.casefold())
        space = False
        out.append(folded)
        offsets.extend([i] * len(folded))
    return "".join(out), np.asarray(offsets, dtype=np.int64)


_NORMALIZED: dict[tuple[str, str], dict[str, tuple[str, np.ndarray]]] = {}
_LOCK = threading.Lock()


def _normalized_documents(index: Index) -> dict[str, tuple[str, np.ndarray]]:
    key = (str(index.path), index.version)
    with _LOCK:
        found = _NORMALIZED.get(key)
        if found is None:
            found = {doc_id: normalize(doc.text) for doc_id, doc in index.documents.items()}
            if len(_NORMALIZED) >= 4:
                _NORMALIZED.pop(next(iter(_NORMALIZED)))
            _NORMALIZED[key] = found
        return found


def _at_word_edges(text: str, start: int, end: int) -> bool:
    """A match must not start or end inside a word ("he" is not found in "the")."""
    before = start == 0 or not (text[start - 1].isalnum() and text[start].isalnum())
    after = end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())
    return before and after


def _whole_characters(offsets: np.ndarray, a: int, b: int) -> bool:
    """Whether folded positions ``a:b`` cover whole source characters ("cafe" must not match the
    "cafe" of "café" decomposed, leaving its accent out)."""
    return (a == 0 or offsets[a - 1] != offsets[a]) and (b == len(offsets) or offsets[b] != offsets[b - 1])


def verbatim_spans(index: Index, claim: str, limit: int,
                   doc_ids: Sequence[str] | None = None) -> list[tuple[str, int, int, MatchKind]]:
    """Exact occurrences of ``claim``, else occurrences after normalisation (original offsets), in
    ``doc_ids`` only when given."""
    found: list[tuple[str, int, int, MatchKind]] = []
    searched = set(index.documents) if doc_ids is None else set(doc_ids)
    for doc_id, doc in index.documents.items():
        if doc_id not in searched:
            continue
        pos = doc.text.find(claim)
        while pos >= 0 and len(found) < limit:
            if _at_word_edges(doc.text, pos, pos + len(claim)):
                found.append((doc_id, pos, pos + len(claim), "exact"))
            pos = doc.text.find(claim, pos + 1)
    if found:
        return found
    variants = [normalize(claim)[0].strip()]
    trimmed = variants[0].rstrip(".!?;:, ")
    if trimmed and trimmed != variants[0]:
        variants.append(trimmed)
    for needle in variants:
        for doc_id, (norm, offsets) in _normalized_documents(index).items():
            if doc_id not in searched:
                continue
            text = index.documents[doc_id].text
            pos = norm.find(needle)
            while pos >= 0 and len(found) < limit:
                start, end = int(offsets[pos]), int(offsets[pos + len(needle) - 1]) + 1
                if _at_word_edges(text, start, end) and _whole_characters(offsets, pos, pos + len(needle)):
                    found.append((doc_id, start, end, "normalized"))
                pos = norm.find(needle, pos + 1)
        if found:
            break
    return found


def claim_features(index: Index, stats: CorpusStats, tokens: tuple[str, ...], vector: np.ndarray,
                   sentence_ids: np.ndarray) -> np.ndarray:
    """One row of ``CLAIM_FEATURES`` per candidate sentence."""
    weights = {t: stats.idf(t) for t in tokens}
    total = sum(weights.values()) or 1.0
    unknown = sum(w for t, w in weights.items() if t not in stats.df) / total
    dense = index.sentence_vectors[sentence_ids] @ vector
    rows = []
    for j, sid in enumerate(sentence_ids.tolist()):
        toks = stats.sentence_tokens[sid]
        cover = sum(w for t, w in weights.items() if t in toks) / total
        context = sum(w for t, w in weights.items() if t in toks or t in stats.label_tokens[sid]) / total
        sentence_weight = sum(stats.idf(t) for t in toks) or 1.0
        reverse = sum(stats.idf(t) for t in toks if t in weights) / sentence_weight
        rows.append((float(dense[j]), cover, context, reverse, unknown))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CLAIM_FEATURES))


def candidate_sentences(retriever: Retriever, vector: np.ndarray, tokens: tuple[str, ...],
                        n: int = PARAPHRASE_CANDIDATES, doc_ids: Sequence[str] | None = None) -> np.ndarray:
    """The ``n`` best sentences by dense similarity and the ``n`` best by BM25 (of ``doc_ids`` only:
    scored exactly over their sentences, so a small subset of a large corpus still gets its best)."""
    index = retriever.index
    found: set[int] = set()
    if doc_ids is not None:
        sids = np.array(sorted({s for d in set(doc_ids) for ci in index.doc_chunks.get(d, [])
                                for s in index.chunks[ci].sentence_ids}), dtype=np.int64)
        if len(sids):
            found.update(_best_dense(index, sids, vector, n))
            found.update(sids[top_k(max_normalize(index.sentence_bm25.scores(tokens)[sids]), n)].tolist())
    elif len(index.sentences):
        _, ids = index.sentence_faiss.search(vector[None, :], min(n, len(index.sentences)))
        found.update(int(i) for i in ids[0] if i >= 0)
        found.update(top_k(max_normalize(index.sentence_bm25.scores(tokens)), n).tolist())
    return np.array(sorted(s for s in found if index.sentences[s].kind != "heading"), dtype=np.int64)


def _best_dense(index: Index, sids: np.ndarray, vector: np.ndarray, n: int) -> list[int]:
    """The ``n`` sentences of ``sids`` most similar to ``vector``, scored a block at a time (a selection
    of most of a large corpus is never copied into memory at once)."""
    best_ids, best_scores = np.zeros(0, np.int64), np.zeros(0, np.float32)
    for lo in range(0, len(sids), DENSE_BLOCK):
        block = sids[lo:lo + DENSE_BLOCK]
        ids = np.concatenate([best_ids, block])
        scores = np.concatenate([best_scores, (index.sentence_vectors[block] @ vector).astype(np.float32)])
        keep = top_k(scores, n)
        best_ids, best_scores = ids[keep], scores[keep]
    return best_ids.tolist()


def conflicts_of(claim: str, source: str, *, polarity: bool = True, usage: WordUsage | None = None,
                 ) -> tuple[Conflict, ...]:
    """``rag.attestation.conflict_pairs`` as ``Conflict`` values."""
    return tuple(Conflict(c, s) for c, s in conflict_pairs(claim, source, usage, polarity=polarity))


def states(match: Match) -> bool:
    """Whether one match states its claim, by the test ``locate`` applies to its best match: exact or
    normalized without a conflict, or a paraphrase scored at least ``SUPPORTED_FROM`` with nothing
    contradicted or left unstated (``locate`` compares the unrounded score; ``Match.score`` is rounded to
    four places)."""
    if match.conflicts:
        return False
    return match.match in ("exact", "normalized") or (match.score >= SUPPORTED_FROM and not match.missing)


def _enclosing_sentence(text: str, start: int, end: int, reach: int = 3000) -> str:
    """The sentence (within its line, at most ``reach`` characters either side) that ``text[start:end]``
    starts in, up to at least ``end``."""
    lo = max(text.rfind("\n", 0, start) + 1, start - reach)
    hi = text.find("\n", end)
    hi = min(len(text) if hi < 0 else hi, end + reach)
    for s, e in split_prose(text, lo, hi):
        if s <= start < e:
            return text[s:max(e, end)]
    return text[start:end]


def verbatim_conflicts(claim: str, text: str, start: int, end: int) -> tuple[Conflict, ...]:
    """Conflicts of a verbatim match ``text[start:end]`` of ``claim``: it has the source's words, so the
    same polarity (only numbers are compared); what remains to check is whether the sentence it sits in
    gives it only as a theory, plan or allegation ("he was captured by the Red Army" inside "Some
    theories held that he was captured by the Red Army")."""
    return conflicts_of(claim, text[start:end], polarity=False) + tuple(
        Conflict(c, s) for c, s in hedge_conflicts(claim, _enclosing_sentence(text, start, end)))


def _citation(doc: Document, start: int, end: int) -> Citation:
    section = doc.section_at(start)
    path = section.path if section else ()
    return Citation(doc.doc_id, doc.title, path, start, end, citation_label(doc.title, path), doc.url)


def locate(retriever: Retriever, claim: str, k: int = 3, *, support: Logistic | None = None,
           doc_ids: Sequence[str] | None = None) -> LocateResult:
    """Find where the corpus (or the documents ``doc_ids``) states ``claim``: verbatim, normalised, or
    paraphrased at sentence level."""
    if k < 1:
        raise InvalidRequestError("k must be at least 1")
    text = claim.strip()
    if not text:
        raise InvalidRequestError("claim is empty: pass the sentence or statement to look up")
    t0 = time.perf_counter()
    index = retriever.index
    index.check_doc_ids(doc_ids)
    matches: list[Match] = []
    for doc_id, start, end, kind in verbatim_spans(index, text, k, doc_ids):
        doc = index.documents[doc_id]
        # the span is the claim up to case, quote marks and spacing: the same words, the same polarity
        conflicts = verbatim_conflicts(text, doc.text, start, end)
        matches.append(Match(doc_id, start, end, doc.text[start:end], 1.0, kind, conflicts,
                             _citation(doc, start, end)))
    supported = bool(matches) and not matches[0].conflicts
    if not matches:
        query = retriever.prepare(text)
        sids = candidate_sentences(retriever, query.vector, query.tokens, doc_ids=doc_ids)
        if len(sids):
            stats = corpus_stats(index)
            feats = claim_features(index, stats, query.tokens, query.vector, sids)
            scores = (support or SUPPORT).proba(feats)
            for j in np.argsort(-scores, kind="stable")[:k].tolist():
                sid = int(sids[j])
                sentence = index.sentences[sid]
                doc = index.documents[sentence.doc_id]
                known = stats.sentence_tokens[sid] | stats.label_tokens[sid]
                matches.append(Match(doc.doc_id, sentence.start, sentence.end, sentence.text,
                                     round(float(scores[j]), 4), "paraphrase",
                                     conflicts_of(text, sentence.text, usage=stats.usage),
                                     _citation(doc, sentence.start, sentence.end),
                                     unattested_facts(text, sentence.text, known, stats.usage)))
            # the best match backs the claim: scored as stating it, and nothing contradicted or left unstated
            # (the same test as rag.attestation.attested, which scripts/calibrate_claims.py applies)
            supported = bool(matches) and scores.max() >= SUPPORTED_FROM \
                and not matches[0].conflicts and not matches[0].missing
    return LocateResult(claim, bool(supported), tuple(matches), index.version,
                        round((time.perf_counter() - t0) * 1000.0, 3))
