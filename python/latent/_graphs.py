"""Graph-level helpers written over the native functions: hubness reduction of
scipy.sparse distance graphs (the convention of scikit-learn's
KNeighborsTransformer and scikit-hubness), symmetric, mutual and epsilon
neighbour graphs as scipy.sparse matrices, and the multi-representation
comparison of ``latent compare``."""

import time

import numpy as np

from . import _latent
from ._estimators import _Params, _precision


def _dense_graph(graph, drop_self):
    """(ids int64 [n x k], distances float64 [n x k]) from a CSR distance graph,
    each row sorted by (distance, id); with drop_self, entry (i, i) is left out."""
    import scipy.sparse

    if not scipy.sparse.issparse(graph):
        raise _latent.InvalidArgument(
            "graph: expected a scipy.sparse distance graph (KNeighborsTransformer(mode='distance'))")
    graph = graph.tocsr()
    n_rows = graph.shape[0]
    counts = np.diff(graph.indptr)
    rows = np.repeat(np.arange(n_rows), counts)
    ids = graph.indices.astype(np.int64)
    distances = graph.data.astype(np.float64)
    if drop_self:
        keep = ids != rows
        rows, ids, distances = rows[keep], ids[keep], distances[keep]
        counts = np.bincount(rows, minlength=n_rows)
    if n_rows == 0 or counts.min() != counts.max() or counts[0] == 0:
        raise _latent.InvalidArgument(
            "graph: every row needs the same number (at least 1) of stored neighbours"
            + (" besides itself" if drop_self else "")
            + f" (got {counts.min() if n_rows else 0} to {counts.max() if n_rows else 0})")
    order = np.lexsort((ids, distances, rows))
    k = int(counts[0])
    return ids[order].reshape(n_rows, k), distances[order].reshape(n_rows, k)


def _sparse_graph(ids, distances, shape):
    import scipy.sparse

    n_rows, k = ids.shape
    indptr = np.arange(0, n_rows * k + 1, k, dtype=np.int64)
    return scipy.sparse.csr_matrix((distances.ravel(), ids.ravel(), indptr), shape=shape)


def _csr(parts, n):
    import scipy.sparse

    indptr, indices, data = parts
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n))


def symmetric_knn_graph(x, k=10, metric="cosine", mutual=False, threads=None):
    """The symmetric kNN graph of the rows of x as a scipy.sparse.csr_matrix [n x n]:
    entry (i, j) when j is among the k nearest other rows of i or i among j's
    (mutual=True: both), valued by the pair's score in the metric's units (each
    row's own score where it lists the pair). Rows hold their entries nearest first."""
    return _csr(_latent._symmetric_knn_graph(x, k, metric, mutual, threads), len(x))


def epsilon_graph(x, epsilon, metric="l2", threads=None):
    """The epsilon graph of the rows of x as a scipy.sparse.csr_matrix [n x n]: entry
    (i, j), i != j, when the distance is <= epsilon (l2, sqeuclidean, l1, linf) or
    the similarity >= epsilon (cosine, ip, angular), valued by it; as
    scikit-learn's radius_neighbors_graph(mode="distance") for l2."""
    return _csr(_latent._epsilon_graph(x, epsilon, metric, threads), len(x))


