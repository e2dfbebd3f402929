"""Re-used and migrated vectors are the stored ones, bit for bit, whatever the CPU.

A unit vector divided by its norm again changes in its last bits, and by how much depends on
the CPU's float rounding; so a store that re-normalised every row would hand an edited
article's unchanged paragraphs slightly different vectors than it stored. These tests give
the store unit vectors whose re-normalisation is known to change bits (one-ulp nudges, as
another CPU's model output would have), so the property is checked here, on this machine,
rather than only where rounding happens to differ.
"""
from __future__ import annotations

import numpy as np
import pytest

from index.storage import MilvusRef
from index.indexing.lifecycle import add_paths, open_writable
from index.storage.checks import UNIT_TOLERANCE, prepare_vectors as _prepare_vectors, text_hash as _text_hash
from tests.test_lifecycle import BANJIR, GEMPA, write


def nudged(vecs: np.ndarray) -> np.ndarray:
    """Unit vectors lengthened by a few ulps and moved by one ulp in every other component:
    still unit to ~1e-6, but dividing by the norm no longer gives the same bits (the tests
    check that it does not, so they cannot pass by luck)."""
    out = np.asarray(vecs, dtype=np.float32) * np.float32(1 + 2 ** -21)
    out[:, ::2] = np.nextafter(out[:, ::2], np.float32(np.inf))
    return out


def renormalised(vecs: np.ndarray) -> np.ndarray:
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


class CountingEmbedder:
    """The real model, with its passage vectors nudged and every embedded text recorded."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self.texts: list[str] = []
        self.outputs: dict[str, np.ndarray] = {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed_passages(self, texts, batch_size=32, on_batch=None):
        texts = list(texts)
        self.texts.extend(texts)
        out = nudged(self._embedder.embed_passages(texts, batch_size=batch_size, on_batch=on_batch))
        for text, row in zip(texts, out):
            self.outputs[text] = row
        return out


def test_unit_rows_are_kept_bit_for_bit_and_others_normalised():
    rng = np.random.default_rng(7)
    unit = renormalised(rng.standard_normal((64, 384)).astype(np.float32))
    unit = nudged(unit)
    assert (renormalised(unit) != unit).any()  # the old behaviour would have changed them
    half = unit.astype("<f2").astype(np.float32)  # as read back from the vectors table
    raw = rng.standard_normal((8, 384)).astype(np.float32) * 3.0
    prepared = _prepare_vectors(np.concatenate([unit, half, raw]), 64 + 64 + 8, 384)
    assert prepared.dtype == np.float32
    assert prepared[:64].tobytes() == unit.tobytes()
    assert prepared[64:128].tobytes() == half.tobytes()
    norms = np.linalg.norm(prepared[128:], axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-6)
    assert np.abs(np.linalg.norm(half, axis=1) - 1).max() < UNIT_TOLERANCE
    with pytest.raises(ValueError, match="all-zero"):
        _prepare_vectors(np.zeros((1, 384), dtype=np.float32), 1, 384)


@pytest.fixture(params=["faiss", "milvus"])
def ref(request, tmp_path):
    if request.param == "faiss":
        return tmp_path / "idx"
    return MilvusRef.parse(str(tmp_path / "milvus.db"), "qa_reuse")


def test_edit_re_embeds_one_paragraph_and_keeps_the_others_exactly(ref, embedder, tmp_path):
    counting = CountingEmbedder(embedder)
    corpus = tmp_path / "corpus"
    write(corpus / "banjir.txt", BANJIR)
    write(corpus / "gempa.txt", GEMPA)
    with open_writable(ref, counting) as store:
        add_paths(store, counting, [corpus])
        texts = {p.text: p for a in store.articles() for p in store.article_paragraphs(a.id)}
        stored = store.stored_views(_text_hash(t) for t in texts)
        assert len(stored) == 5
        # What the model gave is what is stored: no re-normalisation on the way in.
        for views in stored.values():
            assert all(any(row.tobytes() == out.tobytes() for out in counting.outputs.values())
                       for row in views)
        assert all((renormalised(out[None]) != out).any() for out in counting.outputs.values())
        counting.texts.clear()
        write(corpus / "banjir.txt", BANJIR.replace("masjid dan sekolah", "balai warga"))
        report = add_paths(store, counting, [corpus])
        assert (report.paragraphs_embedded, report.paragraphs_reused) == (1, 2)
        # Only the edited paragraph's views went through the model.
        assert counting.texts and all("balai warga" in t for t in counting.texts)
        after = store.stored_views(_text_hash(t) for t in texts)
        kept = [_text_hash(t) for t in texts if "masjid" not in t]
        assert len(kept) == 4 and set(kept) <= set(after)
        for h in kept:
            assert after[h].dtype == np.float32
            assert after[h].tobytes() == stored[h].tobytes()  # re-used, bit for bit


def test_migrate_copies_vectors_bit_for_bit(embedder, tmp_path):
    from index.storage import open_store
    from index.indexing.migrate import migrate

    counting = CountingEmbedder(embedder)
    corpus = tmp_path / "corpus"
    write(corpus / "banjir.txt", BANJIR)
    source_ref = tmp_path / "idx"
    with open_writable(source_ref, counting) as store:
        add_paths(store, counting, [corpus])
    target = MilvusRef.parse(str(tmp_path / "milvus.db"), "qa_copy")
    with open_store(source_ref) as source:
        hashes = [_text_hash(p.text) for p in source.article_paragraphs("banjir")]
        before = source.stored_views(hashes)
        report = migrate(source, target)
    assert report.vectors == sum(len(v) for v in before.values())
    back = tmp_path / "back"
    with open_store(target) as copy:
        copied = copy.stored_views(hashes)
        migrate(copy, back)
    with open_store(back) as again:
        returned = again.stored_views(hashes)
    for h in hashes:
        assert copied[h].tobytes() == before[h].tobytes()
        assert returned[h].tobytes() == before[h].tobytes()
