"""Codecs beside int8 / binary against independent evaluations: int4 codes
against numpy's formula (and the CLI's file against the binding's), PQ against
Python FAISS's own ProductQuantizer trained with the same parameters (the same
library: the same centroids and codes), VQ against numpy's nearest centroid, and
the recall of the decoded rows of each on the bundled encoder latents."""

import os
import subprocess

import numpy as np
import pytest

import latent

CLI = os.environ.get("LATENT_CLI")
faiss = pytest.importorskip("faiss")
needs_faiss = pytest.mark.skipif(not hasattr(latent, "VectorCodec"), reason="built without FAISS")


def recall(found, exact):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)])


def test_int4_codes_follow_the_formula(encoders, tmp_path):
    x = encoders[0][:500]
    codes = latent.quantize(x, type="int4")
    assert codes.dtype == np.uint8 and codes.shape == (500, 32)
    low, high = x.min(axis=0).astype(np.float64), x.max(axis=0).astype(np.float64)
    step = (high.astype(np.float32) - low.astype(np.float32)) / np.float32(15)
    levels = np.stack([codes & 0xF, codes >> 4], axis=2).reshape(500, 64)
    position = (x - low.astype(np.float32)) / step
    clear = np.abs(position - np.floor(position) - 0.5) > 1e-3
    np.testing.assert_array_equal(levels[clear], np.rint(position)[clear])
    quantizer = latent.Quantizer(type="int4").fit(x)
    decoded = quantizer.decode(codes)
    assert np.abs(decoded - x).max() <= 0.5 * step.max() * (1 + 1e-4)
    if CLI:
        np.save(tmp_path / "x.npy", x)
        result = subprocess.run([CLI, "quantize", tmp_path / "x.npy", "--type", "int4", "-o", tmp_path / "c.npy"],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert np.load(tmp_path / "c.npy").tobytes() == codes.tobytes()


@needs_faiss
def test_pq_equals_python_faiss(encoders):
    x = np.ascontiguousarray(encoders[0][:1500])
    codec = latent.VectorCodec("pq", subquantizers=8, bits=6, iterations=20, seed=7, threads=1).fit(x)
    pq = faiss.ProductQuantizer(64, 8, 6)
    pq.cp.niter = 20
    pq.cp.seed = 7
    faiss.omp_set_num_threads(1)
    pq.train(x)
    np.testing.assert_array_equal(codec.encode(x), pq.compute_codes(x))
    np.testing.assert_array_equal(codec.decode(codec.encode(x)), pq.decode(pq.compute_codes(x)))
    assert codec.reconstruction_error(x) == pytest.approx(((pq.decode(pq.compute_codes(x)) - x) ** 2).sum(1).mean(),
                                                          rel=1e-5)


@needs_faiss
def test_vq_is_the_nearest_centroid_and_decoded_rows_keep_neighbours(encoders, tmp_path):
    x = encoders[0]
    base, queries = x[:1800], x[1800:]
    vq = latent.VectorCodec("vq", centroids=128).fit(base)
    centroids = vq.decode(np.arange(128, dtype=np.uint8)[:, None])
    distances = ((base[:, None, :].astype(np.float64) - centroids[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(vq.assign(base), distances.argmin(axis=1))
    vq.save(tmp_path / "vq.model")
    assert np.array_equal(latent.VectorCodec.load(tmp_path / "vq.model").encode(base), vq.encode(base))

    exact, _ = latent.knn(base, queries, k=10, metric="cosine")
    found = {}
    for name, codec in (("pq16", latent.VectorCodec("pq", subquantizers=16)),
                        ("opq16", latent.VectorCodec("opq", subquantizers=16, rotation_iterations=10))):
        codec.fit(base)
        found[name] = recall(latent.knn(codec.decode(codec.encode(base)), queries, k=10, metric="cosine")[0], exact)
    assert found["pq16"] > 0.6 and found["opq16"] > 0.6
