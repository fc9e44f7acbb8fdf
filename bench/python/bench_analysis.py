#!/usr/bin/python3
"""latent's analysis measures against their numpy / scipy / scikit-learn / FAISS
counterparts, in one process, at n = 10,000 rows and d = 768.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_analysis.py \
        [--rows 10000] [--dim 768] [--repeats 3] [--only NAME,...]

Data: A is standard normal with column scales 1 / (1 + 0.02 j) (a decaying
spectrum, like a trained encoder's), B = A W + 0.5 N with W a random 768 x 768
map and N standard normal, both float32; labels are the argmax of 10 fixed
random projections of A (ten classes of unequal sizes). Each row of the table
runs latent's call and the peer's on the same arrays, `--repeats` times each
(alternating), and reports the median seconds, peer / latent, and the largest
difference of their values (what "agree" means for that measure).

Peers, each the usual Python way of computing the measure:
- cka: numpy |Yc^T Xc|_F^2 / (|Xc^T Xc|_F |Yc^T Yc|_F);
- cka_rbf (first 2,000 rows): numpy distances, median bandwidth, H K H;
- cka_minibatch (batches of 1,000): numpy unbiased HSIC per batch;
- rsa (first 2,000 rows): numpy cosine distances + scipy.stats.spearmanr;
- r2: numpy.linalg.lstsq with a bias column;
- svcca / pwcca / cca: numpy.linalg.svd of the centred rows, then the SVD of U_a^T U_b;
- feature_match: numpy correlations + scipy.optimize.linear_sum_assignment;
- lidar: numpy scatter matrices + scipy.linalg.eigh;
- collapse: numpy variances, covariance and singular values;
- kmeans (spherical, k = 10, 25 iterations): faiss.Kmeans (the same library
  through its own wrapper) and sklearn.cluster.KMeans(n_init=1, max_iter=25);
- nmi / ari: sklearn.metrics;
- silhouette (cosine, first 5,000 rows): sklearn.metrics.silhouette_score;
- prototype: sklearn.neighbors.NearestCentroid on normalised rows.
"""
import argparse
import statistics
import time

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.stats

import latent


def median_seconds(call, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def centred(x):
    x = x.astype(np.float64)
    return x - x.mean(0)


def numpy_cka(a, b):
    x, y = centred(a), centred(b)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def numpy_rbf_cka(a, b):
    def kernel(x):
        x = x.astype(np.float64)
        s = (x * x).sum(1)
        d2 = np.maximum(s[:, None] + s[None, :] - 2 * x @ x.T, 0)
        np.fill_diagonal(d2, 0)
        sigma = np.median(np.sqrt(d2[np.triu_indices(len(x), 1)]))
        k = np.exp(-d2 / (2 * sigma**2))
        return k - k.mean(0) - k.mean(1)[:, None] + k.mean()

    k, l_ = kernel(a), kernel(b)
    return np.sum(k * l_) / np.sqrt(np.sum(k * k) * np.sum(l_ * l_))


def numpy_unbiased_hsic(k, l_):
    m = len(k)
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l_, 0)
    kl1 = k @ l_.sum(1)
    return (np.sum(k * l_.T) + k.sum() * l_.sum() / ((m - 1) * (m - 2)) - 2 / (m - 2) * kl1.sum()) / (m * (m - 3))


def numpy_minibatch_cka(a, b, batch=1000, seed=0):
    order = np.random.default_rng(seed).permutation(len(a))
    cross = self_a = self_b = 0.0
    for start in range(0, len(a) - batch + 1, batch):
        x, y = centred(a[order[start:start + batch]]), centred(b[order[start:start + batch]])
        k, l_ = x @ x.T, y @ y.T
        cross += numpy_unbiased_hsic(k.copy(), l_.copy())
        self_a += numpy_unbiased_hsic(k.copy(), k.copy())
        self_b += numpy_unbiased_hsic(l_.copy(), l_.copy())
    return cross / np.sqrt(self_a * self_b)


