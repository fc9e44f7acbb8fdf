"""latent.Whitening against numpy's covariance + eigh and the golden kit."""

import numpy as np
import pytest

import latent


def numpy_whitening(x, dim=None):
    """BERT-whitening in numpy: mu, W = U diag(1/sqrt(lambda)) (1/n covariance), top `dim` columns."""
    x = x.astype(np.float64)
    mu = x.mean(axis=0)
    sigma = np.cov(x - mu, rowvar=False, bias=True)
    eigenvalues, vectors = np.linalg.eigh(sigma)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, vectors = eigenvalues[order], vectors[:, order]
    w = vectors / np.sqrt(eigenvalues)
    return mu, eigenvalues, w if dim is None else w[:, :dim]


def test_pca_whitening_matches_numpy(encoders):
    a = encoders[0].astype(np.float64)
    mu, eigenvalues, w = numpy_whitening(a, dim=32)
    whitening = latent.Whitening(dim=32).fit(a)
    np.testing.assert_allclose(whitening.mean_, mu, atol=1e-12)
    np.testing.assert_allclose(whitening.eigenvalues_, eigenvalues, rtol=1e-9)
    # Equal up to the sign of each component: compare the Gram matrices.
    y = whitening.transform(a[:100])
    expected = (a[:100] - mu) @ w
    np.testing.assert_allclose(y @ y.T, expected @ expected.T, rtol=1e-9, atol=1e-9)
    assert y.dtype == np.float64 and y.shape == (100, 32)


def test_whitening_golden(golden):
    a = np.load(golden / "inputs" / "encA.npy")
    w_pca = np.load(golden / "whitening" / "W_pca.npy")
    w_zca = np.load(golden / "whitening" / "W_zca.npy")
    gram = np.load(golden / "whitening" / "gram50_pca_32.npy")
    pca = latent.Whitening(method="pca").fit(a.astype(np.float64))
    np.testing.assert_allclose(pca.mean_, np.load(golden / "whitening" / "mu.npy"), atol=1e-12)
    np.testing.assert_allclose(pca.eigenvalues_, np.load(golden / "whitening" / "eigenvalues.npy"), rtol=1e-9)
    np.testing.assert_allclose(pca.model_.matrix, w_pca, atol=1e-9 * np.abs(w_pca).max())
    zca = latent.Whitening(method="zca").fit(a.astype(np.float64))
    np.testing.assert_allclose(zca.model_.matrix, w_zca, atol=1e-9 * np.abs(w_zca).max())
    # float32 rows: statistics in double, transform in float32.
    y = latent.Whitening(dim=32).fit_transform(a)[:50].astype(np.float64)
    assert np.abs(y @ y.T - gram).max() / np.abs(gram).max() < 5e-6


def test_zca_abtt_and_shrinkage(encoders):
    a = encoders[0]
    zca = latent.Whitening(method="zca").fit_transform(a.astype(np.float64))
    np.testing.assert_allclose(np.cov(zca, rowvar=False, bias=True), np.eye(64), atol=1e-8)
    abtt = latent.Whitening(method="abtt", dim=3).fit(a)
    top = abtt.model_.directions
    removed = abtt.transform(a)
    centred = a.astype(np.float64) - a.astype(np.float64).mean(axis=0)
    assert top.shape == (64, 3)
    assert np.abs(removed.astype(np.float64) @ top).max() < 1e-3 * np.abs(centred @ top).max()
    ridge = latent.Whitening(shrinkage="ridge", alpha=0.5).fit(a.astype(np.float64))
    _, eigenvalues, _ = numpy_whitening(a)
    np.testing.assert_allclose(ridge.eigenvalues_, eigenvalues + 0.5, rtol=1e-9)  # lambda + alpha
    np.testing.assert_allclose(np.var(ridge.transform(a.astype(np.float64)), axis=0),
                               eigenvalues / (eigenvalues + 0.5), rtol=1e-6)


def test_ignored_options_are_refused(encoders):
    with pytest.raises(latent.InvalidArgument, match="abtt"):
        latent.Whitening(method="abtt", normalize=True).fit(encoders[0])
    with pytest.raises(ValueError, match="zca"):
        latent.Whitening(method="zca", dim=3).fit(encoders[0])
    with pytest.raises(latent.InvalidArgument, match="no inverse"):
        latent.Whitening(method="abtt", dim=2).fit(encoders[0]).inverse_transform(encoders[0])
    # pca: inverse_transform undoes transform (all components kept).
    a = encoders[0].astype(np.float64)
    w = latent.Whitening().fit(a)
    np.testing.assert_allclose(w.inverse_transform(w.transform(a)), a, atol=1e-8)