class HubnessReduction(_Params):
    """Hubness reduction of a neighbour graph, as scikit-hubness's reducers.

    fit(graph) takes the sparse distance graph of the indexed points to
    themselves ([n x n] CSR, e.g. KNeighborsTransformer(mode="distance")
    .fit_transform(X); a point listed as its own neighbour is left out);
    transform(graph) takes a query graph ([m x n]) and returns the same sparse
    layout with secondary distances, each row's neighbours re-ranked (when the
    query graph is the fitted square graph, self entries are left out as in
    fit). method: mp (mutual proximity, empiric), mp-normal, ls (local scaling),
    nicdm, dsl (DisSimLocal; needs the vectors), dsg (DisSimGlobal: the
    dataset mean as every centroid; needs the vectors), csls, lc (cosine only). metric:
    what the graph's distances are (l2 for scikit-learn's default).
    k_local: neighbourhood of the local statistics (None: the method's default).
    """

    def __init__(self, method="mp", metric="l2", k_local=None, lc_gamma=1.0, threads=None):
        self.method = method
        self.metric = metric
        self.k_local = k_local
        self.lc_gamma = lc_gamma
        self.threads = threads

    def _indexed_graph(self, graph):
        """A new native reducer, and the fitted square graph as dense (ids, distances)."""
        if graph.shape[0] != graph.shape[1]:
            raise _latent.DimensionMismatch(
                f"graph: fit needs the square graph of the indexed points (got {graph.shape[0]} x {graph.shape[1]})")
        self.model_ = _latent._HubnessReducer(self.method, self.k_local or 0, self.lc_gamma, self.threads)
        self.n_indexed_ = graph.shape[0]
        return _dense_graph(graph, drop_self=True)

    def fit(self, graph, y=None, vectors=None):
        ids, distances = self._indexed_graph(graph)
        self.model_.fit(ids, distances, self.metric, True, vectors)
        return self

    def transform(self, graph, vectors=None):
        reducer = self._require_fitted()
        if graph.shape[1] != self.n_indexed_:
            raise _latent.DimensionMismatch(
                f"graph: has {graph.shape[1]} columns, the fitted graph {self.n_indexed_} indexed points")
        self_graph = graph.shape[0] == graph.shape[1]
        ids, distances = _dense_graph(graph, drop_self=self_graph)
        ids, distances = reducer.transform(ids, distances, self.metric, self_graph, 0, vectors)
        return _sparse_graph(ids, distances, graph.shape)

    def fit_transform(self, graph, y=None, vectors=None):
        ids, distances = self._indexed_graph(graph)
        ids, distances = self.model_.fit_transform(ids, distances, self.metric, True, 0, vectors)
        return _sparse_graph(ids, distances, graph.shape)


def compare(a, b, anchors, k=10, rows=None, similarity=("cosine",), center=False, translate=()):
    """How the same items agree across two spaces, per representation: the dict of
    ``latent compare --json``.

    Rows 0..rows-1 of a and b (default: 1000, or all when fewer) are compared,
    all in double: "absolute" (the rows as given), one entry per relative
    similarity on the anchor rows ``anchors`` (ids of rows of a and b), "concat"
    of them all when there are several, and "translated_<method>" for a mapped
    into b by each map in ``translate`` fitted on the anchor pairs. Each entry
    holds jaccard, mrr, top1, mean_rank, mean_cos and cka (see compare_spaces).
    """
    a = np.asarray(a)
    b = np.asarray(b)
    for name, x in (("a", a), ("b", b)):
        if x.dtype not in (np.float32, np.float64):
            raise _latent.InvalidArgument(f"{name}: has dtype {x.dtype} (expected float32 or float64)")
    a64 = np.ascontiguousarray(a, dtype=np.float64)
    b64 = np.ascontiguousarray(b, dtype=np.float64)
    available = min(a64.shape[0], b64.shape[0]) if a64.ndim == 2 and b64.ndim == 2 else 0
    if rows is None:
        rows = min(1000, available)
    elif rows > available:
        raise _latent.InvalidArgument(f"rows: {rows} exceeds the rows of a or b ({a64.shape[0]} and {b64.shape[0]})")
    similarities = [s.strip() for s in similarity.split(",")] if isinstance(similarity, str) else list(similarity)
    translations = [t.strip() for t in translate.split(",")] if isinstance(translate, str) else list(translate)
    ids = np.asarray(anchors)
    start = time.perf_counter()
    results = {"absolute": _latent.compare_spaces(a64[:rows], b64[:rows], k=k)}
    groups = [[s] for s in similarities] + ([similarities] if len(similarities) > 1 else [])
    for group in groups:
        from ._estimators import RelativeProjection
        in_a = RelativeProjection(similarity=group, center=center).fit(a64, anchor_ids=ids)
        in_b = RelativeProjection(similarity=group, center=center).fit(b64, anchor_ids=ids)
        name = group[0] if len(group) == 1 else "concat"
        results[name] = _latent.compare_spaces(in_a.transform(a64[:rows]), in_b.transform(b64[:rows]), k=k)
    for method in translations:
        from ._estimators import LatentTranslator
        mapped = LatentTranslator(method=method).fit(a64, b64, ids).transform(a64[:rows])
        results[f"translated_{method}"] = _latent.compare_spaces(mapped, b64[:rows], k=k)
    report = {"rows": rows, "k": k, "n_anchors": int(ids.size), "dim_a": a64.shape[1], "dim_b": b64.shape[1],
              "seconds": time.perf_counter() - start}
    report.update(results)
    return report