def numpy_rsa(a, b):
    def upper(x):
        x = x.astype(np.float64)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return (1 - x @ x.T)[np.triu_indices(len(x), 1)]

    return scipy.stats.spearmanr(upper(a), upper(b)).correlation


def numpy_r2(a, b):
    x = np.hstack([a.astype(np.float64), np.ones((len(a), 1))])
    y = b.astype(np.float64)
    w, *_ = np.linalg.lstsq(x, y, rcond=None)
    return 1 - np.sum((y - x @ w) ** 2) / np.sum((y - y.mean(0)) ** 2)


def basis(x, variance=1.0):
    u, s, _ = np.linalg.svd(centred(x), full_matrices=False)
    var = s**2
    keep = var > 1e-12 * var[0]
    if variance < 1:
        keep[np.searchsorted(np.cumsum(var) / var.sum(), variance) + 1:] = False
    return u[:, keep]


def numpy_svcca(a, b, variance=0.99):
    return np.minimum(np.linalg.svd(basis(a, variance).T @ basis(b, variance), compute_uv=False), 1).mean()


def numpy_pwcca(a, b):
    if a.shape[1] > b.shape[1]:
        a, b = b, a
    ua = basis(a)
    p, rho, _ = np.linalg.svd(ua.T @ basis(b), full_matrices=False)
    weights = np.abs((ua @ p).T @ centred(a)).sum(1)
    return np.sum(weights * np.minimum(rho, 1)) / weights.sum()


def numpy_feature_match(a, b):
    def standardised(x):
        x = centred(x)
        return x / np.linalg.norm(x, axis=0)

    c = standardised(a).T @ standardised(b)
    rows, cols = scipy.optimize.linear_sum_assignment(c, maximize=True)
    return c[rows, cols].mean()


def numpy_lidar(x, y, delta=1e-4, eps=1e-8):
    x = x.astype(np.float64)
    classes = np.unique(y)
    means = np.stack([x[y == c].mean(0) for c in classes])
    between = (means - means.mean(0)).T @ (means - means.mean(0)) / (len(classes) - 1)
    w = x - means[np.searchsorted(classes, y)]
    within = w.T @ w / len(x) + delta * np.eye(x.shape[1])
    values, vectors = scipy.linalg.eigh(within)
    root = (vectors * values**-0.5) @ vectors.T
    lam = np.maximum(scipy.linalg.eigvalsh(root @ between @ root), 0)
    p = lam / lam.sum() + eps
    return np.exp(-np.sum(p * np.log(p)))


def numpy_collapse(x):
    x64 = x.astype(np.float64)
    c = np.cov(x64.T)
    v = np.diag(c)
    s = np.linalg.svd(x64, compute_uv=False)
    p = s / s.sum()
    return (np.mean(np.maximum(0, 1 - np.sqrt(v + 1e-4))), (np.sum(c**2) - np.sum(v**2)) / x.shape[1],
            int(np.sum(v > 0.01)), np.exp(-np.sum(p * np.log(p))))


