"""The ONNX Runtime embedder: pooling and batching on a tiny hand-made graph, the export cache,
backend selection with a clean fallback, and (slow) parity of the real export with torch."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag import onnx_export
from rag.embedding import AutoEmbedder, OnnxEmbedder, SentenceTransformerEmbedder, get_embedder
from rag.errors import ConfigError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def tiny_graph(path: Path, dim: int = 8, vocab: int = 30522) -> np.ndarray:
    """An ONNX 'transformer' whose hidden state of a token is a fixed random row: Gather(table, ids)."""
    from onnx import TensorProto, helper, numpy_helper

    table = np.random.default_rng(0).standard_normal((vocab, dim)).astype(np.float32)
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in onnx_export.INPUTS]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", dim])
    node = helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"])
    graph = helper.make_graph([node], "tiny", inputs, [output], [numpy_helper.from_array(table, "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx_export.OPSET)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return table


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[OnnxEmbedder, np.ndarray]:
    table = tiny_graph(tmp_path / "tiny.onnx")
    embedder = OnnxEmbedder(tmp_path / "tiny.onnx", onnx_export.model_dir(), batch_size=3)
    embedder.dim = table.shape[1]
    return embedder, table


def test_query_is_the_normalised_mean_of_its_token_states(tiny: tuple[OnnxEmbedder, np.ndarray]) -> None:
    embedder, table = tiny
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(onnx_export.model_dir() / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads to 128 tokens; the model (like sentence-transformers) must not
    ids = tokenizer.encode("Who killed Lyushkov?").ids
    assert ids[0] == 101 and ids[-1] == 102  # [CLS] ... [SEP], as the model was trained
    expected = table[ids].mean(axis=0)
    np.testing.assert_allclose(embedder.embed_query("Who killed Lyushkov?"), expected / np.linalg.norm(expected),
                               rtol=1e-5, atol=1e-6)


def test_batches_ignore_padding_and_keep_the_order(tiny: tuple[OnnxEmbedder, np.ndarray]) -> None:
    embedder, _ = tiny
    texts = ["a much longer text with many more words than the others " * 3, "short", "", "medium length text",
             "x " * 600, "short"]
    batch = embedder.embed_documents(texts)
    single = np.stack([embedder.embed_query(t) for t in texts])
    np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)
    assert embedder.embed_documents([]).shape == (0, embedder.dim)


def test_long_texts_are_truncated_like_the_model(tiny: tuple[OnnxEmbedder, np.ndarray]) -> None:
    embedder, _ = tiny
    long_a = "alpha " * 300 + "omega"
    long_b = "alpha " * 300 + "zebra crossing"
    assert np.allclose(embedder.embed_query(long_a), embedder.embed_query(long_b))  # both cut at 256 tokens


def _fake_model(folder: Path, weights: bytes = b"w") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "config.json", "sentence_bert_config.json"):
        (folder / name).write_text("{}")
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_cache_key_follows_weights_and_export_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = onnx_export.cache_key(_fake_model(tmp_path / "a", b"one"))
    assert a == onnx_export.cache_key(_fake_model(tmp_path / "b", b"one"))
    assert a != onnx_export.cache_key(_fake_model(tmp_path / "c", b"two"))
    monkeypatch.setattr(onnx_export, "EXPORT_VERSION", "next")
    assert a != onnx_export.cache_key(tmp_path / "a")


def test_cache_entry_is_used_only_when_complete_and_checked(tmp_path: Path) -> None:
    key = "k" * 20
    (tmp_path / f"{key}.onnx").write_bytes(b"12345")
    assert onnx_export.cached(tmp_path, key) is None  # no report yet: an export in progress or one that failed
    report = {"key": key, "onnx_bytes": 5, "parity_ok": True}
    (tmp_path / f"{key}.json").write_text(json.dumps(report))
    found = onnx_export.cached(tmp_path, key)
    assert found is not None and found[0] == tmp_path / f"{key}.onnx"
    for bad in ({"onnx_bytes": 4}, {"parity_ok": False}, {"key": "other"}):
        (tmp_path / f"{key}.json").write_text(json.dumps({**report, **bad}))
        assert onnx_export.cached(tmp_path, key) is None
    (tmp_path / f"{key}.json").write_text("{not json")
    assert onnx_export.cached(tmp_path, key) is None


def test_auto_falls_back_to_torch_without_onnxruntime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    auto = AutoEmbedder(cache_dir=tmp_path)
    query, documents = auto._resolve()
    assert isinstance(query, SentenceTransformerEmbedder) and query is documents
    assert auto.backend == "torch" and "ONNX Runtime unavailable" in auto.reason
    assert not any(tmp_path.iterdir())  # nothing exported
    assert auto.model_id == query.model_id and auto.dim == query.dim  # an index does not care which


@pytest.mark.parametrize(("onnx_ms", "onnx_rate", "expected"), [
    (3.0, 100.0, "onnxruntime"), (30.0, 100.0, "torch/onnxruntime"), (3.0, 10.0, "onnxruntime/torch")])
def test_auto_uses_onnx_where_it_measured_faster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 onnx_ms: float, onnx_rate: float, expected: str) -> None:
    report = {"onnx_query_ms": onnx_ms, "torch_query_ms": 10.0, "onnx_batch_per_s": onnx_rate,
              "torch_batch_per_s": 50.0}
    monkeypatch.setattr(onnx_export, "ensure", lambda *_a, **_k: (tmp_path / "m.onnx", report))
    auto = AutoEmbedder(cache_dir=tmp_path)
    auto._resolve()
    assert auto.backend == expected


def test_unknown_embedder_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="auto, onnx, sentence-transformers, fake"):
        get_embedder("bert")


def test_import_and_help_load_no_onnx_runtime() -> None:
    code = ("import sys, rag, rag.cli, rag.embedding, rag.config, rag.service\n"
            "rag.embedding.get_embedder('auto')\n"
            "try:\n    rag.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('onnxruntime', 'onnx', 'tokenizers', 'torch') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


@pytest.mark.slow
def test_real_export_matches_torch_and_is_cached(tmp_path: Path, real_embedder) -> None:
    path, report = onnx_export.ensure(tmp_path, real_embedder)
    assert report["parity_ok"] and report["parity_min_cos"] >= onnx_export.PARITY_MIN_COS
    onnx_embedder = OnnxEmbedder(path, onnx_export.model_dir())
    texts = ["Who killed Lyushkov?", "In 1843 she translated an article by Luigi Menabrea.",
             "Tea drinking may have begun in Yunnan during the Shang dynasty. " * 4]
    cosines = (onnx_embedder.embed_documents(texts) * real_embedder.embed_documents(texts)).sum(axis=1)
    assert cosines.min() >= 0.999
    query = np.dot(onnx_embedder.embed_query(texts[0]), real_embedder.embed_query(texts[0]))
    assert query >= 0.999
    mtime = path.stat().st_mtime_ns
    t0 = time.perf_counter()
    again, _ = onnx_export.ensure(tmp_path, real_embedder)
    assert again == path and path.stat().st_mtime_ns == mtime and time.perf_counter() - t0 < 5


def test_token_vectors_are_each_word_pieces_state_with_its_offsets(tiny: tuple[OnnxEmbedder, np.ndarray]) -> None:
    """rag.soft_match reads a question word's pieces by their character offsets: the tiny graph's state of a
    piece is its table row, so each vector must be that row (normalised), at offsets that slice the piece."""
    embedder, table = tiny
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(onnx_export.model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    texts = ["Who killed Lyushkov?", "a much longer text, padded to the longest of the batch"]
    for text, (offsets, vectors) in zip(texts, embedder.token_vectors(texts), strict=True):
        encoding = tokenizer.encode(text)
        ids = encoding.ids[1:-1]  # without [CLS] and [SEP]
        assert len(vectors) == len(offsets) == len(ids)
        expected = table[ids] / np.linalg.norm(table[ids], axis=1, keepdims=True)
        np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-6)
        pieces = [text[a:b].lower() for a, b in offsets]
        assert [p.removeprefix("##") for p in encoding.tokens[1:-1]] == pieces
    assert embedder.token_vectors([]) == []
