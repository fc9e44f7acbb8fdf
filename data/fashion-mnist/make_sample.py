#!/usr/bin/python3
"""Cut the bundled Fashion-MNIST sample out of Debian's `dataset-fashion-mnist`.

    /usr/bin/python3 data/fashion-mnist/make_sample.py [--src DIR] [--out DIR] [--check]
    /usr/bin/python3 data/fashion-mnist/make_sample.py --full DIR

Writes (C order, little endian):

    images.npy   float32 [1000, 784]  test images 0..999 (t10k-images-idx3-ubyte)
    labels.npy   int64   [1000]       their classes 0..9 (t10k-labels-idx1-ubyte)

A row holds the 28 x 28 pixels of one image in file order (row by row), scaled
as float32(p) / float32(255), the convention of ann-benchmarks' fashion-mnist
set and of the reference values the tests compare with. With --check nothing is written: the
arrays are rebuilt and compared with the committed files byte for byte (exit 1
on a difference, 77 = skipped when numpy or the package is missing). Needs only
numpy (Debian: python3-numpy).

--full DIR writes the whole data set for the benchmarks instead (not committed):
train.npy float32 [60000, 784], test.npy float32 [10000, 784], and their labels
train_labels.npy / test_labels.npy (int64), with the same scaling.
"""
import argparse
import gzip
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError:  # --check is a test: without numpy it is skipped, not failed
    np = None

SKIP = 77  # the exit status CTest reads as "skipped"

ROWS = 1000


def package_folder():
    """The folder where dpkg put the package's *-ubyte.gz files, or None."""
    try:
        listing = subprocess.run(["dpkg", "-L", "dataset-fashion-mnist"],
                                 capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    hits = [p for p in listing if p.endswith("t10k-images-idx3-ubyte.gz")]
    return os.path.dirname(hits[0]) if hits else None


def read_idx(path):
    """An unsigned-byte IDX file: big-endian magic 0x000008NN (NN = ndim), sizes, bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic >> 8 != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {shape}")
    return data.reshape(shape)


def build(src):
    images = read_idx(os.path.join(src, "t10k-images-idx3-ubyte.gz"))[:ROWS]
    labels = read_idx(os.path.join(src, "t10k-labels-idx1-ubyte.gz"))[:ROWS]
    x = images.reshape(ROWS, 28 * 28).astype(np.float32) / np.float32(255)
    return {"images": np.ascontiguousarray(x, dtype="<f4"),
            "labels": np.ascontiguousarray(labels, dtype="<i8")}


def write_full(src, out):
    os.makedirs(out, exist_ok=True)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(os.path.join(src, prefix + "-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(src, prefix + "-labels-idx1-ubyte.gz"))
        x = images.reshape(len(images), 28 * 28).astype(np.float32) / np.float32(255)
        np.save(os.path.join(out, split + ".npy"), np.ascontiguousarray(x, dtype="<f4"))
        np.save(os.path.join(out, split + "_labels.npy"), np.ascontiguousarray(labels, dtype="<i8"))
        print(f"{out}/{split}.npy: float32 {list(x.shape)}")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=package_folder(),
                        help="folder of the IDX files (default: asked of dpkg)")
    parser.add_argument("--out", default=here, help="output folder (default: next to this script)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing")
    parser.add_argument("--full", metavar="DIR",
                        help="write the whole train and test sets to DIR (for the benchmarks)")
    args = parser.parse_args()
    if np is None:
        print("make_sample.py: numpy is missing (apt-get install python3-numpy)", file=sys.stderr)
        return SKIP if args.check else 1
    if not args.src and args.check:
        print("make_sample.py: dataset-fashion-mnist is not installed: check skipped", file=sys.stderr)
        return SKIP
    if not args.src:
        sys.exit("make_sample.py: --src: dataset-fashion-mnist is not installed "
                 "(apt-get install dataset-fashion-mnist)")
    if args.full:
        return write_full(args.src, args.full)
    arrays = build(args.src)
    status = 0
    for name, arr in arrays.items():
        path = os.path.join(args.out, name + ".npy")
        if args.check:
            same = os.path.exists(path) and np.array_equal(np.load(path), arr) \
                and np.load(path).dtype == arr.dtype
            print(f"{path}: {'identical' if same else 'DIFFERENT'}")
            status |= 0 if same else 1
        else:
            np.save(path, arr)
            print(f"{path}: {arr.dtype} {list(arr.shape)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
