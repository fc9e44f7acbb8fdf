"""The ridge probe, ConSE, the word-vector tests, entropy and curvature, the
edits of a space (subspace removal, concept directions, steering, random
projections, fusion, pair features) and the scores with a given matrix,
softmax / InfoNCE and hard-negative mining, against numpy, scipy and
scikit-learn on the bundled encoder latents (2000 Fashion-MNIST images, 64-d)."""

import itertools

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.special
from sklearn.linear_model import RidgeClassifier

import latent


def f64(x):
    return np.asarray(x, dtype=np.float64)


def unit(x):
    x = f64(x)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ridge_probe_matches_scikit_learn(encoders):
    a, _, labels = encoders
    train, test = slice(0, 1500), slice(1500, None)
    for alpha in (0.1, 10.0):
        ours = latent.RidgeProbe(alpha).fit(a[train], labels[train])
        reference = RidgeClassifier(alpha=alpha).fit(f64(a[train]), labels[train])
        np.testing.assert_array_equal(ours.predict(a[test]), reference.predict(f64(a[test])))
        assert ours.score(a[test], labels[test])["accuracy"] == pytest.approx(
            reference.score(f64(a[test]), labels[test]), abs=1e-12)
    # Cross-validated alpha: the folds are rows i % 5 == f.
    alphas = [0.01, 1.0, 100.0, 10000.0]
    probe = latent.RidgeProbe().fit_cv(a, labels, alphas, folds=5)
    expected = []
    rows = np.arange(len(a))
    for alpha in alphas:
        correct = 0
        for fold in range(5):
            held = rows % 5 == fold
            model = RidgeClassifier(alpha=alpha).fit(f64(a[~held]), labels[~held])
            correct += np.sum(model.predict(f64(a[held])) == labels[held])
        expected.append(correct / len(a))
    np.testing.assert_allclose(probe.cv_accuracy, expected, atol=1e-12)
    assert probe.alpha == alphas[int(np.argmax(expected))]
    with pytest.raises(latent.InvalidArgument, match="alpha"):
        latent.RidgeProbe(0.0)


def test_conse_matches_numpy():
    rng = np.random.default_rng(5)
    probabilities = scipy.special.softmax(rng.normal(size=(50, 8)) * 3, axis=1)
    seen, unseen = rng.normal(size=(8, 16)).astype(np.float32), rng.normal(size=(5, 16)).astype(np.float32)
    top = 3
    expected = []
    for p in probabilities:
        best = np.argsort(-p, kind="stable")[:top]
        f = (p[best, None] * f64(seen[best])).sum(0) / p[best].sum()
        expected.append(np.argmax(unit(unseen) @ (f / np.linalg.norm(f))))
    np.testing.assert_array_equal(latent.conse_predict(probabilities, seen, unseen, top=top), expected)


def test_analogies_weat_and_evalrank_match_numpy(encoders):
    a, _, _ = encoders
    vectors = a[:300]
    cos = unit(vectors) @ unit(vectors).T
    questions = np.random.default_rng(6).integers(0, 300, size=(40, 3))
    questions = questions[[len(set(q)) == 3 for q in questions]]
    for method in ("3cosadd", "3cosmul"):
        expected = []
        for qa, qb, qc in questions:
            if method == "3cosadd":
                score = cos[qb] - cos[qa] + cos[qc]
            else:
                score = (cos[qb] + 1) / 2 * (cos[qc] + 1) / 2 / ((cos[qa] + 1) / 2 + 1e-3)
            score[[qa, qb, qc]] = -np.inf
            expected.append(np.argmax(score))
        np.testing.assert_array_equal(latent.solve_analogies(vectors, questions, method=method), expected)

    # WEAT on 6 + 6 target rows and 5 + 5 attribute rows: all 924 partitions.
    x, y, attr_a, attr_b = a[0:6], a[6:12], a[100:105], a[200:205]

    def s(w):
        return (unit(w) @ unit(attr_a).T).mean(1) - (unit(w) @ unit(attr_b).T).mean(1)

    s_all = np.concatenate([s(x), s(y)])
    observed = s(x).sum() - s(y).sum()

    def statistic(members):  # sum over the X side minus sum over the Y side, written as latent sums it
        return 2 * s_all[list(members)].sum() - s_all.sum()

    exceeding = sum(statistic(c) > statistic(range(6)) for c in itertools.combinations(range(12), 6))
    got = latent.weat(x, y, attr_a, attr_b)
    assert got["exact"] and got["partitions"] == 924
    # (cosines through the float GEMM path: within float rounding)
    assert got["statistic"] == pytest.approx(observed, abs=1e-6)
    assert got["effect_size"] == pytest.approx((s(x).mean() - s(y).mean()) / s_all.std(ddof=1), abs=1e-5)
    assert got["p_value"] == pytest.approx(exceeding / 924, abs=1e-12)
    sampled = latent.weat(x, y, attr_a, attr_b, permutations=500, seed=3)
    assert not sampled["exact"] and sampled["partitions"] == 500
    assert abs(sampled["p_value"] - got["p_value"]) < 0.1
    assert sampled == latent.weat(x, y, attr_a, attr_b, permutations=500, seed=3)

    # EvalRank: pairs of rows of the same class.
    pairs = np.array([[0, 10], [5, 77], [20, 3], [150, 151]])
    ranks = []
    for i, j in pairs:
        others = np.setdiff1d(np.arange(300), [i, j])
        ranks.append(1 + np.sum(cos[i, others] > cos[i, j]))
    ranks = np.array(ranks)
    got = latent.evalrank(vectors, pairs)
    assert got["mrr"] == pytest.approx(np.mean(1 / ranks), abs=1e-6)
    assert got["hits1"] == pytest.approx(np.mean(ranks <= 1))
    assert got["hits3"] == pytest.approx(np.mean(ranks <= 3))


