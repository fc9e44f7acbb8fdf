"""The `latent` tool under `mpirun -np N` against the same command run plainly.

Contract: a run over N ranks writes the same outputs and prints the same JSON
as one process (kNN ids and scores bitwise, hubness JSON and ids identical,
whitening outputs within 1e-6 and models within 1e-12, relative projections
equal), and a failure on any rank ends the job with status 1, one message and
no output file, within seconds.

CTest runs this file once per rank count (LATENT_MPI_RANKS = 1..4) with
LATENT_CLI (the tool) and LATENT_MPIEXEC (the launcher). The rows are the
bundled CNN latents cut to 1999 rows, which no rank count from 2 to 4 divides.
"""

import json
import os
import pathlib
import struct
import subprocess
import time

import numpy as np
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("LATENT_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
CLI = os.environ.get("LATENT_CLI")
MPIEXEC = os.environ.get("LATENT_MPIEXEC", "mpirun")
RANKS = int(os.environ.get("LATENT_MPI_RANKS", "2"))
ROWS = 1999  # odd, and not a multiple of 3 or 4: every rank count splits it unevenly
REDUCTIONS = ["none", "mp", "mp-normal", "ls", "nicdm", "dsl", "csls"]
# Model fields computed from the eigenvectors of the covariance (whitening, all-but-the-top).
EIGENVECTOR_FIELDS = {"eigenvectors", "matrix", "inverse", "directions"}

pytestmark = pytest.mark.skipif(not CLI, reason="LATENT_CLI is not set")


# --- running the tool -------------------------------------------------------


class Run:
    def __init__(self, args, completed, seconds):
        self.args = args
        self.status = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.seconds = seconds

    def latent_errors(self):
        """The tool's error lines (every one starts with "latent: " or "latent CMD: ")."""
        return [line for line in self.stderr.splitlines() if line.startswith("latent: ")]

    def json(self):
        assert self.status == 0, self.describe()
        return json.loads(self.stdout)

    def describe(self):
        return f"{' '.join(map(str, self.args))}\nstatus {self.status}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def run(args, timeout=60):
    start = time.monotonic()
    completed = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    return Run(args, completed, time.monotonic() - start)


def plain(*args):
    result = run([CLI, *args])
    assert result.status == 0, result.describe()
    return result


def mpi(*args, ranks=None, check=True):
    result = run([MPIEXEC, "-np", ranks or RANKS, "--oversubscribe", CLI, *args])
    if check:
        assert result.status == 0, result.describe()
    return result


def same_bytes(a, b):
    return pathlib.Path(a).read_bytes() == pathlib.Path(b).read_bytes()


def assert_close(expected, actual, tolerance, what):
    """|actual - expected| <= tolerance * max|expected| element-wise (shapes and dtypes equal)."""
    expected, actual = np.asarray(expected), np.asarray(actual)
    assert expected.shape == actual.shape and expected.dtype == actual.dtype, what
    scale = max(float(np.max(np.abs(expected))), np.finfo(np.float64).tiny) if expected.size else 1.0
    error = float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))) if expected.size else 0.0
    assert error <= tolerance * scale, f"{what}: max error {error:.3e} > {tolerance:.0e} x {scale:.3e}"