def make_data(rows, dim):
    rng = np.random.default_rng(21)
    scale = 1.0 / (1.0 + 0.02 * np.arange(dim))
    a = (rng.standard_normal((rows, dim)) * scale).astype(np.float32)
    w = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    b = (a @ w + 0.5 * rng.standard_normal((rows, dim))).astype(np.float32)
    labels = np.argmax(a @ rng.standard_normal((dim, 10)), axis=1).astype(np.int64)
    return a, b, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated row names")
    args = parser.parse_args()
    a, b, labels = make_data(args.rows, args.dim)
    sample = min(2000, args.rows)
    a_s, b_s = a[:sample], b[:sample]
    normed = a / np.linalg.norm(a, axis=1, keepdims=True)

    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
    from sklearn.neighbors import NearestCentroid

    def sklearn_prototype():
        means = NearestCentroid().fit(a.astype(np.float64), labels).centroids_
        means /= np.linalg.norm(means, axis=1, keepdims=True)
        return np.mean(np.argmax(normed @ means.T, axis=1) == labels)

    def prototype():
        return latent.PrototypeClassifier().fit(a, labels).score(a, labels)["accuracy"]

    clusters = latent.kmeans(a, 10, spherical=True, seed=1)[1]
    silhouette_rows = min(5000, args.rows)
    rows = [
        ("cka", lambda: latent.linear_cka(a, b), "numpy", lambda: numpy_cka(a, b)),
        ("cka_rbf (2k rows)", lambda: latent.rbf_cka(a_s, b_s), "numpy", lambda: numpy_rbf_cka(a_s, b_s)),
        ("cka_minibatch", lambda: latent.minibatch_cka(a, b, 1000, 0), "numpy",
         lambda: numpy_minibatch_cka(a, b, 1000, 0)),
        ("rsa (2k rows)", lambda: latent.rsa(a_s, b_s), "numpy+scipy", lambda: numpy_rsa(a_s, b_s)),
        ("r2", lambda: latent.affine_r2(a, b), "numpy lstsq", lambda: numpy_r2(a, b)),
        ("svcca", lambda: latent.svcca(a, b), "numpy svd", lambda: numpy_svcca(a, b)),
        ("cca", lambda: latent.svcca(a, b, variance=1.0), "numpy svd", lambda: numpy_svcca(a, b, 1.0)),
        ("pwcca", lambda: latent.pwcca(a, b), "numpy svd", lambda: numpy_pwcca(a, b)),
        ("feature_match", lambda: latent.match_features(a, b)[2], "numpy+scipy", lambda: numpy_feature_match(a, b)),
        ("lidar", lambda: latent.lidar(a, labels), "numpy+scipy", lambda: numpy_lidar(a, labels)),
        ("collapse", lambda: latent.collapse_diagnostics(a)["rankme"], "numpy", lambda: numpy_collapse(a)[3]),
        ("kmeans spherical", lambda: latent.kmeans(a, 10, spherical=True, seed=1)[2], "faiss.Kmeans",
         lambda: faiss_kmeans(normed)),
        ("kmeans", lambda: latent.kmeans(a, 10, seed=1, max_points_per_centroid=0)[2], "sklearn KMeans",
         lambda: -KMeans(10, n_init=1, max_iter=25, random_state=1, algorithm="lloyd").fit(a).score(a)),
        ("nmi", lambda: latent.normalized_mutual_info(labels, clusters), "sklearn",
         lambda: normalized_mutual_info_score(labels, clusters)),
        ("ari", lambda: latent.adjusted_rand_index(labels, clusters), "sklearn",
         lambda: adjusted_rand_score(labels, clusters)),
        ("silhouette (5k rows)", lambda: latent.silhouette(a[:silhouette_rows], labels[:silhouette_rows]), "sklearn",
         lambda: silhouette_score(a[:silhouette_rows], labels[:silhouette_rows], metric="cosine")),
        ("prototype", prototype, "sklearn NearestCentroid", sklearn_prototype),
    ]
    only = {name for name in args.only.split(",") if name}
    print(f"{args.rows} x {args.dim} float32, {args.repeats} repeats, medians")
    print(f"{'measure':<22} {'latent s':>10} {'peer':<24} {'peer s':>10} {'peer/latent':>12} {'|difference|':>13}")
    for name, ours, peer_name, peer in rows:
        if only and name.split(" ")[0] not in only:
            continue
        ours_s, ours_v = median_seconds(ours, args.repeats)
        peer_s, peer_v = median_seconds(peer, args.repeats)
        print(f"{name:<22} {ours_s:>10.4f} {peer_name:<24} {peer_s:>10.4f} {peer_s / ours_s:>12.2f} "
              f"{abs(float(ours_v) - float(peer_v)):>13.2e}", flush=True)


def faiss_kmeans(rows):
    import faiss

    kmeans = faiss.Kmeans(rows.shape[1], 10, niter=25, seed=1, spherical=True, min_points_per_centroid=1)
    kmeans.train(np.ascontiguousarray(rows))
    return np.sum(np.max(rows @ kmeans.centroids.T, axis=1))


if __name__ == "__main__":
    main()