def test_entropy_and_curvature_match_numpy(encoders):
    a, _, _ = encoders
    for normalize_rows, z in ((False, f64(a)), (True, unit(a))):
        gram = z @ z.T
        lam = np.linalg.eigvalsh(gram) / np.trace(gram)
        lam = lam[lam > 1e-15]
        assert latent.renyi_entropy(a, normalize_rows=normalize_rows) == pytest.approx(
            -np.sum(lam * np.log(lam)), abs=1e-8)
        assert latent.renyi_entropy(a, alpha=2.0, normalize_rows=normalize_rows) == pytest.approx(
            -np.log(np.sum(lam**2)), abs=1e-8)
    assert 0 < latent.renyi_entropy(a) < np.log(a.shape[1])
    steps = np.diff(f64(a[:30]), axis=0)
    steps /= np.linalg.norm(steps, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(steps[:-1] * steps[1:], axis=1), -1, 1))
    assert latent.trajectory_curvature(a[:30]) == pytest.approx(angles.mean(), abs=1e-12)
    line = np.outer(np.arange(5), np.ones(3)).astype(np.float32)
    assert latent.trajectory_curvature(line) == pytest.approx(0.0, abs=1e-7)


def test_edits_match_numpy(encoders):
    a, b, labels = encoders
    rng = np.random.default_rng(7)
    directions = rng.normal(size=(3, 64))
    q, _ = np.linalg.qr(directions.T)
    for strength in (1.0, 0.4):
        expected = f64(a) - strength * (f64(a) @ q) @ q.T
        np.testing.assert_allclose(latent.remove_subspace(a, directions, strength), expected, atol=1e-5)
        np.testing.assert_allclose(latent.remove_subspace(f64(a), directions, strength), expected, atol=1e-12)
    erased = latent.remove_subspace(f64(a), directions)
    assert np.abs(erased @ directions.T).max() < 1e-9
    # Concept direction: the difference of two class means; steering along it.
    direction = latent.concept_direction(a, labels, 1, 7)
    expected = f64(a[labels == 1]).mean(0) - f64(a[labels == 7]).mean(0)
    np.testing.assert_allclose(direction, expected / np.linalg.norm(expected), atol=1e-12)
    np.testing.assert_allclose(latent.concept_direction(a, labels, 1, 7, normalize=False), expected, atol=1e-9)
    np.testing.assert_allclose(latent.steer(a, direction, 2.5), f64(a) + 2.5 * direction, atol=1e-5)
    # Removing the concept direction takes the class means' difference out of the space.
    removed = latent.remove_subspace(a, direction[None, :])
    assert abs((f64(removed[labels == 1]).mean(0) - f64(removed[labels == 7]).mean(0)) @ direction) < 1e-5
    # Replacing the coordinates along orthonormal rows M; projection scores.
    basis = q[:, :2].T
    target = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(latent.replace_subspace(f64(a), basis, target),
                               f64(a) - (f64(a) @ basis.T) @ basis + target @ basis, atol=1e-12)
    np.testing.assert_allclose(latent.projection_scores(a, direction), f64(a) @ direction, atol=1e-9)
    # Meta-embedding over the blocks available per row (the second model misses rows 0..9).
    available = [np.ones(len(a), dtype=np.int64), (np.arange(len(a)) >= 10).astype(np.int64)]
    average = latent.average_embeddings([a, b], available=available)
    expected = (unit(a) + unit(b) * available[1][:, None]) / (1 + available[1][:, None])
    np.testing.assert_allclose(average, expected, atol=1e-6)
    # Fusion and pair features.
    both = latent.concatenate_embeddings([a, b[:, :32]], weights=[1.0, 0.5])
    np.testing.assert_allclose(both, np.hstack([unit(a), 0.5 * unit(b[:, :32])]), atol=1e-6)
    np.testing.assert_allclose(latent.average_embeddings([a, b[:, :32]]),
                               (unit(a) + np.hstack([unit(b[:, :32]), np.zeros((len(b), 32))])) / 2, atol=1e-6)
    np.testing.assert_array_equal(latent.pair_features(a[:10], b[:10]),
                                  np.hstack([a[:10], b[:10], np.abs(a[:10] - b[:10]), a[:10] * b[:10]]))