def read_model(path):
    """The fields of a latent model file (core/model_file.hpp): name -> int, float, str or ndarray."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"LATENTMF"
    at = 12  # magic, format version

    def take(fmt):
        nonlocal at
        values = struct.unpack_from("<" + fmt, data, at)
        at += struct.calcsize("<" + fmt)
        return values

    def text():
        nonlocal at
        (length,) = take("I")
        at += length
        return data[at - length : at].decode()

    kind = text()
    take("I")  # kind version
    (count,) = take("Q")
    fields = {"kind": kind}
    for _ in range(count):
        name = text()
        field_type, rank = take("BB")
        extents = take("Q" * rank)
        if field_type == 3:  # a string: its length is the extent
            at += extents[0]
            fields[name] = data[at - extents[0] : at].decode()
            continue
        dtype = {1: "<i8", 2: "<f8"}[field_type]
        size = int(np.prod(extents)) if rank else 1
        values = np.frombuffer(data, dtype=dtype, count=size, offset=at).reshape(extents)
        at += 8 * size
        fields[name] = values
    assert at + 8 == len(data), f"{path}: fields do not end at the checksum"
    return fields


# --- the inputs and the plain runs, once per session -------------------------


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    encoders = SOURCE_DIR / "data" / "encoders"
    rows = np.load(encoders / "cnn_seed0.npy")[:ROWS]
    labels = np.load(encoders / "labels.npy")[:ROWS].astype(np.int64)
    assert rows.dtype == np.float32 and rows.shape == (ROWS, 64)
    names = ["x", "x_reversed", "queries", "labels", "anchors", "nan", "two", "truncated"]
    paths = {name: folder / f"{name}.npy" for name in names}
    np.save(paths["x"], rows)
    np.save(paths["x_reversed"], np.ascontiguousarray(rows[::-1]))
    np.save(paths["queries"], rows[263:1000])  # 737 rows: no rank count from 2 to 4 divides it either
    np.save(paths["labels"], labels)
    # Anchors on every rank's block, the first and the last row among them.
    np.save(paths["anchors"], np.array([0, 1998, 999, 500, 1500, 1, 1333, 666, 1700, 250], dtype=np.int64))
    with_nan = rows.copy()
    with_nan[1998, 5] = np.nan  # in the last rank's block only
    np.save(paths["nan"], with_nan)
    np.save(paths["two"], rows[:2])
    whole = paths["x"].read_bytes()
    paths["truncated"].write_bytes(whole[: len(whole) - 64 * 4 * 10 - 7])  # the last rows cut, mid-row
    return paths


@pytest.fixture(scope="session")
def plain_runs(tmp_path_factory):
    """Memoised plain runs: key -> (Run, output folder)."""
    folder = tmp_path_factory.mktemp("plain")
    cache = {}

    def get(key, make_args):
        if key not in cache:
            out = folder / key
            out.mkdir()
            cache[key] = (plain(*make_args(out)), out)
        return cache[key]

    return get


@pytest.fixture
def out(tmp_path):
    return tmp_path


# --- knn ---------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "l2"])
@pytest.mark.parametrize("with_query", [False, True], ids=["self", "query"])
def test_knn_ids_and_scores_bitwise(data, plain_runs, out, metric, with_query):
    query = ["--query", data["queries"]] if with_query else []

    def args(folder):
        return ["knn", "--base", data["x"], *query, "-k", 10, "--metric", metric, "--ids", folder / "ids.npy",
                "--scores", folder / "scores.npy", "--json"]

    expected, expected_dir = plain_runs(f"knn-{metric}-{with_query}", args)
    result = mpi(*args(out))
    report = result.json()
    assert report["ranks"] == RANKS
    reference = expected.json()
    for key in ["queries", "base", "dim", "k", "metric", "self_excluded"]:
        assert report[key] == reference[key], key
    assert report["queries"] == (737 if with_query else ROWS)
    assert np.load(out / "ids.npy").shape == (report["queries"], 10)
    assert same_bytes(expected_dir / "ids.npy", out / "ids.npy"), "ids differ from the plain run"
    assert same_bytes(expected_dir / "scores.npy", out / "scores.npy"), "scores differ from the plain run"


# --- hubness -----------------------------------------------------------------


def comparable(report, paths=("ids",)):
    """The JSON without its timings and output paths."""
    return {key: value for key, value in report.items() if key != "seconds" and key not in paths}


@pytest.mark.parametrize("metric", ["cosine", "l2"])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_hubness_json_and_ids_identical(data, plain_runs, out, metric, reduce):
    candidates = [] if reduce == "none" else ["--candidates", 50]

    def args(folder):
        return ["hubness", data["x"], "-k", 10, "--metric", metric, "--reduce", reduce, *candidates,
                "--ids", folder / "ids.npy", "--json"]

    expected, expected_dir = plain_runs(f"hubness-{metric}-{reduce}", args)
    report = mpi(*args(out)).json()
    assert comparable(report) == comparable(expected.json())
    assert report["ids"] == str(out / "ids.npy")
    assert same_bytes(expected_dir / "ids.npy", out / "ids.npy"), "reduced ids differ from the plain run"


def test_hubness_knn_accuracy_identical(data, plain_runs, out):
    def args(folder):
        return ["hubness", data["x"], "-k", 10, "--metric", "cosine", "--reduce", "mp", "--candidates", 50,
                "--labels", data["labels"], "--json"]

    expected, _ = plain_runs("hubness-labels", args)
    report = mpi(*args(out)).json()
    reference = expected.json()
    assert "knn_accuracy" in report["before"] and "knn_accuracy" in report["after"]
    assert report["before"]["knn_accuracy"] == reference["before"]["knn_accuracy"]
    assert report["after"]["knn_accuracy"] == reference["after"]["knn_accuracy"]
    assert comparable(report) == comparable(reference)


# --- whiten ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pca", "zca", "abtt"])
def test_whiten_outputs_and_models(data, plain_runs, out, method):
    dim = ["--dim", 16] if method == "pca" else []

    def args(folder):
        return ["whiten", "--fit", data["x"], "--method", method, *dim, "-o", folder / "white.npy",
                "--save", folder / "model.bin", "--json"]

    expected, expected_dir = plain_runs(f"whiten-{method}", args)
    result = mpi(*args(out))
    # Only rank 0 prints: exactly one JSON object on stdout.
    assert result.status == 0, result.describe()
    report = json.loads(result.stdout)
    assert result.stdout.strip().count("\n") == 0 and result.stdout.count('"method"') == 1
    reference = expected.json()
    assert report["rows"] == reference["rows"] == ROWS
    assert report["output_dim"] == reference["output_dim"]
    if method != "abtt":
        assert_close(reference["eigenvalues_top10"], report["eigenvalues_top10"], 1e-12, "eigenvalues (--json)")
        # An eigensolver's error on any eigenvalue is a multiple of rounding x the
        # largest one (Weyl), so the smallest is held to 1e-12 of the largest, as
        # the model's eigenvalues are below (LAPACK's dsyevd moved it by 2e-12 of
        # itself, 4e-14 of the largest, between these two summation orders).
        largest = float(np.max(np.abs(reference["eigenvalues_top10"])))
        assert abs(report["eigenvalue_min"] - reference["eigenvalue_min"]) <= 1e-12 * largest, "smallest eigenvalue"
    else:
        assert report["components_removed"] == reference["components_removed"]

    assert_close(np.load(expected_dir / "white.npy"), np.load(out / "white.npy"), 1e-6, "whitened rows")

    # The saved models, field by field: the merged moments, the eigenvalues and
    # every scalar within 1e-12. The fields computed from eigenvectors (an
    # eigendecomposition amplifies a rounding change of the moments by
    # largest eigenvalue / gap, here about 1e-10 relative for the smallest
    # components) are held to what one process reaches on the same rows summed
    # in another order: no further from the plain fit than a plain fit of the
    # reversed rows is (x 10), and never beyond 1e-12 when that one is closer.
    want, got = read_model(expected_dir / "model.bin"), read_model(out / "model.bin")
    reordered = read_model(plain_runs(f"whiten-{method}-reversed", lambda folder: [
        "whiten", "--fit", data["x_reversed"], "--apply", data["x"], "--method", method, *dim,
        "-o", folder / "white.npy", "--save", folder / "model.bin"])[1] / "model.bin")
    assert want.keys() == got.keys()
    for name, value in want.items():
        if isinstance(value, np.ndarray) and value.dtype == np.float64 and name in EIGENVECTOR_FIELDS:
            scale = float(np.max(np.abs(value)))
            reorder_error = float(np.max(np.abs(reordered[name] - value))) / scale
            assert_close(value, got[name], max(1e-12, 10 * reorder_error), f"model field {name}")
        elif isinstance(value, np.ndarray) and value.dtype == np.float64:
            assert_close(value, got[name], 1e-12, f"model field {name}")
        elif isinstance(value, np.ndarray):
            assert np.array_equal(value, got[name]), f"model field {name}"
        else:
            assert value == got[name], f"model field {name}"

    # The model saved under mpirun loads in a plain run and transforms as the plain model does.
    reloaded = plain("whiten", "--load", out / "model.bin", "--apply", data["x"], "-o", out / "reloaded.npy", "--json")
    assert reloaded.json()["output_dim"] == reference["output_dim"]
    assert_close(np.load(expected_dir / "white.npy"), np.load(out / "reloaded.npy"), 1e-6, "reloaded model's rows")


# --- relative ----------------------------------------------------------------


@pytest.mark.parametrize("similarity", ["cosine", "cosine,l2"])
def test_relative_equal(data, plain_runs, out, similarity):
    def args(folder):
        return ["relative", data["x"], "--anchors", data["anchors"], "--similarity", similarity,
                "-o", folder / "rel.npy", "--json"]

    expected, expected_dir = plain_runs(f"relative-{similarity}", args)
    report = mpi(*args(out)).json()
    assert comparable(report, ["output"]) == comparable(expected.json(), ["output"])
    want, got = np.load(expected_dir / "rel.npy"), np.load(out / "rel.npy")
    assert got.shape == (ROWS, 10 * len(similarity.split(",")))
    if not same_bytes(expected_dir / "rel.npy", out / "rel.npy"):
        assert_close(want, got, 1e-6, "relative representations")


# --- failures ----------------------------------------------------------------


def assert_failed_cleanly(result, out, names):
    """Status 1 within seconds, one error line naming the file, no output left."""
    assert result.status == 1, result.describe()
    assert result.seconds < 30, f"took {result.seconds:.1f} s\n{result.describe()}"
    errors = result.latent_errors()
    assert len(errors) == 1, f"expected one 'latent: ' line\n{result.describe()}"
    for name in names:
        assert str(name) in errors[0], f"the message does not name {name}\n{result.describe()}"
    left = sorted(p.name for p in out.iterdir())
    assert left == [], f"left behind: {left}"
    return errors[0]


def knn_into(out, base, k=10, metric="cosine"):
    return ["knn", "--base", base, "-k", k, "--metric", metric, "--ids", out / "ids.npy", "--scores",
            out / "scores.npy"]


def test_truncated_input_fails_on_every_rank(data, out):
    result = mpi(*knn_into(out, data["truncated"]), check=False)
    assert_failed_cleanly(result, out, [data["truncated"]])


def test_missing_input_fails(data, out):
    missing = data["x"].parent / "does-not-exist.npy"
    result = mpi(*knn_into(out, missing), check=False)
    assert_failed_cleanly(result, out, [missing])


def test_k_above_the_row_count_fails(data, out):
    result = mpi(*knn_into(out, data["x"], k=5000), check=False)
    assert_failed_cleanly(result, out, [])
    assert "5000" in result.latent_errors()[0] or "k=" in result.latent_errors()[0], result.describe()


def test_more_ranks_than_rows_fails(data, out):
    if RANKS < 3:
        pytest.skip("needs more ranks than the 2 rows")
    result = mpi(*knn_into(out, data["two"], k=1), check=False)
    assert_failed_cleanly(result, out, [data["two"]])


def test_nan_in_the_last_block_fails(data, out):
    result = mpi(*knn_into(out, data["nan"]), check=False)
    error = assert_failed_cleanly(result, out, [data["nan"]])
    assert "non-finite" in error, result.describe()


def test_hubness_failure_leaves_no_ids(data, out):
    result = mpi("hubness", data["nan"], "-k", 10, "--metric", "cosine", "--reduce", "mp", "--ids", out / "ids.npy",
                 check=False)
    assert_failed_cleanly(result, out, [data["nan"]])


def test_dis_sim_global_is_refused_across_ranks(data, out):
    if RANKS < 2:
        pytest.skip("one rank runs it as one process")
    result = mpi("hubness", data["x"], "-k", 10, "--metric", "l2", "--reduce", "dsg", "--ids", out / "ids.npy",
                 check=False)
    error = assert_failed_cleanly(result, out, [data["x"]])
    assert "one process" in error, result.describe()


def test_low_precision_compute_is_refused_across_ranks(data, out):
    if RANKS < 2:
        pytest.skip("one rank runs it as one process")
    result = mpi(*knn_into(out, data["x"]), "--compute", "int8", check=False)
    assert result.status == 2, result.describe()
    assert "runs in one process" in result.stderr, result.describe()
    left = sorted(p.name for p in out.iterdir())
    assert left == [], f"left behind: {left}"
