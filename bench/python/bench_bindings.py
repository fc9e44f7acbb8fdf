#!/usr/bin/python3
"""Call overhead of the Python bindings: the same operation timed through
`import latent` and by the C++ Google Benchmark executables, on the same data,
threads, sizes and instruction set.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_bindings.py \
        [--data DIR] [--bench-dir DIR] [--rounds N] [--min-time S] [--threads T] [--queries Q]

Data: the first 10,000 rows of Fashion-MNIST's training images (and the first Q
test images as queries), from DIR/train.npy and DIR/test.npy as written by
`data/fashion-mnist/make_sample.py --full DIR` (run here when they are missing).

Operations (C++ row of bench/, Python call):
  knn        bench_knn  knn/l2/latent/...         latent.knn(base, query, k=10, metric="l2")
  fit        bench_whitening fit/latent/...      latent.Whitening().fit(x)
  transform  bench_whitening transform/.../k:784 Whitening.transform(x)
  reduce     bench_hubness hubness/reduce/mp/...  the native reducer's fit + transform of the
             50-candidate l2 graph of latent.knn (the C++ row reduces exact_candidate_graph's,
             same shape)
  pipeline   bench_hubness hubness/pipeline/mp/... latent.reduce_hubness(x, 10, "l2", "mp", 50)
             (skipped with a note when the executable has no such row)

Each round runs the C++ row once (one Google Benchmark repetition of at least
--min-time seconds, its mean time per iteration) and then the Python call the
same way (calls repeated for at least --min-time seconds, their mean), so that
both sides see the same machine load; the table gives the medians over the rounds
and overhead = Python / C++ - 1.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ROWS = 10000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "build", "release", "fashion-mnist-full"),
                        help="folder of train.npy / test.npy (written when missing)")
    parser.add_argument("--bench-dir", default=os.path.join(ROOT, "build", "release", "bench"),
                        help="folder of the C++ benchmark executables")
    parser.add_argument("--rounds", type=int, default=5, help="C++ / Python rounds per operation (median)")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=1000, help="query rows of the knn operation")
    parser.add_argument("--only", default="", help="comma-separated subset of: knn,fit,transform,reduce,pipeline")
    return parser.parse_args()


def ensure_data(folder):
    if all(os.path.exists(os.path.join(folder, f)) for f in ("train.npy", "test.npy")):
        return
    print(f"writing Fashion-MNIST to {folder} ...", file=sys.stderr)
    subprocess.run([sys.executable, os.path.join(ROOT, "data", "fashion-mnist", "make_sample.py"), "--full", folder],
                   check=True, stdout=subprocess.DEVNULL)


def cpp_time_ms(executable, options, row, min_time):
    """Mean real time per iteration (ms) of one repetition of `row`, or None when absent."""
    command = [executable] + options + [f"--benchmark_filter=^{row}/real_time$", "--benchmark_repetitions=1",
                                        f"--benchmark_min_time={min_time}", "--benchmark_format=json"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    if not result.stdout.strip():  # "Failed to match any benchmarks" goes to stderr, nothing to stdout
        return None
    runs = [b for b in json.loads(result.stdout)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not runs:
        return None
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[runs[0]["time_unit"]]
    return runs[0]["real_time"] * scale


def cpp_has_row(executable, options, row):
    command = [executable] + options + [f"--benchmark_filter=^{row}/real_time$", "--benchmark_list_tests=true"]
    return bool(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())


def python_time_ms(call, min_time):
    """Mean wall time per call (ms) over calls repeated for at least min_time seconds."""
    calls = 0
    start = time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed * 1e3 / calls


def operations(latent, args):
    """(name, executable, its options, row, Python call, note) for each operation."""
    isa = latent.active_isa()
    t = args.threads
    train = np.load(os.path.join(args.data, "train.npy"), mmap_mode="r")
    test = np.load(os.path.join(args.data, "test.npy"), mmap_mode="r")
    x = np.ascontiguousarray(train[:ROWS])
    queries = np.ascontiguousarray(test[:args.queries])
    data = f"--data={args.data}"
    shape = f"fashion-mnist/n:{ROWS}/d:784"

    fitted = latent.Whitening(threads=t).fit(x)
    ids, scores = latent.knn(x, k=50, metric="l2", threads=t)
    distances = scores.astype(np.float64)

    def reduce_graph():
        reducer = latent._latent._HubnessReducer("mp", 0, 1.0, t)
        return reducer.fit_transform(ids, distances, "l2", True, 10)

    return [
        ("knn", "bench_knn", [data, f"--rows={ROWS}", f"--queries={args.queries}"],
         f"knn/l2/latent/isa:{isa}/n:{ROWS}/d:784/q:{args.queries}/k:10/fashion-mnist/threads:{t}",
         lambda: latent.knn(x, queries, k=10, metric="l2", threads=t),
         f"knn l2, {args.queries} queries x {ROWS} rows, k=10"),
        ("fit", "bench_whitening", [data, f"--rows={ROWS}"],
         f"fit/latent/isa:{isa}/{shape}/threads:{t}",
         lambda: latent.Whitening(threads=t).fit(x), f"Whitening.fit, {ROWS} x 784"),
        ("transform", "bench_whitening", [data, f"--rows={ROWS}"],
         f"transform/latent/isa:{isa}/{shape}/k:784/threads:{t}",
         lambda: fitted.transform(x), f"Whitening.transform, {ROWS} x 784 -> 784"),
        ("reduce", "bench_hubness", [data, f"--rows={ROWS}", f"--threads={t}", "--end-to-end-max=0"],
         f"hubness/reduce/mp/n:{ROWS}/d:784/C:50/k:10/l2/fashion-mnist/threads:{t}",
         reduce_graph, f"mutual proximity of a {ROWS} x 50 graph, keep 10"),
        ("pipeline", "bench_hubness", [data, f"--rows={ROWS}", f"--threads={t}"],
         f"hubness/pipeline/mp/n:{ROWS}/d:784/C:50/k:10/l2/fashion-mnist/threads:{t}",
         lambda: latent.reduce_hubness(x, k=10, metric="l2", method="mp", candidates=50, threads=t),
         f"reduce_hubness mp, {ROWS} x 784, C=50, k=10"),
    ]


def main():
    args = parse_args()
    try:
        import latent
    except ImportError as error:
        sys.exit(f"bench_bindings.py: cannot import latent ({error}); put build/release/python on PYTHONPATH")
    ensure_data(args.data)
    wanted = set(filter(None, args.only.split(",")))
    print(f"latent {latent.__version__}, isa {latent.active_isa()}, threads {args.threads}, "
          f"{os.cpu_count()} cores, {args.rounds} rounds of >= {args.min_time} s")
    table = []
    for name, executable, options, row, call, what in operations(latent, args):
        if wanted and name not in wanted:
            continue
        path = os.path.join(args.bench_dir, executable)
        if not os.access(path, os.X_OK):
            table.append((what, None, None, f"no {executable} in {args.bench_dir}"))
            continue
        if not cpp_has_row(path, options, row):
            table.append((what, None, None, f"{executable} has no row {row}"))
            continue
        call()  # warm: the first call pays for lazy initialisation, as the C++ side's iteration estimate does
        cpp, py = [], []
        for _ in range(args.rounds):
            cpp.append(cpp_time_ms(path, options, row, args.min_time))
            py.append(python_time_ms(call, args.min_time))
        table.append((what, statistics.median(cpp), statistics.median(py), f"{executable} {row}"))
        print(f"  {name}: C++ {[round(v, 2) for v in cpp]} ms, Python {[round(v, 2) for v in py]} ms", flush=True)

    print()
    print(f"{'operation':48} {'C++ ms':>10} {'Python ms':>10} {'overhead':>9}")
    for what, cpp, py, source in table:
        if cpp is None:
            print(f"{what:48} {'-':>10} {'-':>10} {'-':>9}   ({source})")
        else:
            print(f"{what:48} {cpp:10.2f} {py:10.2f} {100 * (py / cpp - 1):+8.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
