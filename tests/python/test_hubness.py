"""latent.hubness / reduce_hubness / HubnessReduction against the golden kit
(scikit-hubness definitions), a direct numpy evaluation and the CLI."""

import json

import numpy as np
import pytest
import scipy.stats

import latent

MEASURES = ["k_skewness", "robinhood", "antihub_occurrence", "hub_occurrence", "gini", "atkinson", "groupie_ratio"]
METHODS = ["mp", "mp-normal", "ls", "nicdm", "dsl", "csls"]


def numpy_measures(ids, n, k):
    """The measure definitions evaluated directly with numpy/scipy."""
    occurrence = np.bincount(ids.ravel(), minlength=n).astype(np.float64)
    total = occurrence.sum()
    hubs = occurrence >= 2 * k
    sorted_occ = np.sort(occurrence)
    ranks = np.arange(1, n + 1)
    return {
        "k_skewness": scipy.stats.skew(occurrence, bias=True),
        "robinhood": 0.5 * np.abs(occurrence - k).sum() / total,
        "antihub_occurrence": np.mean(occurrence == 0),
        "hub_occurrence": occurrence[hubs].sum() / total,
        "gini": ((2 * ranks - n - 1) * sorted_occ).sum() / (n * total),
        "atkinson": 1 - np.mean(np.sqrt(occurrence)) ** 2 / np.mean(occurrence),
        "groupie_ratio": occurrence.max() / total,
    }


def test_measures_match_numpy_definitions(images):
    x, labels = images
    report = latent.hubness(x, k=10, metric="l2", labels=labels)
    ids, _ = latent.knn(x, k=10, metric="l2")
    expected = numpy_measures(ids, x.shape[0], 10)
    for name in MEASURES:
        assert report["before"][name] == pytest.approx(expected[name], abs=1e-12), name
    assert "after" not in report and report["candidates"] == 10 and report["reduce"] == "none"
    assert 0.5 < report["before"]["knn_accuracy"] < 1.0


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("method", METHODS)
def test_reductions_match_golden_lists(golden, metric, method):
    x = np.load(golden / "inputs" / "encA.npy")
    labels = np.load(golden / "inputs" / "enc_labels.npy")
    results = json.load(open(golden / "hubness.json"))["results"]["encA"][metric]
    lists = np.load(golden / "hubness" / f"encA_{metric}_knn_candidates50.npy")[METHODS.index(method)]
    ids, distances = latent.reduce_hubness(x, k=10, metric=metric, method=method, candidates=50)
    assert ids.shape == (2000, 10) and distances.dtype == np.float64
    assert (ids == lists).all(axis=1).sum() == 2000
    report = latent.hubness(x, k=10, metric=metric, reduce=method, candidates=50, labels=labels)
    expected = results["methods"][method]["candidates50"]["own"]
    for name in MEASURES:
        assert report["after"][name] == pytest.approx(expected[name], abs=1e-12), name
    assert report["after"]["knn_accuracy"] == expected["knn_accuracy"]
    for name in MEASURES:
        assert report["before"][name] == pytest.approx(results["before"][name], abs=1e-12), name


def test_hubness_dict_equals_cli_json(cli, tmp_path, encoders):
    a, _, labels = encoders
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "y.npy", labels)
    for reduce in (None, "mp", "dsl"):
        args = ["hubness", tmp_path / "a.npy", "-k", "10", "--metric", "cosine", "--labels", tmp_path / "y.npy"]
        if reduce:
            args += ["--reduce", reduce, "--candidates", "30"]
        expected = cli(*args)
        got = latent.hubness(a, k=10, metric="cosine", reduce=reduce, candidates=30, labels=labels)
        for key in ("seconds", "ids"):
            expected.pop(key)
        assert got == expected


