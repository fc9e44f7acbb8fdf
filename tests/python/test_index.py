"""latent.Index against the same FAISS index built with Debian's python3-faiss."""

import numpy as np
import pytest

import latent

faiss = pytest.importorskip("faiss")


def recall(found, exact):
    return np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)])


def test_flat_index_equals_exact_knn(images):
    x = images[0]
    index = latent.Index(784, "Flat", metric="l2")
    index.add(x)
    assert index.ntotal == 1000 and index.d == 784
    ids, scores = index.search(x[:50], k=10)
    exact_ids, exact_scores = latent.knn(x, x[:50], k=10, metric="l2")
    np.testing.assert_array_equal(ids, exact_ids)
    # FAISS forms |q|^2 + |x|^2 - 2 q.x in float32: compare squares, whose error is absolute.
    np.testing.assert_allclose(scores ** 2, exact_scores ** 2, rtol=1e-4, atol=1e-5 * (exact_scores ** 2).max())


def test_hnsw_recall_against_python_faiss(images):
    x = images[0]
    queries = x[:200]
    exact, _ = latent.knn(x, queries, k=10, metric="l2")
    ours = latent.Index(784, "HNSW32", metric="l2")
    ours.add(x)
    ids, _ = ours.search(queries, k=10, ef_search=64)
    theirs = faiss.index_factory(784, "HNSW32", faiss.METRIC_L2)
    theirs.hnsw.efSearch = 64
    theirs.add(x)
    _, their_ids = theirs.search(queries, 10)
    ours_recall, their_recall = recall(ids, exact), recall(their_ids, exact)
    assert ours_recall >= 0.95
    assert abs(ours_recall - their_recall) <= 0.02


def test_ivf_cosine_rerank_and_save(tmp_path, encoders):
    a = encoders[0]
    index = latent.Index(64, "IVF16,Flat", metric="cosine", keep_vectors=True)
    index.train(a)
    index.add(a, ids=np.arange(1000, 3000))
    ids, scores = index.search(a[:20], k=5, nprobe=16, rerank="exact")
    exact_ids, exact_scores = latent.knn(a, a[:20], k=5, metric="cosine")
    np.testing.assert_array_equal(ids, exact_ids + 1000)
    np.testing.assert_allclose(scores, exact_scores, atol=1e-6)
    index.save(str(tmp_path / "ivf.index"))
    loaded = latent.Index.load(str(tmp_path / "ivf.index"))
    assert loaded.ntotal == 2000 and loaded.metric == "cosine"
    again, _ = loaded.search(a[:20], k=5, nprobe=16)
    np.testing.assert_array_equal(again, index.search(a[:20], k=5, nprobe=16)[0])


def test_binary_index(encoders):
    codes = latent.quantize(encoders[0], type="binary")
    assert codes.dtype == np.uint8 and codes.shape == (2000, 8)
    index = latent.BinaryIndex(64, "BFlat")
    index.add(codes)
    ids, distances = index.search(codes[:10], k=3)
    bits = np.unpackbits(codes, axis=1)
    hamming = (bits[:10, None, :] != bits[None, :, :]).sum(-1)
    np.testing.assert_array_equal(distances[:, 0], 0)
    np.testing.assert_array_equal(np.sort(hamming, axis=1)[:, :3], distances)
