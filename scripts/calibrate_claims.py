#!/usr/bin/env python
"""Fit the claim-support model of rag/claims.py (``SUPPORT``) on synthetic claims, and validate it.

    .venv/bin/python scripts/calibrate_claims.py --squad ../shared/eval/squad --corpus corpus --work /tmp/rag-calib

Claims are made from the SQuAD worlds of scripts/_devdata.py (fit on fold A, validate on fold B):

* ``excerpt`` (supported): a run of 30-90% of the words of an indexed sentence, a few words dropped;
* ``restated`` (supported): a question with its wh-phrase replaced by its gold answer, e.g.
  "Which NFL team represented the AFC?" → "Denver Broncos represented the AFC" (SQuAD questions
  re-word their sentence, so these behave like paraphrases);
* ``removed`` (not supported): an excerpt of a sentence from a paragraph removed from the index:
  on topic, but the corpus does not say it;
* ``offtopic`` (not supported): an excerpt of a sentence of the other fold's articles;
* ``swapped`` (not supported): an excerpt of an indexed sentence with one capitalised word
  replaced by another from the same article ("born in Odessa" → "born in Kiev");
* ``chimera`` (not supported): the start of an indexed sentence joined to the end of an
  off-topic one ("Lyushkov was" + "a famous violinist");
* ``negated`` (not supported): an excerpt of an indexed sentence with "not" put after its first
  auxiliary verb ("he was killed" → "he was not killed");
* ``unnegated`` (not supported): an excerpt of an indexed sentence that says "not" or "never",
  with that word taken out;
* ``swapped-first`` (not supported): a ``swapped`` claim that starts at the replaced name, as a
  claim's subject would ("Takeoka was born in Odessa");
* ``reversed`` (not supported): an excerpt of an indexed sentence with two of its names swapped
  ("Takeoka executed Lyushkov" → "Lyushkov executed Takeoka"): the same words in other roles. Some
  swaps keep the meaning ("between France and Germany"), so not every one of them should be refused.
* ``opposite`` (not supported): an excerpt of an indexed sentence with one word of rag/opposites.py's
  list put in its opposite's place ("the highest-ranking defector" → "the lowest-ranking defector").
* ``passive`` (supported) and ``passive-reversed`` (not supported): "B was <verb>ed by A" and "A was
  <verb>ed by B" from an indexed sentence's "A <verb>ed [the] B" (A and B runs of capitalised words).
  The last seven are reported, never fitted on (their own random draws, so the other kinds are the
  same claims as without them).

A claim counts as supported when its best-scored sentence is its source sentence and scores at
least ``SUPPORTED_FROM``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _devdata import CachingEmbedder, World, build_world, dropped, folds, load_squad, slug  # noqa: E402

from rag import calibration as cal  # noqa: E402
from rag import claims  # noqa: E402
from rag.attestation import attested  # noqa: E402
from rag.calibration import corpus_stats  # noqa: E402
from rag.chunking import split_prose  # noqa: E402

_WH = re.compile(r"^(?:in |on |at |by |during |from |to |for |of )?(?:what|which|who|whom|whose|when|where|how many|"
                 r"how much)\b(?:\s+(?:year|day|month|date|team|type|kind|percentage|number|amount)\b)?"
                 r"(?:\s+(?:did|does|do|was|were|is|are|has|had|have)\b)?", re.IGNORECASE)


@dataclass
class Claim:
    text: str
    kind: str
    source: tuple[str, int, int] | None  # (doc_id, start, end) of a sentence that states it
    sids: np.ndarray | None = None  # the candidate sentences, once collected


def excerpt(rng: random.Random, sentence: str) -> str | None:
    words = sentence.split()
    if len(words) < 6:
        return None
    n = max(4, int(len(words) * rng.uniform(0.3, 0.9)))
    start = rng.randint(0, len(words) - n)
    part = words[start:start + n]
    for _ in range(rng.randint(0, 2)):
        if len(part) > 4:
            part.pop(rng.randrange(1, len(part) - 1))
    return " ".join(part)


def sentences_of(paragraph: str) -> list[str]:
    return [paragraph[s:e] for s, e in split_prose(paragraph, 0, len(paragraph))]


def doc_names(index, indexed: list[int]) -> dict[str, list[str]]:  # noqa: ANN001
    """The capitalised one-word names (after each sentence's first word) of the ``indexed`` sentences, per
    document: what ``swapped`` claims put in a name's place."""
    names: dict[str, list[str]] = {}
    for i in indexed:
        s = index.sentences[i]
        names.setdefault(s.doc_id, []).extend(w for w in s.text.split()[1:] if w[:1].isupper() and w.isalpha())
    return names


def make_claims(world: World, other: list[str], articles: dict[str, list[str]], questions: list[dict],
                n: int, seed: int) -> list[Claim]:
    rng = random.Random(seed)
    index = world.retriever.index
    titles = sorted(world.articles)
    indexed = [i for i, s in enumerate(index.sentences)
               if s.kind == "text" and s.doc_id in {slug(t) for t in titles} and len(s.text.split()) >= 6]
    out: list[Claim] = []
    for i in rng.sample(indexed, min(n, len(indexed))):
        s = index.sentences[i]
        text = excerpt(rng, s.text)
        if text:
            out.append(Claim(text, "excerpt", (s.doc_id, s.start, s.end)))
    restated = []
    for q in questions:
        if q["title"] in titles and not dropped(q["title"], q["paragraph_index"]):
            m = _WH.match(q["question"].strip())
            if m:
                restated.append((q, m))
    for q, m in rng.sample(restated, min(n, len(restated))):
        a = q["answers"][0]
        text = (a["text"] + " " + q["question"].strip()[m.end():].strip()).rstrip("?").strip()
        out.append(Claim(text, "restated", ("answer", q["id"], 0)))
        world_answers[q["id"]] = (slug(q["title"]), a["text"])
    removed = [s for t in titles for p, para in enumerate(articles[t]) if dropped(t, p) for s in sentences_of(para)]
    off = [s for t in other for para in articles[t] for s in sentences_of(para)]
    for kind, pool in (("removed", removed), ("offtopic", off)):
        for s in rng.sample(pool, min(n, len(pool))):
            text = excerpt(rng, s)
            if text:
                out.append(Claim(text, kind, None))
    names = doc_names(index, indexed)
    for i in rng.sample(indexed, min(n, len(indexed))):
        s = index.sentences[i]
        words = s.text.split()
        spots = [k for k, w in enumerate(words) if k > 0 and w[:1].isupper() and w.isalpha()]
        others = [w for w in names.get(s.doc_id, []) if w not in words]
        if spots and others:
            k = rng.choice(spots)
            words[k] = rng.choice(others)
            lo = max(0, k - rng.randint(3, 8))
            out.append(Claim(" ".join(words[lo:k + rng.randint(2, 8)]), "swapped", None))
    for i in rng.sample(indexed, min(n, len(indexed))):
        head = index.sentences[i].text.split()
        tail = rng.choice(off).split()
        if len(tail) >= 6:
            cut = max(2, len(head) // 3)
            out.append(Claim(" ".join(head[:cut] + tail[len(tail) // 2:]), "chimera", None))
    return (out + polarity_claims(world, indexed, n, seed) + swapped_first_claims(world, indexed, n, seed)
            + reversed_claims(world, indexed, n, seed) + opposite_claims(world, indexed, n, seed)
            + passive_claims(world, indexed, n, seed))


def passive_claims(world: World, indexed: list[int], n: int, seed: int) -> list[Claim]:
    """``passive`` (supported) and ``passive-reversed`` (not supported) claims from a sentence's "A <verb>ed
    [the] B" (A and B runs of capitalised words, "The" left out): "B was <verb>ed by A", "A was <verb>ed by B"."""
    rng = random.Random(seed + 5000)
    index = world.retriever.index
    out: list[Claim] = []

    def name(w: str) -> bool:
        return w[:1].isupper() and w.rstrip(",;:.").isalpha() and w.lower() not in ("the", "a", "an")

    made = 0
    for i in rng.sample(indexed, len(indexed)):
        s = index.sentences[i]
        words = s.text.split()
        found = []
        for k in range(1, len(words) - 1):
            verb = words[k]
            if not (verb.isalpha() and verb.islower() and verb.endswith("ed") and name(words[k - 1])):
                continue
            lo = k - 1
            while lo > 0 and name(words[lo - 1]) and not words[lo - 1].endswith((",", ";", ":", ".")):
                lo -= 1
            hi = k + 1 + (words[k + 1] == "the")
            end = hi
            while end < len(words) and name(words[end]):
                end += 1
                if words[end - 1][-1] in ",;:.":
                    break
            if end > hi:
                a, b = " ".join(words[lo:k]), " ".join(words[hi:end]).rstrip(",;:.")
                if a != b:
                    found.append((a, verb, b))
        if not found:
            continue
        a, verb, b = rng.choice(found)
        out.append(Claim(f"{b} was {verb} by {a}", "passive", (s.doc_id, s.start, s.end)))
        out.append(Claim(f"{a} was {verb} by {b}", "passive-reversed", None))
        made += 1
        if made >= n:
            break
    return out


def opposite_claims(world: World, indexed: list[int], n: int, seed: int) -> list[Claim]:
    """``opposite`` claims: an excerpt around a lower-case word of a sentence put in its opposite's place."""
    from rag.opposites import _poles

    rng = random.Random(seed + 4000)
    index = world.retriever.index
    poles = _poles()
    out: list[Claim] = []
    for i in rng.sample(indexed, len(indexed)):
        words = index.sentences[i].text.split()
        spots = [k for k, w in enumerate(words) if w.strip(",;:.").split("-")[0] in poles]
        if not spots:
            continue
        k = rng.choice(spots)
        head, *rest = words[k].strip(",;:.").split("-")
        own, other = poles[head][0]
        words[k] = "-".join([sorted(other)[0], *rest])
        out.append(Claim(" ".join(words[max(0, k - rng.randint(2, 6)):k + rng.randint(3, 8)]), "opposite", None))
        if len(out) >= n:
            break
    return out


# the kinds SUPPORT is fitted on; the others (negated, unnegated, swapped-first, reversed, opposite, passive…) are
# only reported: the rules of rag/attestation.py refuse them, not the fitted score
FITTED_KINDS = frozenset({"excerpt", "restated", "removed", "offtopic", "swapped", "chimera"})


def reversed_claims(world: World, indexed: list[int], n: int, seed: int) -> list[Claim]:
    """``reversed`` claims: two one-word names of a sentence, at most 8 words apart, swapped, and the
    words around them ("Lyushkov executed Takeoka" from "… Takeoka executed Lyushkov …")."""
    rng = random.Random(seed + 3000)
    index = world.retriever.index
    out: list[Claim] = []

    def name(words: list[str], k: int) -> bool:  # a capitalised word standing alone (not part of "Genzo Yanagita")
        return (0 < k < len(words) and words[k][:1].isupper() and words[k].isalpha()
                and not words[k - 1][:1].isupper() and (k + 1 == len(words) or not words[k + 1][:1].isupper()))

    for i in rng.sample(indexed, len(indexed)):
        words = index.sentences[i].text.split()
        pairs = [(a, b) for a in range(len(words)) for b in range(a + 2, min(a + 9, len(words)))
                 if name(words, a) and name(words, b) and words[a] != words[b]]
        if not pairs:
            continue
        a, b = rng.choice(pairs)
        words[a], words[b] = words[b], words[a]
        out.append(Claim(" ".join(words[max(0, a - rng.randint(1, 4)):b + rng.randint(2, 5)]), "reversed", None))
        if len(out) >= n:
            break
    return out


def swapped_first_claims(world: World, indexed: list[int], n: int, seed: int) -> list[Claim]:
    """``swapped-first`` claims: a ``swapped`` claim that starts at the replaced name ("Takeoka was born
    in Odessa" from "… Lyushkov was born in Odessa"), where a claim's subject usually is."""
    rng = random.Random(seed + 2000)
    index = world.retriever.index
    names = doc_names(index, indexed)
    out: list[Claim] = []
    for i in rng.sample(indexed, len(indexed)):
        s = index.sentences[i]
        words = s.text.split()
        spots = [k for k, w in enumerate(words[:-4]) if k > 0 and w[:1].isupper() and w.isalpha()]
        others = [w for w in names.get(s.doc_id, []) if w not in words]
        if spots and others:
            k = rng.choice(spots)
            words[k] = rng.choice(others)
            out.append(Claim(" ".join(words[k:k + rng.randint(4, 10)]), "swapped-first", None))
            if len(out) >= n:
                break
    return out


_AUX = frozenset(["is", "was", "were", "are", "has", "had", "have", "can", "could", "will", "would", "did", "does",
                  "do", "may", "might", "must", "should"])


def polarity_claims(world: World, indexed: list[int], n: int, seed: int) -> list[Claim]:
    """``negated`` and ``unnegated`` claims: an excerpt around the verb whose polarity was flipped."""
    rng = random.Random(seed + 1000)
    index = world.retriever.index
    out: list[Claim] = []
    for kind in ("negated", "unnegated"):
        made = 0
        for i in rng.sample(indexed, len(indexed)):
            words = index.sentences[i].text.split()
            lowered = [w.lower().strip(",;:") for w in words]
            if kind == "negated":
                spots = [k for k, w in enumerate(lowered[:-1]) if w in _AUX and lowered[k + 1] not in ("not", "never")
                         and not any(x in ("not", "never") or x.endswith("n't") for x in lowered)]
                if not spots:
                    continue
                k = spots[0]
                words = words[:k + 1] + ["not"] + words[k + 1:]
            else:
                spots = [k for k, w in enumerate(lowered) if w in ("not", "never") and 0 < k < len(words) - 1]
                if not spots:
                    continue
                k = spots[0]
                words = words[:k] + words[k + 1:]
            lo = max(0, k - rng.randint(2, 6))
            out.append(Claim(" ".join(words[lo:k + rng.randint(4, 10)]), kind, None))
            made += 1
            if made >= n:
                break
    return out


world_answers: dict[str, tuple[str, str]] = {}


def collect(world: World, items: list[Claim]) -> list[tuple[Claim, np.ndarray, np.ndarray, bool]]:
    """Per claim: candidate features, which candidates state it, and whether it is matched verbatim."""
    retriever = world.retriever
    index = retriever.index
    stats = corpus_stats(index)
    rows = []
    for c in items:
        spans = claims.verbatim_spans(index, c.text, 1)  # None: no verbatim match; else whether it backs the claim
        verbatim = None if not spans else not claims.verbatim_conflicts(
            c.text, index.documents[spans[0][0]].text, spans[0][1], spans[0][2])
        query = retriever.prepare(c.text)
        sids = claims.candidate_sentences(retriever, query.vector, query.tokens)
        c.sids = sids
        feats = claims.claim_features(index, stats, query.tokens, query.vector, sids)
        if c.source is None:
            labels = np.zeros(len(sids), dtype=bool)
        elif c.source[0] == "answer":
            doc_id, answer = world_answers[c.source[1]]
            labels = np.array([index.sentences[s].doc_id == doc_id and answer in index.sentences[s].text
                               for s in sids.tolist()], dtype=bool)
        else:
            doc_id, start, end = c.source
            labels = np.array([index.sentences[s].doc_id == doc_id and index.sentences[s].start == start
                               for s in sids.tolist()], dtype=bool)
        facts = np.array([attested(c.text, index.sentences[s].text, stats.sentence_tokens[s] | stats.label_tokens[s],
                                   stats.usage) for s in sids.tolist()], dtype=bool)
        rows.append((c, feats, labels, verbatim, facts))
    return rows


def decide(feats: np.ndarray, verbatim: bool | None, facts: np.ndarray, model: cal.Logistic, threshold: float,
           ) -> tuple[int, float, bool]:
    """(the best-scored candidate, its score, whether the claim is supported) as ``rag.claims.locate``
    decides it: matched verbatim without a conflict (a verbatim match with one is not supported, and no
    paraphrase is tried), or the best candidate scores at least ``threshold`` and attests it."""
    p = model.proba(feats)
    j = int(np.argmax(p))
    return j, float(p[j]), bool(verbatim) if verbatim is not None else bool(p[j] >= threshold and facts[j])


def outcomes(rows: list, model: cal.Logistic, threshold: float) -> dict[str, float]:
    """Per kind of claim, the share handled right: supported at its sentence, or not supported."""
    out = {}
    for kind in ("excerpt", "restated", "removed", "offtopic", "swapped", "chimera", "negated", "unnegated",
                 "swapped-first", "reversed", "opposite", "passive", "passive-reversed"):
        sel = [r for r in rows if r[0].kind == kind and len(r[1])]
        ok = 0
        for c, feats, labels, verbatim, facts in sel:
            j, _, supported = decide(feats, verbatim, facts, model, threshold)
            ok += (supported and bool(labels[j])) if c.source else (not supported)
        out[kind] = ok / max(1, len(sel))
    return out


def choose_threshold(rows: list, model: cal.Logistic, cost: float = 2.0) -> float:
    """The threshold that maximises supported-kind success minus ``cost`` × unsupported-kind failure.

    A false "supported" (a chatbot citing a sentence that does not say it) costs twice a missed one.
    """
    def utility(t: float) -> float:
        o = outcomes(rows, model, t)
        hit = (o["excerpt"] + o["restated"]) / 2
        false = 1 - (o["removed"] + o["offtopic"] + o["swapped"] + o["chimera"]) / 4
        print(f"  threshold {t:.2f}: supported kinds {hit:.3f}, false support {false:.3f}")
        return hit - cost * false
    return max(np.arange(0.05, 0.91, 0.05).round(2).tolist(), key=utility)


def dump(path: Path, name: str, world: World, rows: list, model: cal.Logistic, threshold: float) -> None:
    """Append each claim's outcome (kind, claim, supported, best sentence) to ``path`` as JSON lines."""
    index = world.retriever.index
    with path.open("a", encoding="utf-8") as f:
        for c, feats, labels, verbatim, facts in rows:
            if not len(feats):
                continue
            j, score, supported = decide(feats, verbatim, facts, model, threshold)
            f.write(json.dumps({"set": name, "kind": c.kind, "claim": c.text, "supported": supported,
                                "score": round(score, 4), "right_sentence": bool(labels[j]),
                                "sentence": index.sentences[int(c.sids[j])].text}, ensure_ascii=False) + "\n")


def evaluate(name: str, rows: list, model: cal.Logistic, threshold: float) -> None:
    print(f"== {name}: supported at >= {threshold}")
    for kind, share in outcomes(rows, model, threshold).items():
        sel = [r for r in rows if r[0].kind == kind and len(r[1])]
        goal = "supported at the right sentence" if sel and sel[0][0].source else "not supported"
        print(f"  {kind:9s} n={len(sel):4d}  {goal}: {share:.3f}  (verbatim {sum(r[3] is not None for r in sel)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("-n", type=int, default=300, help="claims of each kind per fold")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--threshold", type=float, help="support threshold (default: chosen on fold A)")
    ap.add_argument("--current", action="store_true", help="validate the constants in rag/claims.py as they are")
    ap.add_argument("--dump", type=Path, help="write every claim's outcome to this JSON Lines file")
    ap.add_argument("--lower", action="store_true", help="every claim typed in lower case, as users often do "
                                                         "(with --current: how the names rule holds up)")
    args = ap.parse_args()
    embedder = CachingEmbedder(args.work / "embeddings.npz")
    articles, questions = load_squad(args.squad)
    fold_a, fold_b = folds(list(articles))
    counts = (0, 0, 0)
    world_a = build_world("fold-a", fold_a, fold_b, articles, questions, args.corpus, args.work, embedder, counts)
    world_b = build_world("fold-b", fold_b, fold_a, articles, questions, args.corpus, args.work, embedder, counts)
    claims_a = make_claims(world_a, fold_b, articles, questions, args.n, 0)
    claims_b = make_claims(world_b, fold_a, articles, questions, args.n, 1)
    for c in (claims_a + claims_b) if args.lower else []:
        c.text = c.text.lower()
    rows_a = collect(world_a, claims_a)
    rows_b = collect(world_b, claims_b)
    embedder.save()
    if args.current:
        model, threshold = claims.SUPPORT, claims.SUPPORTED_FROM
    else:
        fit = [r for r in rows_a if len(r[1]) and r[0].kind in FITTED_KINDS]
        model = cal.fit_logistic(np.vstack([r[1] for r in fit]), np.concatenate([r[2] for r in fit]).astype(float),
                                 l2=args.l2)
        threshold = args.threshold if args.threshold is not None else choose_threshold(rows_a, model)
    print("SUPPORTED_FROM =", threshold)
    print("SUPPORT =", model, dict(zip(claims.CLAIM_FEATURES, np.round(model.coef, 3), strict=True)))
    evaluate("fit (fold A)", rows_a, model, threshold)
    evaluate("validation (fold B)", rows_b, model, threshold)
    if args.dump:
        args.dump.unlink(missing_ok=True)
        dump(args.dump, "fold-a", world_a, rows_a, model, threshold)
        dump(args.dump, "fold-b", world_b, rows_b, model, threshold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
