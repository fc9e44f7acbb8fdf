"""`latent sweep` against numpy: the recall and k-NN accuracy of every (layer,
dim) cell recomputed from the definitions (rows truncated to the first dim
values and renormalised; cosine neighbour graphs without the row itself), on two
of the bundled encoders' latents standing for two layers; the CSV and the
heat-map written."""

import csv
import os
import subprocess

import numpy as np
import pytest

CLI = os.environ.get("LATENT_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="LATENT_CLI is not set")


def graph(x, k):
    x = x.astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def test_sweep_recall_and_accuracy_match_numpy(tmp_path, encoders):
    a, b, labels = encoders
    layers = [a[:800], b[:800]]
    for i, layer in enumerate(layers):
        np.save(tmp_path / f"layer{i}.npy", layer)
    np.save(tmp_path / "labels.npy", labels[:800])
    dims = [8, 16, 64]
    files = [tmp_path / "layer0.npy", tmp_path / "layer1.npy"]
    result = subprocess.run([CLI, "sweep", *files, "--dims", "64,8,16", "--measure", "recall", "-k", "5", "-o",
                             tmp_path / "recall.csv", "--html", tmp_path / "recall.html"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(tmp_path / "recall.csv")))
    assert [(int(r["layer"]), int(r["dim"])) for r in rows] == [(l, d) for l in range(2) for d in dims]
    reference = graph(layers[-1], 5)
    for r in rows:
        found = graph(layers[int(r["layer"])][:, : int(r["dim"])], 5)
        expected = np.mean([len(set(f) & set(e)) / 5 for f, e in zip(found, reference)])
        assert float(r["value"]) == pytest.approx(expected, abs=2e-3), r
    html = open(tmp_path / "recall.html").read()
    assert html.count("<td") == 6 and "recall" in html

    result = subprocess.run([CLI, "sweep", *files, "--dims", "16,64", "--measure", "knn_accuracy", "--labels",
                             tmp_path / "labels.npy", "-o", tmp_path / "acc.csv"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for r in csv.DictReader(open(tmp_path / "acc.csv")):
        neighbours = graph(layers[int(r["layer"])][:, : int(r["dim"])], 10)
        votes = labels[:800][neighbours]
        # Majority vote, ties to the class of the nearest neighbour among the tied ones.
        predicted = []
        for row in votes:
            counts = np.bincount(row, minlength=10)
            best = np.flatnonzero(counts == counts.max())
            predicted.append(next(c for c in row if c in best))
        expected = np.mean(np.array(predicted) == labels[:800])
        assert float(r["value"]) == pytest.approx(expected, abs=3e-3), r


def test_bindings_funnel_and_sweep(encoders):
    import latent

    a, b, _ = encoders
    base, query = a[:1500], a[1500:]
    exact, _ = latent.knn(base, query, k=10)
    ids, _ = latent.funnel_knn(base, query, k=10, shortlist_dim=64, shortlist=30)
    assert np.array_equal(ids, exact)  # m = d: the exact search
    ids8, _ = latent.funnel_knn(base, query, k=10, shortlist_dim=8, shortlist=30)
    assert np.mean([len(set(x) & set(y)) / 10 for x, y in zip(ids8, exact)]) < 1
    cells = latent.sweep_ladder([a, b], [1, 0], [4, 16], lambda rows: float(rows.shape[1] * 100 + rows[0, 0]))
    assert [(c["layer"], c["dim"]) for c in cells] == [(1, 4), (1, 16), (0, 4), (0, 16)]
    first = b[0, :4] / np.linalg.norm(b[0, :4])
    assert cells[0]["value"] == pytest.approx(400 + first[0], rel=1e-6)
