"""The bindings give the bytes the CLI writes, for the commands that write arrays
(the same library calls in the same precision: bitwise equal)."""

import os
import subprocess

import numpy as np
import pytest

import latent

CLI = os.environ.get("LATENT_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="LATENT_CLI is not set")


def run(*args):
    result = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture()
def files(tmp_path, encoders):
    a, b, _ = encoders
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    ids = latent.select_anchors(a, 50, seed=4)
    np.save(tmp_path / "ids.npy", ids)
    return tmp_path, a, b, ids


def test_whiten(files):
    path, a, _, _ = files
    for method, extra, estimator in (("pca", ["--dim", "20"], latent.Whitening(dim=20)),
                                     ("zca", [], latent.Whitening(method="zca")),
                                     ("abtt", ["--dim", "3"], latent.Whitening(method="abtt", dim=3))):
        run("whiten", "--fit", path / "a.npy", "--method", method, *extra, "-o", path / "w.npy")
        assert estimator.fit_transform(a).tobytes() == np.load(path / "w.npy").tobytes(), method


def test_relative(files):
    path, a, _, ids = files
    run("relative", path / "a.npy", "--anchors", path / "ids.npy", "--similarity", "cosine,l1", "-o", path / "r.npy")
    ours = latent.RelativeProjection(similarity="cosine,l1").fit(a, anchor_ids=ids).transform(a)
    assert ours.tobytes() == np.load(path / "r.npy").tobytes()


def test_align(files):
    path, a, b, ids = files
    run("align", "--source", path / "a.npy", "--target", path / "b.npy", "--fit-ids", path / "ids.npy",
        "--method", "affine", "-o", path / "m.npy")
    # The CLI fits and maps in double and writes float32.
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ours = latent.LatentTranslator(method="affine").fit(a64, b64, ids).transform(a64).astype(np.float32)
    assert ours.tobytes() == np.load(path / "m.npy").tobytes()


@pytest.mark.parametrize("kind", ["f16", "bf16", "int8", "binary"])
def test_quantize(files, kind):
    path, a, _, _ = files
    run("quantize", path / "a.npy", "--type", kind, "-o", path / "q.npy")
    expected = np.load(path / "q.npy")
    ours = latent.quantize(a, type=kind)
    assert ours.dtype == expected.dtype and ours.tobytes() == expected.tobytes()
