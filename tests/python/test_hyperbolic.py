"""Hyperbolic search and hashed tables against independent numpy evaluations.

Poincare distances come from the Moebius-addition form
(2/sqrt(c)) artanh(sqrt(c) |(-x) (+)_c y|) and Lorentz distances from
arcosh(x_0 y_0 - <x_s, y_s>) (the definitions the `latent knn` help states),
both in float64; the bundled encoder latents are mapped into the ball and onto
the hyperboloid. The CLI writes what the bindings return, byte for byte."""

import os
import subprocess

import numpy as np
import pytest

import latent

CLI = os.environ.get("LATENT_CLI")


def mobius_add(x, y, c):
    xy = (x * y).sum(-1, keepdims=True)
    xx = (x * x).sum(-1, keepdims=True)
    yy = (y * y).sum(-1, keepdims=True)
    return ((1 + 2 * c * xy + c * yy) * x + (1 - c * xx) * y) / (1 + 2 * c * xy + c * c * xx * yy)


def poincare_numpy(queries, base, c):
    q, b = queries.astype(np.float64), base.astype(np.float64)
    out = np.empty((len(q), len(b)))
    for i in range(len(q)):
        out[i] = 2 / np.sqrt(c) * np.arctanh(np.sqrt(c) * np.linalg.norm(mobius_add(-q[i][None, :], b, c), axis=1))
    return out


def lorentz_numpy(queries, base, c):
    """Rows [x_0, x_s] on the unit hyperboloid; x_0 recomputed in float64."""
    def full(x):
        s = x[:, 1:].astype(np.float64)
        return np.sqrt(1 + (s * s).sum(1)), s
    tq, sq = full(queries)
    tb, sb = full(base)
    return np.arccosh(np.maximum(np.outer(tq, tb) - sq @ sb.T, 1.0)) / np.sqrt(c)


def ball_rows(latents, c, radius):
    """Latents scaled so their mean norm is `radius` of the ball's, mapped in by tanh."""
    v = latents.astype(np.float64) / np.linalg.norm(latents, axis=1).mean() * radius
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return (np.tanh(np.sqrt(c) * n) * v / (np.sqrt(c) * n)).astype(np.float32)


def hyperboloid_rows(latents):
    s = (latents / np.linalg.norm(latents, axis=1).mean() * 2).astype(np.float32)
    x0 = np.sqrt(1 + (s.astype(np.float64) ** 2).sum(1))
    return np.hstack([x0[:, None], s]).astype(np.float32)


def assert_matches_reference(ids, scores, reference, rtol):
    """Each returned neighbour is at the reference distance, and no row left out
    is nearer than the k-th (up to the reference's own rounding)."""
    got = np.take_along_axis(reference, ids, axis=1)
    np.testing.assert_allclose(scores, got, rtol=rtol, atol=1e-6)
    kth = reference[np.arange(len(ids)), ids[:, -1]]
    masked = reference.copy()
    np.put_along_axis(masked, ids, np.inf, axis=1)
    assert (masked.min(axis=1) >= kth * (1 - rtol) - 1e-6).all()
    exact = np.argsort(reference, axis=1, kind="stable")[:, : ids.shape[1]]
    assert (ids == exact).mean() > 0.999


@pytest.mark.parametrize("c", [1.0, 0.3])
def test_poincare_knn_matches_numpy(encoders, c):
    x = ball_rows(encoders[0], c, 0.8)
    base, queries = x[:1500], x[1500:]
    ids, scores = latent.hyperbolic_knn(base, queries, k=10, model="poincare", c=c)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and ids.shape == (500, 10)
    assert (np.diff(scores, axis=1) >= 0).all()
    assert_matches_reference(ids, scores, poincare_numpy(queries, base, c), 1e-5)