def test_csr_graph_like_scikit_hubness(encoders):
    """A KNeighborsTransformer distance graph in, a re-ranked graph of the same layout out."""
    from sklearn.neighbors import KNeighborsTransformer

    a = encoders[0].astype(np.float64)
    graph = KNeighborsTransformer(n_neighbors=50, mode="distance", algorithm="brute").fit_transform(a)
    reducer = latent.HubnessReduction(method="mp-normal", metric="l2")
    reduced = reducer.fit_transform(graph)
    assert reduced.shape == graph.shape and reduced.nnz == a.shape[0] * 50
    # The same reduction through the vector pipeline with 50 candidates keeps the same first 10.
    ids, _ = latent.reduce_hubness(a, k=10, metric="l2", method="mp-normal", candidates=50)
    first10 = reduced.indices.reshape(a.shape[0], 50)[:, :10]
    assert (first10 == ids).all(axis=1).mean() >= 0.99
    assert not np.any(reduced.indices.reshape(a.shape[0], 50) == np.arange(a.shape[0])[:, None])


def test_k_occurrence_and_measures(encoders):
    ids, _ = latent.knn(encoders[0], k=5, metric="cosine")
    occurrence = latent.k_occurrence(ids, 2000)
    np.testing.assert_array_equal(occurrence, np.bincount(ids.ravel(), minlength=2000))
    measures = latent.hubness_measures(ids, 2000)
    expected = numpy_measures(ids, 2000, 5)
    for name in MEASURES:
        assert measures[name] == pytest.approx(expected[name], abs=1e-12)


def test_angular_distances_and_rank_invariance(encoders):
    """Angular distance = angle / pi, in double; rank-based results equal cosine's."""
    a = encoders[0]
    ids, distances = latent.reduce_hubness(a, k=10, metric="angular", method="none", candidates=30)
    x = a.astype(np.float64) / np.linalg.norm(a.astype(np.float64), axis=1, keepdims=True)
    angle = np.arccos(np.clip(x @ x.T, -1, 1)) / np.pi
    np.testing.assert_allclose(distances, np.take_along_axis(angle, ids, axis=1), rtol=1e-9, atol=1e-12)
    np.fill_diagonal(angle, np.inf)
    expected = np.argsort(angle, axis=1, kind="stable")[:, :10]
    assert (ids == expected).all(axis=1).mean() >= 0.995
    # The k-occurrence and empiric mutual proximity depend on the order of the
    # distances only, and the angle orders as the cosine distance does.
    assert latent.hubness(a, k=10, metric="angular")["before"] == latent.hubness(a, k=10, metric="cosine")["before"]
    mp_angular, _ = latent.reduce_hubness(a, k=10, metric="angular", method="mp", candidates=30)
    mp_cosine, _ = latent.reduce_hubness(a, k=10, metric="cosine", method="mp", candidates=30)
    assert (mp_angular == mp_cosine).all(axis=1).mean() >= 0.995


def test_two_set_csls_matches_numpy_and_helps_cross_encoder_retrieval(encoders):
    """The first encoder's latents mapped onto the second's by orthogonal Procrustes
    on 500 anchor rows, then each of the other 1500 mapped rows looks for its own
    image among the second encoder's 1500 rows: CSLS (numpy, float64) against
    latent.csls_search, and its top-1 retrieval against plain cosine."""
    a, b, _ = encoders
    anchors, rest = slice(0, 500), slice(500, 2000)
    u, _, vt = np.linalg.svd(a[anchors].astype(np.float64).T @ b[anchors].astype(np.float64))
    mapped = (a[rest].astype(np.float64) @ (u @ vt)).astype(np.float32)
    target = b[rest]
    k_local = 10
    ms = mapped.astype(np.float64) / np.linalg.norm(mapped, axis=1, keepdims=True)
    ts = target.astype(np.float64) / np.linalg.norm(target, axis=1, keepdims=True)
    cos = ms @ ts.T
    r_source = -np.sort(-cos, axis=1)[:, :k_local].mean(axis=1)
    r_target = -np.sort(-cos.T, axis=1)[:, :k_local].mean(axis=1)
    csls = 2 * cos - r_source[:, None] - r_target[None, :]
    expected = np.argsort(-csls, axis=1, kind="stable")[:, :5]
    ids, scores = latent.csls_search(mapped, target, k=5, k_local=k_local)
    assert np.mean(ids == expected) > 0.999
    np.testing.assert_allclose(scores, np.take_along_axis(csls, ids, axis=1), atol=1e-5)
    truth = np.arange(1500)
    csls_top1 = np.mean(ids[:, 0] == truth)
    cosine_top1 = np.mean(np.argmax(cos, axis=1) == truth)
    print(f"cross-encoder top-1: cosine {cosine_top1:.3f}, CSLS {csls_top1:.3f}")
    assert csls_top1 >= cosine_top1
    with pytest.raises(latent.InvalidK):
        latent.csls_search(mapped, target[:5], k=3, k_local=10)


