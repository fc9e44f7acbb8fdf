#!/usr/bin/python3
"""latent against the Python references, end to end in one process, on the
first 10,000 Fashion-MNIST training images (784 pixels scaled by 1/255).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_vs_references.py \
        [--skhubness PATH] [--repeats 3] [--peer-repeats 1] [--empiric-repeats 1] [--src DIR]

1. Hubness reduction, k = 10, l2, 50 candidates per row:
   - latent.reduce_hubness(x, k=10, metric="l2", method="mp", candidates=50): graph and
     reduction in one call (and method="mp-normal");
   - scikit-hubness's README pipeline: KNeighborsTransformer(n_neighbors=50,
     mode="distance").fit_transform(x), then MutualProximity(method="empiric") (and the
     README's method="normal") .fit_transform(graph);
   - latent.HubnessReduction(method="mp" / "mp-normal", metric="l2") over that same
     scikit-learn graph, so the reductions are timed on identical input.
   The neighbour lists are compared (top 10 of each row, the row itself left out):
   the share of rows whose sets are equal, the share equal up to ties at the 10th
   secondary distance, and the mean share of common neighbours.
   PATH is a checkout of scikit-hubness (its public repository); without it that peer
   is skipped. scikit-hubness also imports tqdm (Debian's python3-tqdm).
2. Whitening (PCA, all 784 components, population covariance):
   latent.Whitening().fit_transform(x) against numpy (mean, centring, X^T X / n,
   numpy.linalg.eigh, eigenvalues floored at 1e-9 x the largest, matmul), in float32
   and float64, with the agreement of the leading 50 whitened coordinates.

Times are wall-clock medians over the repeats (one call each). MutualProximity
"empiric" runs a Python loop over every stored edge (minutes per call), hence its
own --empiric-repeats (default 1; 0 skips it).
"""
import argparse
import importlib
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ROWS = 10000
K = 10
CANDIDATES = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skhubness", metavar="PATH", help="checkout of scikit-hubness (the folder holding skhubness/)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of latent's and numpy's calls (median)")
    parser.add_argument("--peer-repeats", type=int, default=1,
                        help="repeats of the scikit-learn graph and MutualProximity(method='normal')")
    parser.add_argument("--empiric-repeats", type=int, default=1,
                        help="repeats of MutualProximity(method='empiric') (minutes each; 0 skips it)")
    parser.add_argument("--src", help="folder of Debian's Fashion-MNIST IDX files (default: asked of dpkg)")
    return parser.parse_args()


def load_fashion_mnist(src):
    """The first ROWS training images as float32 [ROWS, 784], pixel / 255, as the project reads them."""
    sys.path.insert(0, os.path.join(ROOT, "data", "fashion-mnist"))
    import make_sample  # the project's IDX reader
    folder = src or make_sample.package_folder()
    if not folder:
        sys.exit("bench_vs_references.py: dataset-fashion-mnist is not installed (apt-get install "
                 "dataset-fashion-mnist) and no --src was given")
    images = make_sample.read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))[:ROWS]
    return np.ascontiguousarray(images.reshape(len(images), 784).astype(np.float32) / np.float32(255))


def timed(call, repeats):
    """(median seconds, last result) over `repeats` calls."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def top_of_csr(graph, k):
    """Per row, (ids, distances) of the k nearest of a CSR distance graph, the row itself
    left out, ties broken by the smaller id."""
    graph = graph.tocsr()
    tops = []
    for i in range(graph.shape[0]):
        start, stop = graph.indptr[i], graph.indptr[i + 1]
        ids, distances = graph.indices[start:stop], graph.data[start:stop]
        keep = ids != i
        ids, distances = ids[keep], distances[keep]
        order = np.lexsort((ids, distances))[:k]
        tops.append((ids[order].astype(np.int64), distances[order].astype(np.float64)))
    return tops


def top_of_arrays(ids, distances, k):
    return [(i[:k], d[:k]) for i, d in zip(ids, distances)]


def agreement(a, b, k):
    """(share of rows with equal sets, share equal up to ties at the k-th distance,
    mean share of common neighbours). Equal up to ties: equal sets, or the same k
    distances (to 1e-6) and the same ids strictly closer than the k-th; mutual
    proximity empiric counts neighbours, so equal secondary distances are common and
    which of them fill the last places is the tie-break's choice."""
    tolerance = 1e-6
    same = tied = common = 0
    for (ids_a, d_a), (ids_b, d_b) in zip(a, b):
        set_a, set_b = set(ids_a.tolist()), set(ids_b.tolist())
        same += set_a == set_b
        common += len(set_a & set_b)
        if set_a == set_b:
            tied += 1
        elif len(d_a) == len(d_b) and np.allclose(np.sort(d_a), np.sort(d_b), rtol=0, atol=tolerance):
            last = max(d_a.max(), d_b.max()) - tolerance
            tied += set(ids_a[d_a < last].tolist()) == set(ids_b[d_b < last].tolist())
    n = len(a)
    return same / n, tied / n, common / (k * n)