def test_lorentz_knn_matches_numpy(encoders):
    x = hyperboloid_rows(encoders[1])
    base, queries = x[:1500], x[1500:]
    c = 2.0
    # The library takes MERU's space components: x_s / sqrt(c) on x_0 = sqrt(1/c + |x_s|^2).
    ids, scores = latent.hyperbolic_knn(base[:, 1:] / np.float32(np.sqrt(c)), queries[:, 1:] / np.float32(np.sqrt(c)),
                                        k=10, model="lorentz", c=c)
    assert_matches_reference(ids, scores, lorentz_numpy(queries, base, c), 1e-4)


def test_graph_leaves_each_row_out(encoders):
    x = ball_rows(encoders[0][:600], 1.0, 0.5)
    ids, scores = latent.hyperbolic_knn(x, k=5)
    reference = poincare_numpy(x, x, 1.0)
    np.fill_diagonal(reference, np.inf)
    assert (ids != np.arange(600)[:, None]).all()
    assert_matches_reference(ids, scores, reference, 1e-5)


def test_norms_and_subsumption_scores():
    rng = np.random.default_rng(3)
    c = 1.7
    x = rng.normal(size=(50, 6))
    x *= rng.uniform(0, 0.95, size=(50, 1)) / (np.sqrt(c) * np.linalg.norm(x, axis=1, keepdims=True))
    norms = latent.hyperbolic_norms(x, c=c)
    np.testing.assert_allclose(norms, 2 / np.sqrt(c) * np.arctanh(np.sqrt(c) * np.linalg.norm(x, axis=1)), rtol=1e-10)
    lorentz = latent.hyperbolic_norms(x * 10, model="lorentz", c=c)
    np.testing.assert_allclose(lorentz, np.arcsinh(np.sqrt(c) * np.linalg.norm(x * 10, axis=1)) / np.sqrt(c),
                               rtol=1e-12)
    parents = x[::-1].copy()
    scores = latent.subsumption_scores(x, parents, 0.25, c=c)
    d = np.diag(poincare_numpy(x, parents, c))
    expected = -(d + 0.25 * (norms[::-1] - norms))
    np.testing.assert_allclose(scores, expected, rtol=1e-7, atol=1e-9)


def test_bad_inputs_raise_value_errors():
    x = np.full((4, 3), 0.7)
    with pytest.raises(latent.InvalidArgument, match="base"):
        latent.hyperbolic_knn(x, k=2)
    with pytest.raises(latent.InvalidK):
        latent.hyperbolic_knn(x * 0.1, k=4)
    with pytest.raises(ValueError, match="model"):
        latent.hyperbolic_knn(x * 0.1, k=2, model="klein")
    with pytest.raises(ValueError, match="lambda"):
        latent.subsumption_scores(x * 0.1, x * 0.1, -1.0)