def test_save_load_round_trip(tmp_path, encoders):
    a = encoders[0]
    w = latent.Whitening(dim=16, normalize=True).fit(a)
    w.save(tmp_path / "w.model")
    loaded = latent.Whitening.load(tmp_path / "w.model")
    assert loaded.get_params() == w.get_params()
    assert loaded.transform(a).tobytes() == w.transform(a).tobytes()


def test_standardizer_centering_fnorm(encoders):
    a = encoders[0].astype(np.float64)
    np.testing.assert_allclose(latent.Standardizer().fit_transform(a), (a - a.mean(0)) / a.std(0), atol=1e-10)
    np.testing.assert_allclose(latent.Centering().fit_transform(a), a - a.mean(0), atol=1e-12)
    # f-norm: each column through its average rank onto normal quantiles, then rows to unit norm.
    import scipy.stats
    z = scipy.stats.norm.ppf(scipy.stats.rankdata(a, axis=0) / (a.shape[0] + 1))
    np.testing.assert_allclose(latent.FNorm().fit_transform(a), z / np.linalg.norm(z, axis=1, keepdims=True),
                               atol=1e-12)


def test_isotropy(encoders):
    a = encoders[0].astype(np.float64)
    report = latent.isotropy(a)
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(a, rowvar=False, bias=True)))[::-1]
    np.testing.assert_allclose(report["eigenvalues"], eigenvalues, rtol=1e-9)
    normed = a / np.linalg.norm(a, axis=1, keepdims=True)
    total = normed.sum(0)
    assert report["average_cosine"] == pytest.approx((total @ total - 2000) / (2000 * 1999), rel=1e-9)
    assert latent.average_cosine(a) == pytest.approx(report["average_cosine"], rel=1e-12)


def test_projection_and_variance_match_scikit_learn_pca(encoders):
    from sklearn.decomposition import PCA

    a = encoders[0].astype(np.float64)
    for share in (0.5, 0.9, 0.95):
        ours = latent.Whitening(method="projection", variance=share).fit(a)
        theirs = PCA(n_components=share, svd_solver="full").fit(a)
        y, t = ours.transform(a), theirs.transform(a)
        assert y.shape == t.shape, share
        signs = np.sign((y * t).sum(0))  # components are defined up to sign
        np.testing.assert_allclose(y * signs, t, atol=1e-9 * np.abs(t).max())
    # pca with a variance share: as many components, whitened.
    w = latent.Whitening(method="pca", variance=0.9).fit(a).transform(a)
    assert w.shape[1] == PCA(n_components=0.9, svd_solver="full").fit(a).n_components_
    np.testing.assert_allclose(np.cov(w.T, bias=True), np.eye(w.shape[1]), atol=1e-8)
    with pytest.raises(latent.InvalidArgument, match="give one"):
        latent.Whitening(dim=3, variance=0.9).fit(a)


def test_cholesky_whitening_matches_numpy(encoders, tmp_path):
    a = encoders[0].astype(np.float64)
    model = latent.Whitening(method="cholesky").fit(a)
    sigma = np.cov(a, rowvar=False, bias=True)
    lower = np.linalg.cholesky(sigma)
    w = np.linalg.inv(lower).T  # y = (x - mu) L^-T
    np.testing.assert_allclose(model.model_.matrix, w, atol=1e-9 * np.abs(w).max())
    y = model.transform(a)
    np.testing.assert_allclose(y, (a - a.mean(0)) @ w, atol=1e-8)
    np.testing.assert_allclose(np.cov(y, rowvar=False, bias=True), np.eye(64), atol=1e-8)
    # Lower-triangular whitening: output j reads inputs 0..j only, so W is upper triangular.
    assert np.all(np.tril(model.model_.matrix, -1) == 0)
    np.testing.assert_allclose(model.inverse_transform(y), a, atol=1e-8)
    with pytest.raises(ValueError, match="cholesky"):
        latent.Whitening(method="cholesky", dim=3).fit(a)
