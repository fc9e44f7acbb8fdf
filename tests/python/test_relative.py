"""RelativeProjection, LatentTranslator, compare and anchors against numpy, the
golden kit and the CLI."""

import json

import numpy as np
import pytest

import latent


def test_relative_cosine_matches_numpy(encoders):
    a, _, _ = encoders
    ids = latent.select_anchors(a, 64, seed=7)
    assert ids.dtype == np.int64 and len(set(ids)) == 64 and np.all(np.diff(ids) > 0)
    p = latent.RelativeProjection(similarity="cosine").fit(a, anchor_ids=ids)
    r = p.transform(a.astype(np.float64))  # converted to the fitted precision
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    np.testing.assert_allclose(r, an @ an[ids].T, rtol=1e-5, atol=1e-6)
    same = latent.RelativeProjection().fit(a[ids]).transform(a)
    assert same.tobytes() == r.tobytes()


def test_relative_golden(golden):
    a = np.load(golden / "inputs" / "encA.npy").astype(np.float64)
    ids = np.load(golden / "inputs" / "anchor_ids.npy")
    for similarity in ("cosine", "l2", "l1", "linf"):
        expected = np.load(golden / "relative" / f"first20_{similarity}.npy")[0]
        got = latent.RelativeProjection(similarity=similarity).fit(a, anchor_ids=ids).transform(a[:20])
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_translation_procrustes_golden(golden):
    a = np.load(golden / "inputs" / "encA.npy").astype(np.float64)
    b = np.load(golden / "inputs" / "encB.npy").astype(np.float64)
    ids = np.load(golden / "inputs" / "anchor_ids.npy")
    t = latent.LatentTranslator(method="procrustes").fit(a, b, ids)
    np.testing.assert_allclose(t.model_.rotation, np.load(golden / "relative" / "procrustes_R_AB.npy"), atol=1e-9)
    lstsq = latent.LatentTranslator(method="affine").fit(a[ids], b[ids])
    design = np.hstack([a[ids], np.ones((len(ids), 1))])
    m, *_ = np.linalg.lstsq(design, b[ids], rcond=None)
    np.testing.assert_allclose(lstsq.transform(a[:10]), np.hstack([a[:10], np.ones((10, 1))]) @ m, atol=1e-8)


def test_compare_equals_cli_json(cli, tmp_path, golden):
    inputs = golden / "inputs"
    a, b = np.load(inputs / "encA.npy"), np.load(inputs / "encB.npy")
    ids = np.load(inputs / "anchor_ids.npy")
    expected = cli("compare", inputs / "encA.npy", inputs / "encB.npy", "--anchors", inputs / "anchor_ids.npy",
                   "--rows", "2000", "--similarity", "cosine,l2", "--translate", "procrustes")
    got = latent.compare(a, b, anchors=ids, k=10, rows=2000, similarity=("cosine", "l2"), translate=("procrustes",))
    expected.pop("seconds")
    got.pop("seconds")
    assert got.keys() == expected.keys()
    for name, scores in expected.items():
        if isinstance(scores, dict):
            for key, value in scores.items():
                assert got[name][key] == pytest.approx(value, rel=1e-12, abs=1e-12), (name, key)
        else:
            assert got[name] == scores
    # And the reference values of the same pair (double inside, as the CLI's test asserts;
    # the reference's concat joins four similarities, this call's two, so it is left out).
    reference = json.load(open(golden / "relative.json"))["pairs"]["A_vs_B"]
    for name in ("absolute", "cosine", "l2"):
        for key in ("jaccard", "mrr", "mean_cos"):
            assert got[name][key] == pytest.approx(reference[name][key], abs=1e-12), (name, key)
        assert got[name]["top1"] == reference[name]["top1"]
        assert got[name]["mean_rank"] == pytest.approx(reference[name]["mean_rank"], abs=1e-9)


def test_anchor_methods_are_deterministic(encoders):
    a = encoders[0]
    for method in ("uniform", "first", "farthest-point", "kmeans++", "kmeans"):
        first = latent.select_anchors(a, 16, method=method, seed=3)
        assert np.array_equal(first, latent.select_anchors(a, 16, method=method, seed=3)), method
        assert len(set(first)) == 16
    labels = encoders[2]
    stratified = latent.select_anchors(a, 100, labels=labels, seed=1)
    assert np.bincount(labels[stratified], minlength=10).min() >= 8


def test_linear_map_matches_numpy_and_the_translator(encoders, cli, tmp_path):
    """LinearMap(W, b).transform(x) = x W + b in float32 and float64; a fitted
    translator's linear_map() reproduces its transform; save / load, and the CLI's
    `align --load-map --save` model loads to the same map."""
    a, b, _ = encoders
    rng = np.random.default_rng(5)
    w = rng.normal(size=(64, 16))
    bias = rng.normal(size=16)
    m = latent.LinearMap(w, bias)
    np.testing.assert_allclose(m.transform(a.astype(np.float64)), a.astype(np.float64) @ w + bias, rtol=1e-12,
                               atol=1e-12)
    out32 = m.transform(a)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, a.astype(np.float64) @ w + bias, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(latent.LinearMap(w).bias_, np.zeros(16))

    translator = latent.LatentTranslator(method="affine").fit(a.astype(np.float64), b.astype(np.float64),
                                                             ids=np.arange(500))
    mapped = translator.linear_map()
    np.testing.assert_allclose(mapped.transform(a.astype(np.float64)), translator.transform(a.astype(np.float64)),
                               rtol=1e-10, atol=1e-10)

    m.save(tmp_path / "map.model")
    loaded = latent.LinearMap.load(tmp_path / "map.model")
    assert loaded.transform(a).tobytes() == out32.tobytes()
    np.save(tmp_path / "w.npy", w)
    np.save(tmp_path / "b.npy", bias)
    np.save(tmp_path / "a.npy", a)
    cli("align", "--load-map", tmp_path / "w.npy", "--bias", tmp_path / "b.npy", "--apply", tmp_path / "a.npy", "-o",
        tmp_path / "out.npy", "--save", tmp_path / "cli.model")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), out32)
    assert latent.LinearMap.load(tmp_path / "cli.model").transform(a).tobytes() == out32.tobytes()
    with pytest.raises(latent.DimensionMismatch):
        latent.LinearMap(w, bias[:3])
