"""The analysis measures (RBF and minibatch CKA, RSA, affine R^2, CCA, SVCCA,
PWCCA, feature matching, LiDAR, collapse diagnostics, silhouette, prototype
accuracy, k-means with NMI/ARI/Hungarian accuracy) against numpy, scipy,
scikit-learn and FAISS's Python wrapper on the bundled encoder latents (two
independently trained MLP encoders and a CNN encoder of the same 2000
Fashion-MNIST images), in Python and through `latent analyze`."""

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
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


def principal_basis(x, variance=1.0):
    x = x.astype(np.float64)
    u, s, _ = np.linalg.svd(x - x.mean(0), full_matrices=False)
    var = s**2
    keep = var > 1e-12 * var[0]
    if variance < 1:
        keep[np.searchsorted(np.cumsum(var) / var.sum(), variance) + 1:] = False
    return u[:, keep]


def numpy_canonical_correlations(a, b, variance=1.0):
    return np.minimum(np.linalg.svd(principal_basis(a, variance).T @ principal_basis(b, variance), compute_uv=False), 1)


def numpy_pwcca(a, b):
    if a.shape[1] > b.shape[1]:
        a, b = b, a
    basis_a = principal_basis(a)
    p, rho, _ = np.linalg.svd(basis_a.T @ principal_basis(b), full_matrices=False)
    weights = np.abs((basis_a @ p).T @ (a.astype(np.float64) - a.mean(0))).sum(1)
    return np.sum(weights * np.minimum(rho, 1)) / weights.sum()


def test_cca_family_matches_numpy_svd(encoders, cnn_latents):
    a, b, _ = encoders
    cnn = cnn_latents
    for other in (b, cnn):
        np.testing.assert_allclose(latent.canonical_correlations(a, other), numpy_canonical_correlations(a, other),
                                   atol=1e-10)
        assert latent.svcca(a, other) == pytest.approx(numpy_canonical_correlations(a, other, 0.99).mean(), abs=1e-10)
        assert latent.svcca(a, other, variance=1.0) == pytest.approx(numpy_canonical_correlations(a, other).mean(),
                                                                     abs=1e-10)
        assert latent.pwcca(a, other) == pytest.approx(numpy_pwcca(a, other), abs=1e-10)
    # Two seeds of one architecture agree more than an MLP and a CNN.
    assert latent.svcca(a, b) > latent.svcca(a, cnn)
    with pytest.raises(latent.InvalidArgument, match="variance"):
        latent.svcca(a, b, variance=0)


def test_feature_matching_matches_scipy_hungarian(encoders):
    a, b, _ = encoders

    def standardised(x):
        x = x.astype(np.float64) - x.mean(0)
        norms = np.linalg.norm(x, axis=0)
        return x / np.where(norms > 0, norms, 1)

    correlation = standardised(a).T @ standardised(b)
    rows, cols = scipy.optimize.linear_sum_assignment(correlation, maximize=True)
    match, got_correlation, mean = latent.match_features(a, b)
    np.testing.assert_allclose(got_correlation, correlation, atol=1e-12)
    assert correlation[np.arange(len(match)), match].sum() == pytest.approx(correlation[rows, cols].sum(), abs=1e-9)
    assert mean == pytest.approx(correlation[rows, cols].mean(), abs=1e-12)
    best, _, best_mean = latent.match_features(a, b, one_to_one=False)
    np.testing.assert_array_equal(best, np.argmax(correlation, axis=1))
    assert best_mean >= mean
    # linear_assignment itself, on a rectangular cost with more rows than columns
    cost = np.random.default_rng(4).normal(size=(9, 6))
    rows, cols = scipy.optimize.linear_sum_assignment(cost)
    got = latent.linear_assignment(cost)
    assert np.sum(got >= 0) == 6
    assert cost[np.flatnonzero(got >= 0), got[got >= 0]].sum() == pytest.approx(cost[rows, cols].sum(), abs=1e-12)


def numpy_unbiased_hsic(k, l_):
    m = len(k)
    k, l_ = k.copy(), l_.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l_, 0)
    ones = np.ones(m)
    return (np.trace(k @ l_) + (ones @ k @ ones) * (ones @ l_ @ ones) / ((m - 1) * (m - 2))
            - 2 / (m - 2) * ones @ k @ l_ @ ones) / (m * (m - 3))


