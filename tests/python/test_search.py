"""latent.knn and latent.similarity against numpy, the golden kit and the CLI."""

import numpy as np
import pytest

import latent


def numpy_top_k(queries, base, k, metric, exclude_self=False):
    """Brute-force top-k in float64: ascending distance or descending similarity, ties by id."""
    q = queries.astype(np.float64)
    b = base.astype(np.float64)
    if metric in ("cosine", "angular"):
        scores = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
        if metric == "angular":
            scores = 1 - np.arccos(np.clip(scores, -1, 1)) / np.pi
        keys = -scores
    elif metric == "ip":
        scores = q @ b.T
        keys = -scores
    else:
        squared = (q * q).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * q @ b.T
        scores = np.sqrt(np.maximum(squared, 0)) if metric == "l2" else np.maximum(squared, 0)
        keys = scores
    if exclude_self:
        np.fill_diagonal(keys, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(b.shape[0]), keys.shape), keys), axis=1)[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2", "sqeuclidean", "angular"])
def test_knn_graph_matches_numpy(images, metric):
    x = images[0][:400]
    ids, scores = latent.knn(x, k=10, metric=metric)
    assert ids.shape == (400, 10) and ids.dtype == np.int64 and scores.dtype == np.float32
    expected_ids, expected_scores = numpy_top_k(x, x, 10, metric, exclude_self=True)
    same_sets = np.mean([set(a) == set(b) for a, b in zip(ids, expected_ids)])
    assert same_sets >= 0.995
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-4, atol=1e-3)
    assert not np.any(ids == np.arange(400)[:, None])


def test_knn_queries_double_precision_is_exact(encoders):
    a, _, _ = encoders
    base, queries = a[:1500].astype(np.float64), a[1500:1600].astype(np.float64)
    ids, scores = latent.knn(base, queries, k=5, metric="l2")
    expected_ids, expected_scores = numpy_top_k(queries, base, 5, "l2")
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)


def test_knn_golden_fashion_mnist(golden, fmnist_rows):
    train = np.load(fmnist_rows / "train.npy", mmap_mode="r")
    queries = np.load(fmnist_rows / "knn_queries.npy")
    for metric in ("l2", "cosine", "ip"):
        ids, scores = latent.knn(np.asarray(train), queries, k=10, metric=metric)
        golden_ids = np.load(golden / "knn" / f"ids_{metric}.npy")
        golden_scores = np.load(golden / "knn" / f"scores_{metric}.npy")
        assert np.mean(ids == golden_ids) >= 0.999
        np.testing.assert_allclose(scores, golden_scores, rtol=2e-5, atol=1e-4)


def test_knn_bitwise_equal_to_cli(tmp_path, images):
    import subprocess
    import os

    cli = os.environ.get("LATENT_CLI")
    if not cli:
        pytest.skip("LATENT_CLI is not set")
    x = images[0]
    path = tmp_path / "x.npy"
    np.save(path, x)
    subprocess.run([cli, "knn", "--base", path, "-k", "7", "--metric", "cosine", "--ids", tmp_path / "ids.npy",
                    "--scores", tmp_path / "scores.npy"], check=True, capture_output=True)
    ids, scores = latent.knn(x, k=7, metric="cosine")
    np.testing.assert_array_equal(ids, np.load(tmp_path / "ids.npy"))
    assert scores.tobytes() == np.load(tmp_path / "scores.npy").tobytes()


def test_similarity_matrix(encoders):
    a, b, _ = encoders
    s = latent.similarity(a[:50], b[:70], metric="cosine")
    an = a[:50] / np.linalg.norm(a[:50], axis=1, keepdims=True)
    bn = b[:70] / np.linalg.norm(b[:70], axis=1, keepdims=True)
    np.testing.assert_allclose(s, an @ bn.T, rtol=1e-5, atol=1e-6)


def test_isa_switch_gives_the_same_graph(images):
    x = images[0][:300]
    before = latent.active_isa()
    ids_best, scores_best = latent.knn(x, k=5, metric="l2")
    try:
        latent.set_isa("scalar")
        ids_scalar, scores_scalar = latent.knn(x, k=5, metric="l2")
    finally:
        latent.set_isa(before)
    assert np.mean(ids_best == ids_scalar) >= 0.999
    np.testing.assert_allclose(scores_best, scores_scalar, rtol=1e-4)