def test_dis_sim_global_matches_numpy_on_the_encoder_latents(golden):
    """reduce_hubness(method="dsg") against the definition in numpy on encA:
    s(x, y) = |x - y|^2 - |x - c|^2 - |y - c|^2 with c the dataset mean, each row's
    50 exact candidates re-ranked by s (ties by the primary distance), top 10 kept;
    and under cosine the same on the unit rows."""
    x = np.load(golden / "inputs" / "encA.npy").astype(np.float64)
    n, k, candidates = len(x), 10, 50
    for metric in ("l2", "cosine"):
        v = x / np.linalg.norm(x, axis=1, keepdims=True) if metric == "cosine" else x
        squares = (v * v).sum(1)
        e = np.maximum(squares[:, None] + squares[None, :] - 2 * v @ v.T, 0)
        np.fill_diagonal(e, np.inf)
        primary = np.argsort(e, axis=1, kind="stable")[:, :candidates]
        r = ((v - v.mean(axis=0)) ** 2).sum(1)
        rows = np.arange(n)[:, None]
        s = e[rows, primary] - r[:, None] - r[primary]
        order = np.lexsort((e[rows, primary], s), axis=1)[:, :k]
        expected_ids = np.take_along_axis(primary, order, axis=1)
        ids, distances = latent.reduce_hubness(x.astype(np.float32), k=k, metric=metric, method="dsg",
                                               candidates=candidates)
        assert np.mean(ids == expected_ids) > 0.995, metric
        same = ids == expected_ids
        np.testing.assert_allclose(distances[same], np.take_along_axis(s, order, axis=1)[same], rtol=1e-4, atol=1e-4)
        # s = -2 <v_x - c, v_y - c>: the centred inner product ranks the candidates alike
        u = v - v.mean(axis=0)
        by_inner = np.take_along_axis(primary, np.argsort(-np.einsum("id,ikd->ik", u, u[primary]), axis=1,
                                                          kind="stable")[:, :k], axis=1)
        assert np.mean(by_inner == ids) > 0.995, metric


def test_hub_prior_selection_keeps_the_dense_samples(images, cli, tmp_path):
    """Hub-prior selection on Fashion-MNIST: the ids with N_k >= t (numpy count of the
    kNN lists), the same from `latent hubness --hubs`, and the hubs lie nearer the
    data than the rest (smaller mean distance to their k nearest rows)."""
    x = images[0]
    k = 10
    ids, distances = latent.knn(x, k=k, metric="l2")
    occurrence = latent.k_occurrence(ids, len(x))
    np.testing.assert_array_equal(occurrence, np.bincount(ids.ravel(), minlength=len(x)))
    hubs = latent.select_hubs(occurrence, 2 * k)
    np.testing.assert_array_equal(hubs, np.flatnonzero(np.bincount(ids.ravel(), minlength=len(x)) >= 2 * k))
    assert 0 < len(hubs) < len(x) // 5
    rest = np.setdiff1d(np.arange(len(x)), hubs)
    assert distances[hubs].mean() < distances[rest].mean()
    with pytest.raises(latent.InvalidArgument, match="threshold"):
        latent.select_hubs(occurrence, 0)
    path = tmp_path / "x.npy"
    np.save(path, x)
    cli("hubness", path, "-k", k, "--metric", "l2", "--hubs", tmp_path / "hubs.npy", "--hub-threshold", 15)
    np.testing.assert_array_equal(np.load(tmp_path / "hubs.npy"), latent.select_hubs(occurrence, 15))