def test_minibatch_cka_is_the_unbiased_hsic_over_batches(encoders):
    a, b, _ = encoders
    x, y = a[:500].astype(np.float64), b[:500].astype(np.float64)
    k, l_ = x @ x.T, y @ y.T
    expected = numpy_unbiased_hsic(k, l_) / np.sqrt(numpy_unbiased_hsic(k, k) * numpy_unbiased_hsic(l_, l_))
    # One batch of all rows: the shuffle does not change the statistic.
    assert latent.minibatch_cka(a[:500], b[:500], batch_size=500, seed=3) == pytest.approx(expected, abs=1e-9)
    # Batches of 200 of the 2000 rows: seeded, and close to the linear CKA of all rows.
    value = latent.minibatch_cka(a, b, batch_size=200, seed=1)
    assert value == latent.minibatch_cka(a, b, batch_size=200, seed=1)
    assert value == pytest.approx(latent.linear_cka(a, b), abs=0.02)


def numpy_lidar(x, y, delta=1e-4, eps=1e-8):
    x = x.astype(np.float64)
    classes = np.unique(y)
    means = np.stack([x[y == c].mean(0) for c in classes])
    between = (means - means.mean(0)).T @ (means - means.mean(0)) / (len(classes) - 1)
    within_rows = x - means[np.searchsorted(classes, y)]
    within = within_rows.T @ within_rows / len(x) + delta * np.eye(x.shape[1])
    values, vectors = scipy.linalg.eigh(within)
    root = vectors @ np.diag(values**-0.5) @ vectors.T
    lam = np.maximum(scipy.linalg.eigvalsh(root @ between @ root), 0)
    p = lam / lam.sum() + eps
    return np.exp(-np.sum(p * np.log(p)))


def test_lidar_and_collapse_diagnostics_match_numpy(encoders):
    a, b, labels = encoders
    assert latent.lidar(a, labels) == pytest.approx(numpy_lidar(a, labels), rel=1e-10)
    assert latent.lidar(b, labels, delta=1e-2) == pytest.approx(numpy_lidar(b, labels, delta=1e-2), rel=1e-10)
    # At most C - 1 discriminative directions.
    assert 1 < latent.lidar(a, labels) < len(np.unique(labels))
    d = latent.collapse_diagnostics(a)
    x = a.astype(np.float64)
    variance = x.var(0, ddof=1)
    covariance = np.cov(x.T)
    np.testing.assert_allclose(d["std"], np.sqrt(variance), rtol=1e-12)
    assert d["vicreg_variance"] == pytest.approx(np.mean(np.maximum(0, 1 - np.sqrt(variance + 1e-4))), abs=1e-12)
    off_diagonal = np.sum(covariance**2) - np.sum(np.diag(covariance) ** 2)
    assert d["vicreg_covariance"] == pytest.approx(off_diagonal / x.shape[1], rel=1e-10)
    assert d["active_units"] == np.sum(variance > 0.01)
    singular = np.linalg.svd(x, compute_uv=False)
    p = singular / singular.sum()
    assert d["rankme"] == pytest.approx(np.exp(-np.sum(p * np.log(p))), rel=1e-9)


@pytest.mark.skipif(not hasattr(latent, "kmeans"), reason="built without FAISS")
def test_kmeans_matches_faiss_and_agreement_matches_scikit_learn(encoders):
    import faiss
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    a, _, labels = encoders
    centroids, assignment, objective = latent.kmeans(a, 10, spherical=True, seed=3)
    # The same iterations through FAISS's own Python wrapper, on the normalised rows.
    rows = a / np.linalg.norm(a, axis=1, keepdims=True)
    reference = faiss.Kmeans(a.shape[1], 10, niter=25, seed=3, spherical=True, min_points_per_centroid=1)
    reference.train(rows)
    np.testing.assert_allclose(centroids, reference.centroids, atol=1e-5)
    np.testing.assert_array_equal(assignment, np.argmax(rows @ centroids.T, axis=1))
    assert objective == pytest.approx(np.sum(np.max(rows @ centroids.T, axis=1)), rel=1e-5)
    assert latent.normalized_mutual_info(labels, assignment) == pytest.approx(
        normalized_mutual_info_score(labels, assignment), abs=1e-12)
    assert latent.adjusted_rand_index(labels, assignment) == pytest.approx(adjusted_rand_score(labels, assignment),
                                                                          abs=1e-12)
    table = np.zeros((10, 10))
    np.add.at(table, (labels, assignment), 1)
    rows_, cols = scipy.optimize.linear_sum_assignment(table, maximize=True)
    assert latent.cluster_accuracy(labels, assignment) == pytest.approx(table[rows_, cols].sum() / len(labels))
    # Plain k-means: FAISS's centroids, and the same result for one or two threads.
    centroids, assignment, _ = latent.kmeans(a, 10, seed=3, threads=1)
    reference = faiss.Kmeans(a.shape[1], 10, niter=25, seed=3, min_points_per_centroid=1)
    reference.train(np.ascontiguousarray(a))
    np.testing.assert_allclose(centroids, reference.centroids, atol=1e-4)
    again = latent.kmeans(a, 10, seed=3, threads=2)
    np.testing.assert_array_equal(again[1], assignment)
    with pytest.raises(latent.InvalidK):
        latent.kmeans(a, 0)