def test_hyperbolic_operations_match_numpy(encoders):
    """The encoder latents mapped into the ball (and onto the hyperboloid) at c = 0.5:
    Möbius addition, the Lorentz bilinear form and the Poincaré distance through
    Möbius addition, each from its formula in numpy (float64)."""
    a, b, _ = encoders
    c = 0.5
    x = a[:40].astype(np.float64)
    y = b[:40].astype(np.float64)
    # into the ball: rows scaled to norms in (0, 0.95 / sqrt(c)) by tanh of their norm
    def into_ball(v):
        n = np.linalg.norm(v, axis=1, keepdims=True)
        return v / n * np.tanh(n / 10) * 0.95 / np.sqrt(c)

    p, q = into_ball(x), into_ball(y)
    xy = np.sum(p * q, axis=1, keepdims=True)
    pp = np.sum(p * p, axis=1, keepdims=True)
    qq = np.sum(q * q, axis=1, keepdims=True)
    expected = ((1 + 2 * c * xy + c * qq) * p + (1 - c * pp) * q) / (1 + 2 * c * xy + c**2 * pp * qq)
    np.testing.assert_allclose(latent.mobius_add(p, q, c=c), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(latent.mobius_add(p.astype(np.float32), q.astype(np.float32), c=c), expected,
                               rtol=1e-5, atol=1e-6)
    broadcast = latent.mobius_add(p, q[:1], c=c)
    np.testing.assert_array_equal(broadcast[7], latent.mobius_add(p[7:8], q[:1], c=c)[0])

    difference = latent.mobius_add(-p, q, c=c)
    through_addition = 2 / np.sqrt(c) * np.arctanh(np.sqrt(c) * np.linalg.norm(difference, axis=1))
    np.testing.assert_allclose(np.diag(latent.poincare_distances(p, q, c=c)), through_addition, rtol=1e-9)

    xs, ys = x / 4, y[:30] / 4
    xt = np.sqrt(1 / c + np.sum(xs * xs, axis=1))
    yt = np.sqrt(1 / c + np.sum(ys * ys, axis=1))
    bilinear = xs @ ys.T - np.outer(xt, yt)
    np.testing.assert_allclose(latent.lorentz_inner_products(xs, ys, c=c), bilinear, rtol=1e-10)
    np.testing.assert_allclose(np.diag(latent.lorentz_inner_products(xs, c=c)), -1 / c, rtol=1e-12)
    with pytest.raises(latent.InvalidArgument, match="ball"):
        latent.mobius_add(p * 10, q, c=c)


def test_id_filters_match_numpy(images):
    """allow_ids / deny_ids against numpy's top-k over the rows let through, on Fashion-MNIST."""
    x = images[0]
    queries, base = x[:20], x[20:]
    listed = np.arange(0, len(base), 7)
    for metric in ("cosine", "l2"):
        for kind in ("allow", "deny"):
            kept = listed if kind == "allow" else np.setdiff1d(np.arange(len(base)), listed)
            ids, scores = latent.knn(base, queries, k=5, metric=metric, **{kind + "_ids": listed})
            expected_ids, expected_scores = numpy_top_k(queries, base[kept], 5, metric)
            np.testing.assert_array_equal(ids, kept[expected_ids])
            np.testing.assert_allclose(scores, expected_scores, rtol=1e-4, atol=1e-4)
    with pytest.raises(latent.InvalidArgument, match="outside base"):
        latent.knn(base, queries, k=1, allow_ids=[len(base)])
    with pytest.raises(latent.InvalidArgument, match="deny_ids"):
        latent.knn(base, queries, k=1, allow_ids=[1], deny_ids=[2])
    with pytest.raises(latent.InvalidK):
        latent.knn(base, queries, k=3, allow_ids=[1, 2])


def test_symmetric_mutual_and_epsilon_graphs_match_scikit_learn(encoders):
    """Graphs of the encoder latents against scikit-learn's kneighbors_graph and
    radius_neighbors_graph (l2): the union and the mutual pairs, and the pairs
    within epsilon, with their distances."""
    from sklearn.neighbors import kneighbors_graph, radius_neighbors_graph

    x = encoders[0][:600]
    directed = kneighbors_graph(x.astype(np.float64), 8, mode="distance", include_self=False)
    union = ((directed + directed.T) != 0).astype(np.int8)
    mutual = directed.multiply(directed.T) != 0
    ours = latent.symmetric_knn_graph(x, k=8, metric="l2")
    assert ours.shape == (600, 600)
    assert ((ours != 0).astype(np.int8) != union).nnz == 0
    np.testing.assert_allclose(ours.toarray(), directed.maximum(directed.T).toarray(), rtol=1e-4)
    ours_mutual = latent.symmetric_knn_graph(x, k=8, metric="l2", mutual=True)
    assert ((ours_mutual != 0) != mutual).nnz == 0
    assert 0 < ours_mutual.nnz < directed.nnz < ours.nnz

    distances = np.sqrt(((x[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1))
    radius = float(np.quantile(distances[np.triu_indices(600, 1)], 0.02))
    expected = radius_neighbors_graph(x.astype(np.float64), radius, mode="distance", include_self=False)
    found = latent.epsilon_graph(x, radius, metric="l2")
    near_border = np.abs(distances - radius) < 1e-4
    difference = ((found != 0).astype(np.int8) - (expected != 0).astype(np.int8)).toarray() != 0
    assert not np.any(difference & ~near_border)
    assert found.nnz > 600
    both = (found != 0).multiply(expected != 0)
    rows, cols = both.nonzero()
    np.testing.assert_allclose(np.asarray(found[rows, cols]).ravel(), distances[rows, cols], rtol=1e-4)
    cosine = latent.epsilon_graph(x, 0.9, metric="cosine")
    normed = x / np.linalg.norm(x, axis=1, keepdims=True)
    similar = normed @ normed.T >= 0.9
    np.fill_diagonal(similar, False)
    agree = (cosine.toarray() != 0) == similar
    assert np.mean(agree) > 0.9999


def bf16_round(x):
    """float32 -> the nearest bfloat16 (ties to even), as float64."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


def int8_estimate(queries, base):
    """The documented int8 inner-product estimate, written out in numpy: base codes
    from the per-column min / max, each query's scaled copy quantized to 8 bits."""
    low, high = base.min(0), base.max(0)
    high = np.where(high > low, high, low + np.maximum(np.float32(1), np.abs(low)))  # a constant column's own range
    step32 = (high - low) / np.float32(255)
    codes = np.clip(np.rint((np.clip(base, low, high) - low) / step32), 0, 255) - 128
    step = step32.astype(np.float64)
    mid = low.astype(np.float64) + 128 * step
    folded = queries.astype(np.float64) * step
    lo, hi = folded.min(1, keepdims=True), folded.max(1, keepdims=True)
    alpha = (hi - lo) / 255
    u = np.clip(np.rint((folded - lo) / alpha), 0, 255)
    return queries.astype(np.float64) @ mid[:, None] + lo * codes.sum(1)[None, :] + alpha * (u @ codes.T)


def test_knn_in_bf16_and_int8_follow_their_definitions(images):
    base = images[0]
    queries = base[:100]
    exact_ids, _ = latent.knn(base, queries, k=10, metric="ip")
    # bf16: both sides rounded, products summed in float32: numpy's float64 sums of
    # the rounded values give the same lists (up to near-ties).
    ids, scores = latent.knn(base, queries, k=10, metric="ip", compute="bf16")
    expected_ids, expected_scores = numpy_top_k(bf16_round(queries), bf16_round(base), 10, "ip")
    assert np.mean(ids == expected_ids) >= 0.98
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)
    # int8: the estimate above, top 10.
    ids, scores = latent.knn(base, queries, k=10, metric="ip", compute="int8")
    estimate = int8_estimate(queries, base)
    order = np.argsort(-estimate, axis=1, kind="stable")[:, :10]
    assert np.mean(ids == order) >= 0.98
    np.testing.assert_allclose(scores, np.take_along_axis(estimate, order, 1), rtol=1e-4)
    for compute in ("bf16", "int8"):
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(latent.knn(base, queries, k=10, metric="ip", compute=compute)[0], exact_ids)])
        assert recall >= 0.99
        # rescore: the exact float lists and scores
        ids, scores = latent.knn(base, queries, k=10, metric="l2", compute=compute, rescore=50)
        expected_ids, expected_scores = numpy_top_k(queries, base, 10, "l2")
        assert np.mean(ids == expected_ids) >= 0.999
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-3)
    # the self graph leaves each row out
    ids, _ = latent.knn(base[:300], k=5, metric="cosine", compute="int8")
    assert not np.any(ids == np.arange(300)[:, None])
    with pytest.raises(latent.InvalidArgument, match="rescore"):
        latent.knn(base, queries, k=10, metric="ip", rescore=20)
    with pytest.raises(latent.InvalidArgument, match="compute"):
        latent.knn(base, queries, k=10, metric="ip", compute="fp8")