def import_skhubness(path):
    if not path:
        print("scikit-hubness: skipped (no --skhubness PATH; a checkout of its public repository)")
        return None
    if not os.path.isdir(os.path.join(path, "skhubness")):
        print(f"scikit-hubness: skipped ({path} holds no skhubness/ folder)")
        return None
    sys.path.insert(0, path)
    try:
        return importlib.import_module("skhubness.reduction")
    except ImportError as error:
        print(f"scikit-hubness: skipped (import failed: {error}; it needs numba and tqdm: "
              "apt-get install python3-numba python3-tqdm)")
        return None


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import scipy
    import sklearn
    blas = ""
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{i.get('internal_api')} {i.get('version') or ''} ({i.get('num_threads')} threads)"
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}; BLAS: {blas or '?'}")


def hubness_section(latent, x, args, rows):
    from sklearn.neighbors import KNeighborsTransformer

    reduction = import_skhubness(args.skhubness)
    seconds, (ids_mp, distances_mp) = timed(lambda: latent.reduce_hubness(x, k=K, metric="l2", method="mp",
                                                               candidates=CANDIDATES), args.repeats)
    rows.append(("latent.reduce_hubness(mp): graph + reduction", seconds, None))
    seconds, (ids_normal, distances_normal) = timed(lambda: latent.reduce_hubness(x, k=K, metric="l2", method="mp-normal",
                                                                   candidates=CANDIDATES), args.repeats)
    rows.append(("latent.reduce_hubness(mp-normal): graph + reduction", seconds, None))

    graph_seconds, graph = timed(
        lambda: KNeighborsTransformer(n_neighbors=CANDIDATES, mode="distance").fit_transform(x), args.peer_repeats)
    rows.append(("sklearn KNeighborsTransformer(50) graph", graph_seconds, None))
    latent_sets = {}
    for method in ("mp", "mp-normal"):
        seconds, reduced = timed(lambda: latent.HubnessReduction(method=method, metric="l2").fit_transform(graph),
                                 args.repeats)
        rows.append((f"latent.HubnessReduction({method}) on that graph", seconds, None))
        latent_sets[method] = top_of_csr(reduced, K)

    checks = []
    pipeline_sets = {"mp": top_of_arrays(ids_mp, distances_mp, K),
                     "mp-normal": top_of_arrays(ids_normal, distances_normal, K)}
    if reduction is not None:
        for method, peer_method, repeats in (("mp", "empiric", args.empiric_repeats),
                                             ("mp-normal", "normal", args.peer_repeats)):
            if repeats < 1:
                print(f"scikit-hubness MutualProximity(method='{peer_method}'): skipped (0 repeats)")
                continue
            seconds, reduced = timed(lambda: reduction.MutualProximity(method=peer_method).fit_transform(graph),
                                     repeats)
            rows.append((f"skhubness MutualProximity({peer_method}) on that graph", seconds, None))
            rows.append((f"  pipeline: graph + MutualProximity({peer_method})", graph_seconds + seconds, None))
            peer = top_of_csr(reduced, K)
            checks.append((f"latent.HubnessReduction({method}) vs skhubness {peer_method}, same graph",
                           agreement(latent_sets[method], peer, K)))
            checks.append((f"latent.reduce_hubness({method}) vs skhubness pipeline {peer_method}",
                           agreement(pipeline_sets[method], peer, K)))
    checks.append(("latent.reduce_hubness(mp) vs latent.HubnessReduction(mp) on sklearn's graph",
                   agreement(pipeline_sets["mp"], latent_sets["mp"], K)))
    return checks


