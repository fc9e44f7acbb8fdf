"""Sparse codes as scipy.sparse.csr_matrix: sparse autoencoder inference and the
inverted index over sparse rows, written over the native classes."""

from . import _latent


def _parts(codes, argument):
    import scipy.sparse

    if not scipy.sparse.issparse(codes):
        raise _latent.InvalidArgument(f"{argument}: expected a scipy.sparse matrix (CSR)")
    codes = codes.tocsr()
    return codes.indptr, codes.indices, codes.data, codes.shape[0], codes.shape[1]


def _csr(parts):
    import scipy.sparse

    indptr, indices, data, shape = parts
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=shape)


class SparseAutoencoder:
    """A trained sparse autoencoder: W_enc [d x m], b_enc [m], W_dec [m x d],
    b_dec [d]. ``encode`` computes pre = (x - b_dec) W_enc + b_enc and keeps the k
    largest per row (``activation="topk"``; ties to the smaller feature, negative
    kept values set to 0), max(pre, 0) (``"relu"``) or pre where pre > threshold
    (``"jumprelu"``), as a scipy.sparse.csr_matrix [n x m] without explicit zeros;
    ``decode`` gives z W_dec + b_dec. ``load(dir)`` reads W_enc.npy, b_enc.npy,
    W_dec.npy and b_dec.npy (as ``latent sae`` does)."""

    def __init__(self, W_enc, b_enc, W_dec, b_dec):  # noqa: N803 (the weights' usual names)
        self._native = _latent._SparseAutoencoder(W_enc, b_enc, W_dec, b_dec)

    @classmethod
    def load(cls, directory):
        sae = cls.__new__(cls)
        sae._native = _latent._SparseAutoencoder.load(str(directory))
        return sae

    @property
    def dim(self):
        return self._native.dim

    @property
    def features(self):
        return self._native.features

    def encode(self, x, activation="topk", k=32, threshold=0.0, threads=None):
        return _csr(self._native.encode(x, activation, k, threshold, threads))

    def decode(self, codes, threads=None):
        return self._native.decode(*_parts(codes, "codes"), threads)

    def stats(self, x, activation="topk", k=32, threshold=0.0, threads=None):
        """dict: rows, features, mse (mean of (x - x_hat)^2), explained_variance
        (1 - SSE / sum |x - mean|^2), dead_fraction (features active in no row),
        mean_active (non-zeros per row)."""
        return self._native.stats(x, activation, k, threshold, threads)

    def steer(self, x, edits, activation="topk", k=32, threshold=0.0, threads=None):
        """x + (z' - z) W_dec, z the codes of x and z' them after the edits, a list of
        (feature, "scale" or "add", value) applied in order."""
        return self._native.steer(x, list(edits), activation, k, threshold, threads)


class SparseIndex:
    """An inverted index over sparse rows (a scipy.sparse matrix [n x m]): exact
    top-k by inner product, equal scores ordered by the smaller id."""

    def __init__(self, base):
        self._native = _latent._SparseIndex(*_parts(base, "base"))

    def search(self, queries, k=10, threads=None):
        """(ids int64 [q x k], scores float32 [q x k]), largest inner product first."""
        return self._native.search(*_parts(queries, "queries"), k, threads)

