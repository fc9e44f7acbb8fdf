"""Sparse codes against numpy and scipy: the bundled sparse autoencoder (data/sae,
made by data/sae/make_sae.py) over the bundled encoder latents, evaluated in
float64 by its definitions; the codes written by `latent sae encode` read by
scipy.sparse.load_npz and scipy's own files (compressed, int32 indices) read by
`latent sae decode`; `latent sae stats` against numpy; the inverted index
against numpy's dense search."""

import json
import os
import subprocess

import numpy as np
import pytest
import scipy.sparse

import latent
from conftest import SOURCE_DIR

CLI = os.environ.get("LATENT_CLI")
SAE = SOURCE_DIR / "data" / "sae"


@pytest.fixture(scope="module")
def weights():
    return {name: np.load(SAE / f"{name}.npy").astype(np.float64) for name in ("W_enc", "b_enc", "W_dec", "b_dec")}


def numpy_codes(x, w, activation, k=8, threshold=0.0):
    pre = (x.astype(np.float64) - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    if activation == "topk":
        keep = np.argsort(-pre, axis=1, kind="stable")[:, :k]
        codes = np.zeros_like(pre)
        rows = np.arange(len(x))[:, None]
        codes[rows, keep] = np.maximum(pre[rows, keep], 0)
        return codes, pre
    if activation == "relu":
        return np.maximum(pre, 0), pre
    return np.where(pre > threshold, pre, 0), pre


def assert_codes_match(codes, expected, pre, cut):
    """Equal up to float rounding, except entries within rounding of the cut."""
    assert scipy.sparse.isspmatrix_csr(codes) and codes.shape == expected.shape
    got = codes.toarray()
    assert not np.any(codes.data == 0)
    clear = np.abs(pre - cut) > 1e-4
    np.testing.assert_allclose(got[clear], expected[clear], atol=1e-4)


def test_encode_decode_and_stats_match_numpy(encoders, weights):
    x = encoders[0][:600]
    sae = latent.SparseAutoencoder.load(SAE)
    assert (sae.dim, sae.features) == (64, 256)
    codes = sae.encode(x, "topk", k=8)
    expected, pre = numpy_codes(x, weights, "topk")
    kth = -np.sort(-pre, axis=1)[:, 7:9]
    clear_rows = (kth[:, 0] - kth[:, 1]) > 1e-4
    np.testing.assert_allclose(codes.toarray()[clear_rows], expected[clear_rows], atol=1e-4)
    for activation, threshold in (("relu", 0.0), ("jumprelu", 0.6)):
        expected, pre = numpy_codes(x, weights, activation, threshold=threshold)
        assert_codes_match(sae.encode(x, activation, threshold=threshold), expected, pre, threshold)

    dense = codes.toarray().astype(np.float64)
    np.testing.assert_allclose(sae.decode(codes), dense @ weights["W_dec"] + weights["b_dec"], atol=1e-4)
    x_hat = dense @ weights["W_dec"] + weights["b_dec"]
    stats = sae.stats(x, "topk", k=8)
    sse = ((x - x_hat) ** 2).sum()
    assert stats["mse"] == pytest.approx(sse / x.size, rel=1e-5)
    assert stats["explained_variance"] == pytest.approx(1 - sse / ((x - x.mean(0)) ** 2).sum(), abs=1e-5)
    assert stats["dead_fraction"] == pytest.approx((dense.max(0) == 0).mean())
    assert stats["mean_active"] == pytest.approx(codes.nnz / len(x))


def test_steering_adds_the_change_of_the_reconstruction(encoders, weights):
    x = encoders[0][:50]
    sae = latent.SparseAutoencoder.load(SAE)
    steered = sae.steer(x, [(3, "add", 2.0)], k=8)
    np.testing.assert_allclose(steered - x, np.tile(2.0 * weights["W_dec"][3], (50, 1)), atol=1e-4)
    with pytest.raises(ValueError, match="edit"):
        sae.steer(x, [(3, "double", 2.0)], k=8)


@pytest.mark.skipif(not CLI, reason="LATENT_CLI is not set")
def test_cli_codes_are_scipy_files_and_scipy_files_decode(tmp_path, encoders, weights):
    x = encoders[0][:300]
    np.save(tmp_path / "x.npy", x)
    run = lambda *args: subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)  # noqa: E731
    result = run("sae", "encode", tmp_path / "x.npy", "--weights", SAE, "--activation", "topk", "--k", "8", "-o",
                 tmp_path / "codes.npz")
    assert result.returncode == 0, result.stderr
    codes = scipy.sparse.load_npz(tmp_path / "codes.npz")
    binding = latent.SparseAutoencoder.load(SAE).encode(x, "topk", k=8)
    assert (codes != binding).nnz == 0
    assert np.all(np.diff(codes.indptr) <= 8)

    # scipy's default file: deflated, int32 indices; decoded as numpy does.
    scipy.sparse.save_npz(tmp_path / "scipy.npz", codes.astype(np.float64))
    result = run("sae", "decode", tmp_path / "scipy.npz", "--weights", SAE, "-o", tmp_path / "x_hat.npy")
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "x_hat.npy"),
                               codes.toarray() @ weights["W_dec"] + weights["b_dec"], atol=1e-4)

    result = run("sae", "stats", tmp_path / "x.npy", "--weights", SAE, "--activation", "topk", "--k", "8", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) >= {"mse", "explained_variance", "dead_fraction", "mean_active"}
    assert stats["mean_active"] == pytest.approx(codes.nnz / 300)

    # A matrix that is not CSR is refused, naming the file.
    scipy.sparse.save_npz(tmp_path / "coo.npz", codes.tocoo())
    result = run("sae", "decode", tmp_path / "coo.npz", "--weights", SAE, "-o", tmp_path / "bad.npy")
    assert result.returncode == 1 and "coo.npz" in result.stderr
    assert not (tmp_path / "bad.npy").exists()


def test_sparse_index_equals_numpy_dense_search(encoders):
    sae = latent.SparseAutoencoder.load(SAE)
    base = sae.encode(encoders[0][:1500], "topk", k=8)
    queries = sae.encode(encoders[0][1500:], "topk", k=8)
    ids, scores = latent.SparseIndex(base).search(queries, k=10)
    dense = (queries @ base.T).toarray().astype(np.float64)
    np.testing.assert_allclose(scores, np.take_along_axis(dense, ids, 1), rtol=1e-5, atol=1e-5)
    kth = np.take_along_axis(dense, ids[:, -1:], 1)
    masked = dense.copy()
    np.put_along_axis(masked, ids, -np.inf, 1)
    assert (masked.max(axis=1, keepdims=True) <= kth + 1e-4).all()
