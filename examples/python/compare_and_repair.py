#!/usr/bin/python3
"""Two encoders compared through relative representations, then the hubness of
one repaired: the demo's story in Python, on the bundled data.

Run from the repository root after building:
    PYTHONPATH=build/release/python python3 examples/python/compare_and_repair.py
"""
import pathlib
import sys

import numpy as np

import latent

data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "data") / "encoders"
a, b = np.load(data / "mlp_seed0.npy"), np.load(data / "mlp_seed1.npy")  # same 2000 images, two encoders
labels = np.load(data / "labels.npy")

anchors = latent.select_anchors(a, 128, seed=0)
scores = latent.compare(a, b, anchors=anchors, similarity=("cosine",), translate=("procrustes",))
for name in ("absolute", "cosine", "translated_procrustes"):
    print(f"{name:>22}: jaccard@10 {scores[name]['jaccard']:.3f}  top1 {scores[name]['top1']:.3f}")

report = latent.hubness(a, k=10, metric="l2", reduce="mp", candidates=50, labels=labels)
for stage in ("before", "after"):
    m = report[stage]
    print(f"{stage:>6}: k-skewness {m['k_skewness']:+.3f}  robinhood {m['robinhood']:.3f}  "
          f"knn accuracy {m['knn_accuracy']:.3f}")
