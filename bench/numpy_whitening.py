#!/usr/bin/python3
"""numpy's side of bench_whitening: np.cov + np.linalg.eigh (the fit of
BERT-whitening's reference code) and the projection, timed on the same shapes.

    /usr/bin/python3 bench/numpy_whitening.py [--data DIR] [--repeat 3]

DIR holds train.npy (Fashion-MNIST, 60000 x 784); the synthetic 100000 x 768 set
is drawn like bench_whitening's (same distribution, another generator). Prints
the median seconds of each stage. Threads: whatever numpy's BLAS uses by default
(set OPENBLAS_NUM_THREADS=1 for one).
"""
import argparse
import os
import time

import numpy as np


def median_seconds(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sets = []
    train = os.path.join(args.data, "train.npy")
    if args.data and os.path.exists(train):
        sets.append(("fashion-mnist", np.load(train)))
    rng = np.random.default_rng(11)
    scale = 1.0 / (1.0 + 0.05 * np.arange(768, dtype=np.float32))
    sets.append(("synthetic-768", (rng.standard_normal((100000, 768), dtype=np.float32) * scale + 0.3).astype(np.float32)))
    for name, x in sets:
        n, d = x.shape
        cov = np.cov(x, rowvar=False, bias=True)
        t_cov = median_seconds(lambda: np.cov(x, rowvar=False, bias=True), args.repeat)
        t_eigh = median_seconds(lambda: np.linalg.eigh(cov), args.repeat)
        values, vectors = np.linalg.eigh(cov)
        w = (vectors / np.sqrt(values)).astype(np.float32)
        mu = x.mean(axis=0)
        t_transform = median_seconds(lambda: (x - mu) @ w, args.repeat)
        print(f"{name} n={n} d={d}: np.cov {t_cov:.3f} s ({n * d * (d + 1) / t_cov * 1e-9:.1f} GFLOP/s as n d (d+1)), "
              f"eigh {t_eigh:.3f} s, fit {t_cov + t_eigh:.3f} s, transform (float32 matmul) {t_transform:.3f} s "
              f"({n / t_transform:.0f} rows/s)")


if __name__ == "__main__":
    main()