def numpy_whitening(x, epsilon=1e-9):
    mean = x.mean(axis=0)
    centred = x - mean
    covariance = centred.T @ centred / x.shape[0]
    values, vectors = np.linalg.eigh(covariance)
    values, vectors = values[::-1], vectors[:, ::-1]
    values = np.maximum(values, epsilon * values[0])
    return centred @ (vectors / np.sqrt(values))


def whitening_section(latent, x, args, rows):
    checks = []
    for dtype in (np.float32, np.float64):
        xd = np.ascontiguousarray(x, dtype=dtype)
        name = np.dtype(dtype).name
        ours_seconds, ours = timed(lambda: latent.Whitening().fit_transform(xd), args.repeats)
        theirs_seconds, theirs = timed(lambda: numpy_whitening(xd), args.repeats)
        rows.append((f"latent.Whitening().fit_transform {name}", ours_seconds, None))
        rows.append((f"numpy mean/cov/eigh/matmul {name}", theirs_seconds, ours_seconds))
        lead = 50  # eigenvectors are defined up to sign: align, then compare the leading coordinates
        signs = np.sign(np.sum(ours[:, :lead] * theirs[:, :lead], axis=0))
        difference = np.max(np.abs(ours[:, :lead] - theirs[:, :lead] * signs))
        checks.append((f"Whitening {name}: max |latent - numpy| over the leading {lead} coordinates",
                       float(difference)))
    return checks


def main():
    args = parse_args()
    try:
        import latent
    except ImportError as error:
        sys.exit(f"bench_vs_references.py: cannot import latent ({error}); put build/release/python on PYTHONPATH")
    x = load_fashion_mnist(args.src)
    print(f"Fashion-MNIST train[:{ROWS}] float32 {list(x.shape)}; latent {latent.__version__} "
          f"(isa {latent.active_isa()}); {machine()}")
    print(f"repeats: latent and numpy {args.repeats}, scikit-learn graph and MutualProximity normal "
          f"{args.peer_repeats}, MutualProximity empiric {args.empiric_repeats}\n", flush=True)
    rows = []
    checks = hubness_section(latent, x, args, rows)
    checks += whitening_section(latent, x, args, rows)

    print(f"{'call':64} {'median s':>9}")
    for what, seconds, _ in rows:
        print(f"{what:64} {seconds:9.3f}")
    times = {what: seconds for what, seconds, _ in rows}
    print("\nratios (reference / latent):")
    pairs = [("  pipeline: graph + MutualProximity(empiric)", "latent.reduce_hubness(mp): graph + reduction"),
             ("skhubness MutualProximity(empiric) on that graph", "latent.HubnessReduction(mp) on that graph"),
             ("  pipeline: graph + MutualProximity(normal)", "latent.reduce_hubness(mp-normal): graph + reduction"),
             ("skhubness MutualProximity(normal) on that graph", "latent.HubnessReduction(mp-normal) on that graph"),
             ("sklearn KNeighborsTransformer(50) graph", "latent.reduce_hubness(mp): graph + reduction"),
             ("numpy mean/cov/eigh/matmul float32", "latent.Whitening().fit_transform float32"),
             ("numpy mean/cov/eigh/matmul float64", "latent.Whitening().fit_transform float64")]
    for reference, ours in pairs:
        if reference in times and ours in times:
            print(f"  {reference.strip():50} / {ours:52} = {times[reference] / times[ours]:7.1f}x")
    print("\nagreement:")
    for what, value in checks:
        if isinstance(value, tuple):
            print(f"  {what}: same set {100 * value[0]:.1f}% of rows, same up to ties {100 * value[1]:.1f}%, "
                  f"common neighbours {100 * value[2]:.2f}%")
        else:
            print(f"  {what}: {value:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
