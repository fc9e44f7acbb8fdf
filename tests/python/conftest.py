"""Shared fixtures of the Python tests: the bundled data, the golden kit and the
`latent` command-line tool of the same build (CTest passes their paths)."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("LATENT_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
GOLDEN_DIR = pathlib.Path(os.environ.get("LATENT_GOLDEN_DIR", SOURCE_DIR.parent / "shared" / "golden"))
FMNIST_ROWS_DIR = pathlib.Path(os.environ.get("LATENT_FMNIST_ROWS_DIR", "/nonexistent"))
CLI = os.environ.get("LATENT_CLI")


@pytest.fixture(scope="session")
def images():
    """Fashion-MNIST sample: float32 [1000 x 784] and int64 labels [1000]."""
    data = SOURCE_DIR / "data" / "fashion-mnist"
    return np.load(data / "images.npy"), np.load(data / "labels.npy")


@pytest.fixture(scope="session")
def encoders():
    """Two independently trained encoders' latents of the same 2000 images, float32 [2000 x 64]."""
    data = SOURCE_DIR / "data" / "encoders"
    return np.load(data / "mlp_seed0.npy"), np.load(data / "mlp_seed1.npy"), np.load(data / "labels.npy")


@pytest.fixture(scope="session")
def cnn_latents():
    """A convolutional encoder's latents of the same 2000 images, float32 [2000 x 64]."""
    return np.load(SOURCE_DIR / "data" / "encoders" / "cnn_seed0.npy")


@pytest.fixture(scope="session")
def golden():
    if not (GOLDEN_DIR / "README.md").exists():
        pytest.skip("the golden kit is absent")
    return GOLDEN_DIR


@pytest.fixture(scope="session")
def fmnist_rows():
    if not (FMNIST_ROWS_DIR / "pixels.npy").exists():
        pytest.skip("the Fashion-MNIST golden rows were not generated")
    return FMNIST_ROWS_DIR


@pytest.fixture(scope="session")
def cli():
    """Runs the `latent` tool and returns its parsed --json output."""
    if not CLI:
        pytest.skip("LATENT_CLI is not set")

    def run(*args):
        result = subprocess.run([CLI, *map(str, args), "--json"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return run