def test_random_projections_are_seeded_and_preserve_norms(encoders):
    a, _, _ = encoders
    for kind in ("gaussian", "sign", "count-sketch"):
        r = latent.random_projection_matrix(64, 512, kind=kind, seed=4)
        np.testing.assert_array_equal(r, latent.random_projection_matrix(64, 512, kind=kind, seed=4))
        assert not np.array_equal(r, latent.random_projection_matrix(64, 512, kind=kind, seed=5))
        np.testing.assert_allclose(latent.random_project(f64(a), 512, kind=kind, seed=4), f64(a) @ r, atol=1e-9)
        np.testing.assert_allclose(latent.random_project(a, 512, kind=kind, seed=4), f64(a) @ r, atol=1e-4)
        # E[R R^T] = I, so E |x R|^2 = |x|^2: over 20 seeds the mean ratio is close to 1.
        ratios = [np.mean(np.sum((f64(a) @ latent.random_projection_matrix(64, 512, kind=kind, seed=seed)) ** 2, axis=1)
                          / np.sum(f64(a) ** 2, axis=1)) for seed in range(20)]
        assert abs(np.mean(ratios) - 1) < 0.02
        assert abs(np.mean(np.diag(r @ r.T)) - 1) < 0.03
    sign = latent.random_projection_matrix(64, 16, kind="sign")
    np.testing.assert_allclose(np.abs(sign), 0.25)
    sketch = latent.random_projection_matrix(64, 16, kind="count-sketch")
    assert np.all(np.sum(sketch != 0, axis=1) == 1) and set(np.unique(sketch)) <= {-1.0, 0.0, 1.0}
    gaussian = latent.random_projection_matrix(400, 100, kind="gaussian", seed=1)
    assert abs(gaussian.std() - 0.1) < 0.002 and abs(gaussian.mean()) < 0.002
    with pytest.raises(latent.InvalidArgument, match="kind"):
        latent.random_projection_matrix(4, 2, kind="sparse")


def test_scores_softmax_and_hard_negatives_match_numpy(encoders):
    a, b, _ = encoders
    rng = np.random.default_rng(8)
    m = rng.normal(size=(64, 64))
    m = m @ m.T / 64
    np.testing.assert_allclose(latent.mahalanobis_distances(a[:50], b[:40], m),
                               scipy.spatial.distance.cdist(f64(a[:50]), f64(b[:40]), "mahalanobis", VI=m),
                               atol=1e-9)
    w = rng.normal(size=(64, 32))
    np.testing.assert_allclose(latent.bilinear_scores(a[:5], b[:7, :32], w), f64(a[:5]) @ w @ f64(b[:7, :32]).T,
                               atol=1e-9)
    s = unit(a[:200]) @ unit(b[:200]).T / 0.05
    log_p = s - scipy.special.logsumexp(s, axis=1, keepdims=True)
    np.testing.assert_allclose(latent.softmax_scores(a[:200], b[:200], 0.05), np.exp(log_p), atol=1e-5)
    assert latent.info_nce(a[:200], b[:200], 0.05) == pytest.approx(-np.mean(np.diag(log_p)), abs=1e-4)
    # Hard negatives: ranks among the non-positives, with and without a margin.
    queries, corpus = a[:20], b[:500]
    positives = [[i, i + 100] for i in range(20)]
    cos = unit(queries) @ unit(corpus).T
    for margin, ratio in ((None, None), (0.05, None), (None, 0.9)):
        got = latent.mine_hard_negatives(queries, corpus, positives, count=3, rank_min=2, rank_max=30, margin=margin,
                                         max_ratio=ratio)
        for i in range(20):
            order = [j for j in np.argsort(-cos[i], kind="stable") if j not in positives[i]][2:30]
            if margin is not None:
                floor = cos[i, positives[i]].min() - margin
                order = [j for j in order if cos[i, j] < floor]
            if ratio is not None:
                order = [j for j in order if cos[i, j] <= ratio * cos[i, positives[i]].min()]
            expected = order[:3] + [-1] * (3 - len(order[:3]))
            np.testing.assert_array_equal(got[i], expected)


def test_concept_anchor_coordinates_are_cosines_to_the_concepts(encoders):
    """Concept-anchor coordinates r(x) = [cos(x, e_c)]_c: a relative projection whose
    anchors are the concept embeddings (here the ten class means), and the top-k
    concepts of a row its k nearest concepts."""
    a, _, labels = encoders
    concepts = np.stack([f64(a[labels == c]).mean(0) for c in range(10)]).astype(np.float32)
    coordinates = latent.RelativeProjection(similarity="cosine").fit(concepts).transform(a)
    np.testing.assert_allclose(coordinates, unit(a) @ unit(concepts).T, atol=1e-5)
    ids, scores = latent.knn(concepts, a, k=3, metric="cosine")
    np.testing.assert_array_equal(ids[:, 0], np.argmax(unit(a) @ unit(concepts).T, axis=1))
    np.testing.assert_allclose(scores, np.sort(unit(a) @ unit(concepts).T, axis=1)[:, ::-1][:, :3], atol=1e-5)