def test_latent_analyze_prints_the_new_measures(encoders, cli, tmp_path):
    a, b, labels = encoders
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "y.npy", labels)
    out = cli("analyze", tmp_path / "a.npy", tmp_path / "b.npy", "--measures", "svcca,pwcca,cca")
    assert out["svcca"] == pytest.approx(numpy_canonical_correlations(a, b, 0.99).mean(), abs=1e-10)
    assert out["cca"] == pytest.approx(numpy_canonical_correlations(a, b).mean(), abs=1e-10)
    assert out["pwcca"] == pytest.approx(numpy_pwcca(a, b), abs=1e-10)
    out = cli("analyze", tmp_path / "a.npy", "--labels", tmp_path / "y.npy", "--measures", "lidar,nmi,ari",
              "--seed", 5)
    assert out["lidar"] == pytest.approx(numpy_lidar(a, labels), rel=1e-10)
    if hasattr(latent, "kmeans"):
        from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

        _, assignment, _ = latent.kmeans(a, 10, spherical=True, seed=5)
        assert out["nmi"] == pytest.approx(normalized_mutual_info_score(labels, assignment), abs=1e-12)
        assert out["ari"] == pytest.approx(adjusted_rand_score(labels, assignment), abs=1e-12)


def numpy_prototype_accuracy(train_x, train_y, test_x, test_y):
    classes = np.unique(train_y)
    means = np.stack([train_x[train_y == c].mean(0) for c in classes])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    test_x = test_x / np.linalg.norm(test_x, axis=1, keepdims=True)
    return np.mean(classes[np.argmax(test_x @ means.T, axis=1)] == test_y)


def test_stitching_matches_a_numpy_procrustes_and_relative_pipeline(encoders, cnn_latents):
    a, _, labels = encoders
    source, target = a.astype(np.float64), cnn_latents.astype(np.float64)
    anchors = latent.select_anchors(a, 300, seed=2)
    train, test = np.arange(0, len(a), 2), np.arange(1, len(a), 2)
    # Orthogonal Procrustes on centred, Frobenius-scaled anchor pairs.
    p = source[anchors] - source[anchors].mean(0)
    q = target[anchors] - target[anchors].mean(0)
    s_p, s_q = np.linalg.norm(p), np.linalg.norm(q)
    u, _, vt = np.linalg.svd((p / s_p).T @ (q / s_q))
    mapped = (source[test] - source[anchors].mean(0)) / s_p @ (u @ vt) * s_q + target[anchors].mean(0)
    expected = numpy_prototype_accuracy(target[train], labels[train], mapped, labels[test])
    accuracy, ceiling = latent.stitching_accuracy(a, cnn_latents, labels, anchors, train, test)
    assert accuracy == pytest.approx(expected, abs=1e-12)
    assert ceiling == pytest.approx(numpy_prototype_accuracy(target[train], labels[train], target[test], labels[test]),
                                    abs=1e-12)

    def relative(x):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return x @ x[anchors].T

    rel_s, rel_t = relative(source), relative(target)
    expected = numpy_prototype_accuracy(rel_t[train], labels[train], rel_s[test], labels[test])
    accuracy, _ = latent.stitching_accuracy(a, cnn_latents, labels, anchors, train, test, method="relative")
    assert accuracy == pytest.approx(expected, abs=1e-12)
    with pytest.raises(latent.InvalidArgument, match="method"):
        latent.stitching_accuracy(a, cnn_latents, labels, anchors, train, test, method="glue")
