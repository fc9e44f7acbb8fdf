"""The analysis measures (RBF CKA, RSA, affine R^2, silhouette, prototype
accuracy) against numpy, scipy and scikit-learn on the bundled encoder latents
(two independently trained encoders of the same 2000 Fashion-MNIST images), in
Python and through `latent analyze`."""

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestCentroid

import latent


def numpy_rbf_cka(a, b):
    def centred_kernel(x):
        x = x.astype(np.float64)
        squares = (x * x).sum(1)
        d2 = np.maximum(squares[:, None] + squares[None, :] - 2 * x @ x.T, 0)
        np.fill_diagonal(d2, 0)
        sigma = np.median(np.sqrt(d2[np.triu_indices(len(x), 1)]))
        k = np.exp(-d2 / (2 * sigma**2))
        h = np.eye(len(x)) - 1 / len(x)
        return h @ k @ h

    k, l_ = centred_kernel(a), centred_kernel(b)
    return np.sum(k * l_) / np.sqrt(np.sum(k * k) * np.sum(l_ * l_))


def numpy_rsa(a, b):
    def upper(x):
        x = x.astype(np.float64)
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return (1 - x @ x.T)[np.triu_indices(len(x), 1)]

    return scipy.stats.spearmanr(upper(a), upper(b)).correlation


def numpy_r2(a, b):
    x = np.hstack([a.astype(np.float64), np.ones((len(a), 1))])
    y = b.astype(np.float64)
    w, *_ = np.linalg.lstsq(x, y, rcond=None)
    return 1 - np.sum((y - x @ w) ** 2) / np.sum((y - y.mean(0)) ** 2)


def test_two_space_measures_match_numpy(encoders):
    a, b, _ = encoders
    sample_a, sample_b = a[:600], b[:600]
    assert latent.rbf_cka(sample_a, sample_b) == pytest.approx(numpy_rbf_cka(sample_a, sample_b), abs=1e-9)
    assert latent.rsa(sample_a, sample_b) == pytest.approx(numpy_rsa(sample_a, sample_b), abs=1e-9)
    assert latent.affine_r2(a, b) == pytest.approx(numpy_r2(a, b), abs=1e-9)
    # A space against itself, and against noise
    assert latent.rbf_cka(sample_a, sample_a) == pytest.approx(1.0, abs=1e-12)
    noise = np.random.default_rng(3).normal(size=sample_a.shape).astype(np.float32)
    assert latent.rbf_cka(sample_a, noise) < 0.2 < latent.rbf_cka(sample_a, sample_b)
    assert abs(latent.rsa(sample_a, noise)) < 0.05


def test_label_measures_match_scikit_learn(encoders):
    a, _, labels = encoders
    expected = silhouette_score(a.astype(np.float64), labels, metric="cosine")
    assert latent.silhouette(a, labels) == pytest.approx(expected, abs=1e-9)
    assert latent.silhouette(a, labels, metric="l2") == pytest.approx(
        silhouette_score(a.astype(np.float64), labels, metric="euclidean"), abs=1e-9)
    with pytest.raises(latent.InvalidArgument, match="labels"):
        latent.silhouette(a, np.zeros(len(a), dtype=np.int64))


def test_latent_analyze_prints_the_measures(encoders, cli, tmp_path):
    a, b, labels = encoders
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "y.npy", labels)
    out = cli("analyze", tmp_path / "a.npy", tmp_path / "b.npy", "--measures", "cka,cka_rbf,rsa,r2", "--rows", 500)
    assert set(out) == {"cka", "cka_rbf", "rsa", "r2"}
    assert out["cka"] == pytest.approx(latent.linear_cka(a, b), abs=1e-12)
    assert out["cka_rbf"] == pytest.approx(numpy_rbf_cka(a[:500], b[:500]), abs=1e-9)
    assert out["rsa"] == pytest.approx(numpy_rsa(a[:500], b[:500]), abs=1e-9)
    assert out["r2"] == pytest.approx(numpy_r2(a, b), abs=1e-9)
    out = cli("analyze", tmp_path / "a.npy", "--labels", tmp_path / "y.npy", "--measures",
              "prototype_accuracy,silhouette")
    normed = a.astype(np.float64) / np.linalg.norm(a, axis=1, keepdims=True)
    means = NearestCentroid().fit(a.astype(np.float64), labels).centroids_
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    assert out["prototype_accuracy"] == pytest.approx(np.mean(np.argmax(normed @ means.T, axis=1) == labels), abs=1e-12)
    assert out["silhouette"] == pytest.approx(silhouette_score(a.astype(np.float64), labels, metric="cosine"), abs=1e-9)
