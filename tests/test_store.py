from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding import FakeEmbedder
from rag.errors import IncompatibleIndexError, IndexError_
from rag.service import build
from rag.store import current_generation, load_index, read_manifest
from tests.conftest import write_corpus


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_manifest_describes_the_build(built_settings: Settings) -> None:
    manifest = read_manifest(built_settings.index_dir)
    assert manifest is not None
    assert manifest["format_version"] == 1
    assert manifest["model"] == {"id": FakeEmbedder.model_id, "dim": 64, "normalized": True, "metric": "inner_product"}
    assert manifest["chunker"]["target_chars"] == 300
    assert {d["doc_id"] for d in manifest["documents"]} == {"ada_lovelace", "tea"}
    gen = current_generation(built_settings.index_dir)
    assert gen is not None
    for name, digest in manifest["files"].items():
        assert (gen / name).is_file() and len(digest) == 64
    assert not list(gen.rglob("*.pkl")) and not list(gen.rglob("*.pickle"))


def test_loaded_index_resolves_every_offset(built_settings: Settings) -> None:
    index = load_index(built_settings.index_dir, FakeEmbedder())
    for chunk in index.chunks:
        assert index.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
    for s in index.sentences:
        assert index.documents[s.doc_id].text[s.start:s.end] == s.text
    assert index.chunk_vectors.shape == (len(index.chunks), 64)


def test_rebuild_is_reproducible_and_a_noop_when_unchanged(tmp_path: Path, corpus_dir: Path) -> None:
    a = Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "a")
    b = Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "b")
    ra, rb = build(a), build(b)
    assert ra.built and rb.built and ra.path is not None and rb.path is not None
    assert ra.path.name == rb.path.name
    fa, fb = _files(ra.path), _files(rb.path)
    fa.pop("manifest.json"), fb.pop("manifest.json")
    assert fa == fb
    again = build(a)
    assert not again.built
    assert current_generation(a.index_dir) == ra.path


def test_changed_corpus_makes_a_new_generation_and_reuses_vectors(tmp_path: Path, corpus_dir: Path) -> None:
    settings = Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "ix")
    embedder = FakeEmbedder()
    build(settings, embedder=embedder)
    first = embedder.texts_embedded
    write_corpus(corpus_dir, {"new_doc.txt": "= New =\n\nA brand new document about kites."})
    report = build(settings, embedder=embedder)
    assert report.built and report.path is not None and report.path.name.startswith("000002-")
    index = load_index(settings.index_dir, embedder)
    new = [c for c in index.chunks if c.doc_id == "new_doc"]
    new_sentences = [s for s in index.sentences if s.doc_id == "new_doc"]
    # only the new document was embedded the second time
    assert new and embedder.texts_embedded - first == len(new_sentences)  # chunk vectors are sentence means


def test_crash_mid_build_leaves_previous_index(tmp_path: Path, corpus_dir: Path, monkeypatch) -> None:
    settings = Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "ix")
    build(settings)
    before = current_generation(settings.index_dir)
    write_corpus(corpus_dir, {"extra.txt": "Something else entirely."})

    import rag.store

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(rag.store, "_write_jsonl", boom)
    with pytest.raises(OSError):
        build(settings)
    assert current_generation(settings.index_dir) == before
    index = load_index(settings.index_dir, FakeEmbedder())
    assert "extra" not in index.documents
    assert not [p for p in (settings.index_dir / "generations").iterdir() if p.name.startswith(".")]


def test_missing_index_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="rag build"):
        load_index(tmp_path / "none", FakeEmbedder())


def test_index_from_another_model_is_refused(built_settings: Settings) -> None:
    with pytest.raises(IncompatibleIndexError, match="rag build"):
        load_index(built_settings.index_dir, FakeEmbedder(dim=32))
    gen = current_generation(built_settings.index_dir)
    assert gen is not None
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["model"]["id"] = "someone/else"
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IncompatibleIndexError, match="someone/else"):
        load_index(built_settings.index_dir, FakeEmbedder())


@pytest.mark.parametrize("name", ["dense.faiss", "chunks.jsonl", "documents.jsonl", "bm25/chunks/data.csc.index.npy"])
def test_flipped_byte_is_detected(built_settings: Settings, name: str) -> None:
    gen = current_generation(built_settings.index_dir)
    assert gen is not None
    path = gen / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexError_, match="corrupted"):
        load_index(built_settings.index_dir, FakeEmbedder())


def test_old_generations_are_collected(tmp_path: Path, corpus_dir: Path) -> None:
    settings = Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "ix", keep_generations=2,
                        gc_grace_seconds=0)
    for i in range(4):
        write_corpus(corpus_dir, {f"d{i}.txt": f"Document number {i}."})
        build(settings)
    names = sorted(p.name for p in (settings.index_dir / "generations").iterdir())
    assert len(names) == 2 and names[-1].startswith("000004-")


def test_corrupted_current_generation_falls_back_to_last_good(tmp_path: Path, corpus_dir: Path) -> None:
    settings = Settings(embedder="fake", corpus_dir=corpus_dir, index_dir=tmp_path / "ix")
    first = build(settings).path
    write_corpus(corpus_dir, {"extra.txt": "Something else entirely."})
    second = build(settings).path
    assert first is not None and second is not None
    (second / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match="corrupted"):
        load_index(settings.index_dir, FakeEmbedder())
    index = load_index(settings.index_dir, FakeEmbedder(), fallback=True)
    assert index.path == first and "extra" not in index.documents
    assert index.warnings and second.name in index.warnings[0]
    (first / "chunks.jsonl").write_text("")
    with pytest.raises(IndexError_):
        load_index(settings.index_dir, FakeEmbedder(), fallback=True)


def test_a_new_chunker_version_rebuilds_instead_of_reusing(built_settings: Settings,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import chunking

    manifest = read_manifest(built_settings.index_dir)
    assert manifest is not None and manifest["chunker"]["version"] == chunking.CHUNKER_VERSION
    assert not build(built_settings).built  # unchanged corpus and code: nothing to do
    before = current_generation(built_settings.index_dir)
    monkeypatch.setattr(chunking, "CHUNKER_VERSION", chunking.CHUNKER_VERSION + 1)
    assert build(built_settings).built  # same corpus, same settings, new chunking code
    after = read_manifest(built_settings.index_dir)
    assert after is not None and after["chunker"]["version"] == chunking.CHUNKER_VERSION
    assert after["fingerprint"] != manifest["fingerprint"] and current_generation(built_settings.index_dir) != before
