"""The bad-input matrix of the bindings: each case raises the documented
exception (a latent.Error subclass that is also ValueError, or TypeError for a
call Python itself refuses) and leaves the interpreter alive."""

import numpy as np
import pytest

import latent

GOOD = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32)


def nan_rows():
    x = GOOD.copy()
    x[3, 2] = np.nan
    return x


def inf_rows():
    x = GOOD.copy()
    x[5, 0] = np.inf
    return x


BAD_ARRAYS = {
    "int dtype": (np.arange(320).reshape(40, 8), latent.InvalidArgument),
    "float16": (GOOD.astype(np.float16), latent.InvalidArgument),
    "complex": (GOOD.astype(np.complex64), latent.InvalidArgument),
    "object": (np.array([["a"] * 8] * 40, dtype=object), latent.InvalidArgument),
    "1-D": (GOOD[0], latent.InvalidArgument),
    "3-D": (GOOD.reshape(5, 8, 8), latent.InvalidArgument),
    "NaN": (nan_rows(), latent.NonFiniteValue),
    "Inf": (inf_rows(), latent.NonFiniteValue),
    "empty rows": (np.zeros((0, 8), np.float32), latent.EmptyInput),
    "empty cols": (np.zeros((40, 0), np.float32), latent.EmptyInput),
    "None": (None, latent.InvalidArgument),
    "string": ("x.npy", latent.InvalidArgument),
}

CALLS = {
    "knn": lambda x: latent.knn(x, k=3),
    "knn query": lambda x: latent.knn(GOOD, x, k=3),
    "hubness": lambda x: latent.hubness(x, k=3),
    "reduce_hubness": lambda x: latent.reduce_hubness(x, k=3),
    "Whitening.fit": lambda x: latent.Whitening().fit(x),
    "Whitening.transform": lambda x: latent.Whitening().fit(GOOD).transform(x),
    "RelativeProjection.fit": lambda x: latent.RelativeProjection().fit(x),
    "LatentTranslator.fit": lambda x: latent.LatentTranslator().fit(x, GOOD),
    "quantize": lambda x: latent.quantize(x),
    "isotropy": lambda x: latent.isotropy(x),
    "Index.add": lambda x: latent.Index(8, "Flat").add(x),
}


# Where a call's contract differs from the table: None is a valid query (the kNN
# graph), no rows are a valid batch to transform, and rows of another width than
# the fitted model are a dimension mismatch.
VALID = {("knn query", "None"), ("Whitening.transform", "empty rows")}
OTHER_ERROR = {("Whitening.transform", "empty cols"): latent.DimensionMismatch}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("case", BAD_ARRAYS)
def test_bad_array(call, case):
    x, error = BAD_ARRAYS[case]
    if (call, case) in VALID:
        CALLS[call](x)
        return
    error = OTHER_ERROR.get((call, case), error)
    with pytest.raises(error) as caught:
        CALLS[call](x)
    assert isinstance(caught.value, latent.Error)
    assert isinstance(caught.value, (ValueError, ArithmeticError))
    assert str(caught.value)


def test_non_contiguous_views_are_converted_not_refused():
    x = np.asfortranarray(GOOD)
    strided = np.repeat(GOOD, 2, axis=1)[:, ::2]
    reference = latent.knn(GOOD, k=3)
    for view in (x, strided, GOOD[::-1][::-1], GOOD.T.copy().T):
        ids, scores = latent.knn(view, k=3)
        np.testing.assert_array_equal(ids, reference[0])
        assert scores.tobytes() == reference[1].tobytes()


@pytest.mark.parametrize("k", [0, -1, 40, 41, 10 ** 12])
def test_k_out_of_range(k):
    with pytest.raises(latent.InvalidK):
        latent.knn(GOOD, k=k)
    with pytest.raises(ValueError):
        latent.hubness(GOOD, k=k)


def test_wrong_keyword_and_names():
    with pytest.raises(TypeError):
        latent.knn(GOOD, kk=3)
    with pytest.raises(latent.InvalidArgument, match="metric"):
        latent.knn(GOOD, k=3, metric="hamming2")
    with pytest.raises(latent.InvalidArgument, match="method"):
        latent.reduce_hubness(GOOD, k=3, method="nope")
    with pytest.raises(latent.InvalidArgument, match="threads"):
        latent.knn(GOOD, k=3, threads=0)
    with pytest.raises(latent.InvalidArgument, match="unknown parameter"):
        latent.Whitening().set_params(dims=3)
    with pytest.raises(latent.DimensionMismatch):
        latent.knn(GOOD, GOOD[:, :4], k=3)
    with pytest.raises(latent.NotFitted):
        latent.Whitening().transform(GOOD)
    with pytest.raises(latent.NumericalError):
        zero = GOOD.copy()
        zero[0] = 0
        latent.knn(zero, k=3, metric="cosine")


def test_file_errors_are_oserror(tmp_path):
    (tmp_path / "text.npy").write_text("not an array")
    for path in (tmp_path / "missing.npy", tmp_path / "text.npy", tmp_path):
        with pytest.raises(OSError):
            latent.read(path)
    with pytest.raises(OSError):
        latent.write_npy(tmp_path / "no" / "such" / "dir.npy", GOOD)
    with pytest.raises(latent.IoError):
        latent.Whitening.load(tmp_path / "text.npy")