def test_fnorm_then_mutual_proximity_on_the_golden_latents(golden):
    """The pipeline f-norm -> exact kNN graph -> mutual proximity (empiric, over all
    points) -> hubness and leave-one-out kNN accuracy, on encA (2000 x 64, 10 classes),
    against the same pipeline written in numpy/scipy: every measure to 1e-9 and the
    same accuracy; and the pipeline's effect, asserted: lower k-skewness than the raw
    cosine graph at no loss of accuracy."""
    x = np.load(golden / "inputs" / "encA.npy")
    labels = np.load(golden / "inputs" / "enc_labels.npy")
    n, k = len(x), 10
    z = scipy.stats.norm.ppf(scipy.stats.rankdata(x.astype(np.float64), axis=0) / (n + 1))
    f = z / np.linalg.norm(z, axis=1, keepdims=True)
    d = np.maximum(1 - f @ f.T, 0)
    np.fill_diagonal(d, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(n), d.shape), d), axis=1)
    # MP(x, y) = 1 - c / n, c = #{j : d(x, j) > d(x, y) and d(y, j) > d(y, x)} over all points;
    # rows ranked by (MP, d, id). Candidates are taken in distance order until none
    # left can beat the k-th best: c(x, y) <= #{j : d(x, j) > d(x, y)} <= n - 1 - rank.
    np.fill_diagonal(d, 0)
    reduced = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        found = []
        for start in range(0, n - 1, 64):
            ys = order[i, start:start + 64]
            c = ((d[i][None, :] > d[i, ys][:, None]) & (d[ys] > d[ys, i][:, None])).sum(1)
            found.extend(zip(1 - c / n, d[i, ys], ys))
            best = sorted(found)[:k]
            if len(best) == k and start + 64 < n - 1 and best[-1][0] <= 1 - (n - 1 - (start + 64)) / n:
                break
        reduced[i] = [y for _, _, y in sorted(found)[:k]]
    votes = labels[reduced]
    counts = np.stack([np.sum(votes == c, axis=1) for c in range(labels.max() + 1)], axis=1)
    tied_first = [next(v for v in row if counts[i, v] == counts[i].max()) for i, row in enumerate(votes)]
    expected_accuracy = np.mean(np.array(tied_first) == labels)

    fx = latent.FNorm().fit_transform(x)
    ours = latent.hubness(fx, k=k, metric="cosine", reduce="mp", candidates="all", labels=labels)
    assert ours["exact"]
    for name, value in numpy_measures(reduced, n, k).items():
        assert ours["after"][name] == pytest.approx(value, abs=1e-9), name
    assert ours["after"]["knn_accuracy"] == pytest.approx(expected_accuracy, abs=1e-12)
    raw = latent.hubness(x, k=k, metric="cosine", labels=labels)["before"]
    print(f"encA: k-skewness raw {raw['k_skewness']:.3f} -> f-norm + mp {ours['after']['k_skewness']:.3f}; "
          f"kNN accuracy {raw['knn_accuracy']:.4f} -> {ours['after']['knn_accuracy']:.4f}")
    assert ours["after"]["k_skewness"] < 0.5 * raw["k_skewness"]
    assert ours["after"]["knn_accuracy"] >= raw["knn_accuracy"] - 0.005