@pytest.mark.skipif(not CLI, reason="LATENT_CLI is not set")
def test_cli_writes_what_the_bindings_return(tmp_path, encoders):
    ball = ball_rows(encoders[0][:800], 0.5, 0.7)
    hyperboloid = hyperboloid_rows(encoders[0][:800])
    np.save(tmp_path / "ball.npy", ball)
    np.save(tmp_path / "hyp.npy", hyperboloid)
    for name, metric, c, binding in (
            ("ball.npy", "poincare", 0.5, lambda: latent.hyperbolic_knn(ball, ball[:100], k=7, c=0.5)),
            ("hyp.npy", "lorentz", 1.0,
             lambda: latent.hyperbolic_knn(hyperboloid[:, 1:], hyperboloid[:100, 1:], k=7, model="lorentz"))):
        np.save(tmp_path / "q.npy", np.load(tmp_path / name)[:100])
        result = subprocess.run([CLI, "knn", "--base", tmp_path / name, "--query", tmp_path / "q.npy", "-k", "7",
                                 "--metric", metric, "--curvature", str(c), "--ids", tmp_path / "ids.npy",
                                 "--scores", tmp_path / "scores.npy"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        ids, scores = binding()
        assert np.load(tmp_path / "ids.npy").tobytes() == ids.tobytes(), metric
        assert np.load(tmp_path / "scores.npy").tobytes() == scores.tobytes(), metric
    # A time component off the hyperboloid is refused, naming the file and the row.
    off = hyperboloid.copy()
    off[5, 0] *= 1.01
    np.save(tmp_path / "off.npy", off)
    result = subprocess.run([CLI, "knn", "--base", tmp_path / "off.npy", "-k", "3", "--metric", "lorentz", "--ids",
                             tmp_path / "ids2.npy"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "off.npy" in result.stderr and "row 5" in result.stderr
    assert not (tmp_path / "ids2.npy").exists()


def test_hash_embedding_sums_its_bucket_rows():
    table = np.random.default_rng(4).normal(size=(97, 5)).astype(np.float32)
    for hashes in (1, 2, 4):
        h = latent.HashEmbedding(table, hashes=hashes, seed=11)
        keys = np.arange(0, 5000, 7, dtype=np.uint64)
        buckets = h.buckets(keys)
        assert buckets.shape == (len(keys), hashes) and buckets.min() >= 0 and buckets.max() < 97
        np.testing.assert_allclose(h.lookup(keys), table[buckets].sum(axis=1), rtol=1e-6, atol=1e-6)
        # Bucket j is word j of MurmurHash3_x64_128 over the key's 8 little-endian bytes, mod the rows.
        for key, row in zip(keys[:20], buckets[:20]):
            h1, h2 = latent.murmurhash3_x64_128(int(key).to_bytes(8, "little"), 11)
            words = [h1 & 0xFFFFFFFF, h1 >> 32, h2 & 0xFFFFFFFF, h2 >> 32]
            assert list(row) == [w % 97 for w in words[:hashes]]
    strings = latent.HashEmbedding(table, hashes=1).buckets(["cat", "dog"])
    assert strings[0, 0] == (latent.murmurhash3_x64_128(b"cat")[0] & 0xFFFFFFFF) % 97
    # SMHasher's verification value of MurmurHash3_x86_32 needs 256 hashes; a known single value instead.
    assert latent.murmurhash3_x86_32(b"hello") == 0x248BFA47


def test_collision_rate_of_one_hash_follows_the_birthday_formula():
    keys = np.arange(20000, dtype=np.uint64)
    for rows in (4096, 65536):
        expected = 1 - (1 - 1 / rows) ** (len(keys) - 1)
        assert abs(latent.hash_collision_rate(keys, rows, hashes=1) - expected) < 0.02
    assert latent.hash_collision_rate(keys, 65536, hashes=4) < latent.hash_collision_rate(keys, 65536, hashes=1)


def test_quotient_remainder_embedding():
    rng = np.random.default_rng(5)
    r, q = rng.normal(size=(7, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    ids = np.arange(35)
    for combine, expected in (("multiply", r[ids % 7] * q[ids // 7]), ("add", r[ids % 7] + q[ids // 7]),
                              ("concat", np.hstack([r[ids % 7], q[ids // 7]]))):
        e = latent.QuotientRemainderEmbedding(r, q, combine)
        np.testing.assert_array_equal(e.lookup(ids), expected)
    with pytest.raises(ValueError, match="35"):
        latent.QuotientRemainderEmbedding(r, q).lookup([35])


def test_tables_taken_from_column_slices_equal_their_copies():
    wide = np.random.default_rng(6).normal(size=(50, 12)).astype(np.float32)
    sliced, copy = wide[:, 2:7], np.ascontiguousarray(wide[:, 2:7])
    keys = np.arange(40, dtype=np.uint64)
    np.testing.assert_array_equal(latent.HashEmbedding(sliced, hashes=2).lookup(keys),
                                  latent.HashEmbedding(copy, hashes=2).lookup(keys))
    np.testing.assert_array_equal(latent.QuotientRemainderEmbedding(sliced[:10], sliced[:5]).lookup(np.arange(50)),
                                  latent.QuotientRemainderEmbedding(copy[:10], copy[:5]).lookup(np.arange(50)))
